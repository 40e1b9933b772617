"""Deleting an account: personal data erased, the row kept so bookings stay consistent.

Bookings keep pointing at the (now anonymous) user row, so an organizer's records and
sales figures stay correct while nothing identifies the person any more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import phone, reauth
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import (
    ApplicationStatus,
    OAuthIdentity,
    OrganizerApplication,
    PasswordResetToken,
    RecoveryCode,
    Role,
    User,
    UserSession,
)
from app.domain.accounts.rate_limit import forget_subject, user_subject
from app.domain.api_tokens.models import PersonalToken, RefreshFamily
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking, Ticket

DELETED_NAME = "Deleted user"


def _has_live_events(session: Session, user: User, now: datetime) -> bool:
    live = (EventStatus.SUBMITTED, EventStatus.PUBLISHED)
    return bool(
        session.scalar(
            select(
                exists().where(
                    Event.organizer_id == user.id, Event.status.in_(live), Event.ends_at > now
                )
            )
        )
    )


def delete_account(
    session: Session,
    user: User,
    *,
    password: str,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Erase the user's personal data and end every session. Raises AccountError when the
    confirmation fails (the password; for an account without one, a recent proof of who they
    are, app/domain/accounts/reauth.py) or the account still has duties (admin role,
    upcoming events)."""
    reauth.require(user, password, now=now)
    if user.role == Role.ADMIN:
        raise AccountError(
            "Admins cannot delete their own account. Ask another admin to change your role.",
            code="admin_cannot_delete",
        )
    if user.role == Role.ORGANIZER and _has_live_events(session, user, now):
        raise AccountError(
            "You have upcoming events. Cancel or finish them before deleting your account.",
            code="has_live_events",
        )
    old_email = user.email
    user_id = user.id
    for model in (
        OAuthIdentity,
        UserSession,
        RecoveryCode,
        PasswordResetToken,
        PersonalToken,
        RefreshFamily,  # and its refresh tokens (ON DELETE CASCADE)
    ):
        session.execute(delete(model).where(model.user_id == user_id))
    session.execute(
        delete(OrganizerApplication).where(
            OrganizerApplication.user_id == user_id,
            OrganizerApplication.status == ApplicationStatus.PENDING,
        )
    )
    forget_subject(session, old_email, user_subject(user_id))
    phone.forget(session, user_id)
    session.execute(
        update(Ticket)
        .where(Ticket.booking_id.in_(select(Booking.id).where(Booking.user_id == user_id)))
        .values(holder_name=None)
    )
    user.name = DELETED_NAME
    user.email = f"deleted-{user_id}@invalid"
    user.phone = None
    user.password_hash = None
    user.organization_name = None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.email_verified_at = None
    user.preferences = {}
    user.deleted_at = now
    audit.record(session, "account.deleted", actor_id=user_id, target=user, ip=ip, now=now)
    session.flush()
