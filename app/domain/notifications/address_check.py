"""Taking an address off the failing list once its owner shows that mail reaches it again.

A permanent failure stops every message to the address (delivery.py). Its owner may have fixed
the mailbox, or the refusal was the receiving server's passing mistake: they ask for a check
link, mailed straight to the address, and opening it proves the mail arrived. The link is
signed for this purpose, names the account and the address, and does nothing once the account's
address has changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.errors import InvalidToken
from app.domain.accounts.models import User
from app.domain.accounts.tokens import sign, unsign
from app.domain.notifications.models import Channel, FailingAddress

PURPOSE = "mail-works"


def check_token(secret_key: str, user: User, *, now: datetime) -> str:
    """The token of a check link for the user's current address."""
    return sign(secret_key, PURPOSE, {"user": user.id, "email": user.email.lower()}, now=now)


def confirm_works(
    session: Session, secret_key: str, token: str, *, max_age: int, now: datetime
) -> User:
    """Take the address the token names off the failing list (again is fine); InvalidToken when
    the link is forged, expired, or its account or address is no longer the same."""
    payload = unsign(secret_key, PURPOSE, token, max_age=max_age, now=now)
    user_id, email = payload.get("user"), payload.get("email")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.deleted_at is not None or user.email.lower() != email:
        raise InvalidToken("That link is not valid any more. Ask for a new one.")
    cleared = session.execute(
        delete(FailingAddress).where(
            FailingAddress.channel == Channel.EMAIL, FailingAddress.address == email
        )
    ).rowcount
    if cleared:
        audit.record(session, "notification.address_works", actor_id=user.id, target=user, now=now)
    return user
