"""Links sent by email.

Email verification and email change use signed, expiring tokens (nothing stored): each one
names the address it proves, so once the account's email changes, older links stop working.
Password reset tokens are single-use: only their SHA-256 is stored, with an expiry.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.accounts.errors import InvalidToken
from app.domain.accounts.models import PasswordResetToken, User
from app.domain.api_tokens.opaque import digest as token_digest

VERIFY_EMAIL = "verify-email"
CHANGE_EMAIL = "change-email"


class _ClockedSerializer(URLSafeTimedSerializer):
    """Signs with the injected `now` instead of the wall clock, so expiry is testable."""

    def __init__(self, secret_key: str, salt: str, now: datetime | None = None) -> None:
        super().__init__(secret_key, salt=salt)
        self._now = now

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        signer = super().make_signer(salt)
        if self._now is not None:
            timestamp = int(self._now.timestamp())
            signer.get_timestamp = lambda: timestamp  # type: ignore[method-assign]
        return signer  # type: ignore[return-value]


def _serializer(
    secret_key: str, purpose: str, now: datetime | None = None
) -> URLSafeTimedSerializer:
    # A salt per purpose: a verification link can never be replayed as an email-change link.
    return _ClockedSerializer(secret_key, salt=f"eventhall.{purpose}", now=now)


def sign(secret_key: str, purpose: str, payload: dict[str, Any], *, now: datetime) -> str:
    return _serializer(secret_key, purpose, now).dumps(payload)


def unsign(
    secret_key: str, purpose: str, token: str, *, max_age: int, now: datetime
) -> dict[str, Any]:
    """The payload of a valid token signed for `purpose` at most `max_age` seconds before `now`."""
    try:
        payload, signed_at = _serializer(secret_key, purpose).loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise InvalidToken("That link is not valid. Ask for a new one.") from exc
    if (now - signed_at).total_seconds() > max_age:
        raise InvalidToken("That link has expired. Ask for a new one.")
    if not isinstance(payload, dict):
        raise InvalidToken("That link is not valid. Ask for a new one.")
    return payload


def issue_reset_token(session: Session, user: User, *, now: datetime, ttl: timedelta) -> str:
    """A new single-use reset token for `user`; the raw value goes only into the email."""
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=token_digest(token), expires_at=now + ttl, created_at=now
        )
    )
    session.flush()
    return token


def usable_reset_token(session: Session, token: str, *, now: datetime) -> PasswordResetToken:
    """The stored token row, locked, if it is unused and unexpired; InvalidToken otherwise."""
    row = session.scalar(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == token_digest(token))
        .with_for_update()
    )
    if row is None or row.used_at is not None:
        raise InvalidToken("That reset link has already been used or is not valid.")
    if row.expires_at <= now:
        raise InvalidToken("That reset link has expired. Ask for a new one.")
    return row


def spend_reset_tokens(session: Session, user_id: int, *, now: datetime) -> None:
    """Mark every outstanding reset token of the user used (after a reset or password change)."""
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
