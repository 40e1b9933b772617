"""Admins suspend and reactivate accounts, and reset a user's second factor.

A suspension ends every session of the user, blocks every way of logging in (password,
sign-in providers, the code step), hides their published events from the public pages
(`events.hidden_at`, not deleted) and releases their pending holds the way a cancelled hold
is released. Reactivation lifts the block and shows the events that are still published;
released holds stay released.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import RecoveryCode, Role, User
from app.domain.accounts.sessions import revoke_user_sessions
from app.domain.base import NotFound
from app.domain.events.changes import announce_events
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from app.domain.ticketing.waitlist import OfferSettings

REASON_MAX = 500


def _target(session: Session, user_id: int, admin: User) -> User:
    """The user an admin acts on, locked; never the admin themselves or another admin."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that user.")
    if user.id == admin.id:
        raise AccountError("You cannot do this to your own account.", code="own_account")
    if user.role == Role.ADMIN:
        raise AccountError(
            "Admins cannot be suspended or reset by another admin.", code="admin_account"
        )
    return user


def clean_reason(reason: str) -> str:
    """The reason as stored: required, collapsed whitespace, at most REASON_MAX characters."""
    text = " ".join(reason.split())
    if not text:
        raise AccountError("Give a reason: the user reads it.", code="reason", field="reason")
    if len(text) > REASON_MAX:
        raise AccountError(
            f"Keep the reason under {REASON_MAX} characters.", code="reason", field="reason"
        )
    return text


def suspend(
    session: Session,
    user_id: int,
    *,
    admin: User,
    reason: str,
    now: datetime,
    ip: str | None = None,
    offers: OfferSettings | None = None,
) -> User:
    """Suspend the user: sessions end, events hidden, waitlist places given up, holds
    released. Returns the user."""
    text = clean_reason(reason)
    user = _target(session, user_id, admin)
    if user.is_suspended:
        raise AccountError("This account is already suspended.", code="already_suspended")
    user.suspended_at = now
    user.suspended_reason = text
    user.suspended_by_id = admin.id
    sessions_ended = revoke_user_sessions(session, user.id, now=now)
    hidden = list(
        session.scalars(
            update(Event)
            .where(
                Event.organizer_id == user.id,
                Event.status == EventStatus.PUBLISHED,
                Event.hidden_at.is_(None),
            )
            .values(hidden_at=now)
            .returning(Event.id)
        )
    )
    # Before the holds go: a released unit is offered to the queue, which must not be them.
    left_queues = list(
        session.scalars(
            update(WaitlistEntry)
            .where(WaitlistEntry.user_id == user.id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .values(status=WaitlistStatus.LEFT)
            .returning(WaitlistEntry.id)
        )
    )
    pending = list(
        session.scalars(
            select(Booking)
            .where(Booking.user_id == user.id, Booking.status == BookingStatus.PENDING)
            .order_by(Booking.id)
        )
    )
    for booking in pending:
        cancel_booking(session, booking, actor_id=admin.id, now=now, offers=offers)
    announce_events(session, hidden)
    audit.record(
        session,
        "user.suspended",
        actor_id=admin.id,
        target=user,
        ip=ip,
        now=now,
        before={"suspended_at": None, "reason": None},
        after={"suspended_at": now, "reason": text},
        reason=text,
        sessions_ended=sessions_ended,
        events_hidden=sorted(hidden),
        holds_released=[booking.id for booking in pending],
        waitlists_left=sorted(left_queues),
    )
    session.flush()
    return user


def reactivate(
    session: Session, user_id: int, *, admin: User, now: datetime, ip: str | None = None
) -> User:
    """Lift a suspension: the user may log in again and their published events show again."""
    user = _target(session, user_id, admin)
    if not user.is_suspended:
        raise AccountError("This account is not suspended.", code="not_suspended")
    before = {
        "suspended_at": user.suspended_at,
        "reason": user.suspended_reason,
        "by": user.suspended_by_id,
    }
    user.suspended_at = None
    user.suspended_reason = None
    user.suspended_by_id = None
    shown = list(
        session.scalars(
            update(Event)
            .where(Event.organizer_id == user.id, Event.hidden_at.is_not(None))
            .values(hidden_at=None)
            .returning(Event.id)
        )
    )
    announce_events(session, shown)
    audit.record(
        session,
        "user.reactivated",
        actor_id=admin.id,
        target=user,
        ip=ip,
        now=now,
        before=before,
        after={"suspended_at": None, "reason": None, "by": None},
        events_shown=sorted(shown),
    )
    session.flush()
    return user


def reset_two_factor(
    session: Session, user_id: int, *, admin: User, now: datetime, ip: str | None = None
) -> User:
    """Turn the user's second factor off (secret and recovery codes gone): at their next
    login they enroll again (organizers must, before their dashboard)."""
    user = _target(session, user_id, admin)
    if not user.has_2fa:
        raise AccountError("This user has no two-factor authentication to reset.", code="no_2fa")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # A session that passed the old second factor must not outlive it.
    revoke_user_sessions(session, user.id, now=now)
    audit.record(session, "2fa.reset_by_admin", actor_id=admin.id, target=user, ip=ip, now=now)
    session.flush()
    return user
