"""Emailed invitations: the rules door staff's (`checkin.staff`) and an organizer's team's
(`teams.membership`) share.

The token travels only in the mail (and its queued message); the table keeps its SHA-256. An
invitation lasts `INVITATION_TTL`, is used at most once and only by the signed-in account with
the invited, verified address; inviting the address again for the same thing withdraws the
earlier link. One organizer sends at most `INVITATIONS_PER_DAY`: each one mails an address the
organizer typed, so the cap is what keeps the site from being a spam relay.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.domain.accounts.models import User
from app.domain.api_tokens.opaque import digest
from app.domain.base import DomainError, NotFound
from app.domain.notifications.models import Channel
from app.domain.notifications.queue import notification_key, notify

INVITATION_TTL = timedelta(days=7)
INVITATIONS_PER_DAY = 50
INVITATIONS_WINDOW = timedelta(days=1)

UNKNOWN_INVITATION = "That invitation link is not valid. Ask the organizer for a new one."


class Invitation(Protocol):
    id: Any
    email: Any
    token_hash: Any
    created_at: Any
    expires_at: Any
    accepted_at: Any
    revoked_at: Any


I = TypeVar("I", bound=Invitation)  # noqa: E741


class InvitationError(DomainError):
    """A rule about invitations refused the request; `field` names the form field."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class InvitationForAnotherAccount(InvitationError):
    """The signed-in account's address is not the one invited: nothing is granted."""

    code = "another_account"

    def __init__(self, invited: str) -> None:
        self.invited_hint = masked_email(invited)
        super().__init__(
            f"This invitation is for {self.invited_hint}, not for the account you are signed "
            "in with. Log out and sign in with that address to accept it."
        )


class InvitationNeedsVerifiedEmail(InvitationError):
    code = "email_not_verified"

    def __init__(self) -> None:
        super().__init__(
            "Confirm your email address first (open the link we sent you, or send a new one "
            "from your profile), then open this invitation again."
        )


class InvitationClosed(InvitationError):
    """An invitation that can no longer be accepted: expired, revoked or already used."""


class InvitationExpired(InvitationClosed):
    code = "expired"

    def __init__(self) -> None:
        super().__init__("This invitation has expired. Ask the organizer for a new one.")


class InvitationRevoked(InvitationClosed):
    code = "revoked"

    def __init__(self) -> None:
        super().__init__("The organizer withdrew this invitation.")


class InvitationUsed(InvitationClosed):
    code = "used"

    def __init__(self) -> None:
        super().__init__("This invitation has already been accepted.")


class TooManyInvitations(InvitationError):
    code = "too_many_invitations"

    def __init__(self) -> None:
        super().__init__(
            f"You have sent {INVITATIONS_PER_DAY} invitations in the last day. Try again tomorrow.",
            field="email",
        )


def masked_email(email: str) -> str:
    """Enough of an address for its owner to recognise it: `j***@example.test`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def check_daily_cap(
    session: Session, sender: InstrumentedAttribute[int], sender_id: int, now: datetime
) -> None:
    """Refuse a new invitation from `sender_id` (the column `sender` of an invitation table)
    past the day's cap. The sender's row stays locked to the end of the transaction, so the
    count and the withdrawal of an earlier link stay exact under double clicks."""
    session.execute(select(User.id).where(User.id == sender_id).with_for_update(key_share=True))
    model = sender.class_
    sent = session.scalar(
        select(func.count())
        .select_from(model)
        .where(sender == sender_id, model.created_at > now - INVITATIONS_WINDOW)
    )
    if (sent or 0) >= INVITATIONS_PER_DAY:
        raise TooManyInvitations()


def replace_pending(
    session: Session, model: type[I], email: str, now: datetime, *same: ColumnElement[bool]
) -> tuple[str, dict[str, Any]]:
    """Withdraw the pending invitations of `email` matching `same`, and return a new token
    with the columns of its invitation (its hash, creation and expiry)."""
    for pending in session.scalars(
        select(model).where(
            *same,
            func.lower(model.email) == email.lower(),
            model.accepted_at.is_(None),
            model.revoked_at.is_(None),
        )
    ):
        pending.revoked_at = now
    token = secrets.token_urlsafe(32)
    columns = {
        "email": email,
        "token_hash": digest(token),
        "created_at": now,
        "expires_at": now + INVITATION_TTL,
    }
    return token, columns


def mail(session: Session, kind: str, invitation: Invitation, link: str, now: datetime) -> None:
    """Queue the invitation's mail in this transaction. It goes to the address, which may
    have no account yet: no in-app copy."""
    notify(
        session,
        key=notification_key(kind, Channel.EMAIL, kind, invitation.id),
        kind=kind,
        channel=Channel.EMAIL,
        now=now,
        recipient=invitation.email,
        payload={"invitation_id": invitation.id, "link": link},
    )


def find_by_token(session: Session, model: type[I], token: str, *, lock: bool = False) -> I:
    """The invitation a link's token names (NotFound for any other string)."""
    query = select(model).where(model.token_hash == digest(token))
    if lock:
        query = query.with_for_update(of=model)
    invitation = session.scalar(query)
    if invitation is None:
        raise NotFound(UNKNOWN_INVITATION)
    return invitation


def check_acceptable(invitation: Invitation, user: User, now: datetime) -> None:
    """Raise the reason `user` cannot accept `invitation` now, if any."""
    if invitation.revoked_at is not None:
        raise InvitationRevoked()
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    if invitation.expires_at <= now:
        raise InvitationExpired()
    if user.email.lower() != invitation.email.lower():
        raise InvitationForAnotherAccount(invitation.email)
    if user.email_verified_at is None:
        raise InvitationNeedsVerifiedEmail()
