"""An event's life: draft -> submitted -> published | rejected; published -> cancelled | completed.

Moderation (approve, reject, unpublish) lives in moderation.py; every change is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import utcnow
from app.domain.events.errors import EventError
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.mail import queue_email
from app.domain.ticketing.models import Booking, BookingStatus

REASON_MAX = 2000


def require_status(event: Event, allowed: set[EventStatus], action: str) -> None:
    """Refuse `action` unless the event is in one of the `allowed` states."""
    if event.status not in allowed:
        raise EventError(f"A {event.status.value} event cannot be {action}.")


def submit_event(session: Session, event: Event, *, actor: User, now: datetime) -> Event:
    """Send a draft (or a rejected event, after edits) to the moderation queue."""
    require_status(event, {EventStatus.DRAFT, EventStatus.REJECTED}, "submitted for review")
    if event.starts_at <= now:
        raise EventError("This event has already started: change its dates before submitting.")
    event.status = EventStatus.SUBMITTED
    event.submitted_at = now
    event.updated_at = now
    session.flush()
    record(session, "event.submitted", actor_id=actor.id, target=event, now=now)
    return event


def cancel_event(
    session: Session, event: Event, *, actor: User, now: datetime, reason: str = ""
) -> Event:
    """Cancel a published event and tell everyone holding a booking for it."""
    require_status(event, {EventStatus.PUBLISHED}, "cancelled")
    reason = reason.strip()[:REASON_MAX]
    event.status = EventStatus.CANCELLED
    event.updated_at = now
    session.flush()
    record(session, "event.cancelled", actor_id=actor.id, target=event, now=now, reason=reason)
    holders = session.scalars(
        select(User.email)
        .join(Booking, Booking.user_id == User.id)
        .where(
            Booking.event_id == event.id,
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.PENDING]),
            User.deleted_at.is_(None),
        )
        .distinct()
    )
    for email in holders:
        queue_email(
            session,
            to=email,
            subject=f"Cancelled: {event.title}",
            text=(
                f"The organizer has cancelled “{event.title}”.\n"
                + (f"\nTheir note: {reason}\n" if reason else "")
                + "\nYour booking will be refunded where a payment was made."
            ),
        )
    return event


def complete_past_events(session: Session, now: datetime | None = None) -> int:
    """Mark published events that have ended as completed; returns how many changed.

    Idempotent, for the worker's schedule: a second run finds nothing left to do.
    """
    now = now or utcnow()
    ended = session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for event in ended:
        event.status = EventStatus.COMPLETED
        event.updated_at = now
        record(session, "event.completed", actor_id=None, target=event, now=now)
    session.flush()
    return len(ended)
