"""Admins approve or reject submitted events; the organizer is told either way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound
from app.domain.events.errors import invalid
from app.domain.events.lifecycle import REASON_MAX, require_status
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.mail import queue_email


def moderation_queue(session: Session) -> list[Event]:
    """Submitted events, the longest waiting first."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.status == EventStatus.SUBMITTED)
            .options(joinedload(Event.organizer), joinedload(Event.category))
            .order_by(Event.submitted_at, Event.id)
        )
    )


def get_submitted_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id, with_for_update=True)
    if event is None:
        raise NotFound("We could not find that event.")
    return event


def clean_reason(reason: str) -> str:
    """A required, bounded explanation the organizer will read."""
    reason = reason.strip()
    if not reason:
        raise invalid("reason", "Explain the decision so the organizer can act on it.")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"The reason must be at most {REASON_MAX} characters.")
    return reason


def approve_event(session: Session, event: Event, *, admin: User, now: datetime) -> Event:
    """Publish a submitted event."""
    require_status(event, {EventStatus.SUBMITTED}, "approved")
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    event.rejection_reason = None
    event.updated_at = now
    session.flush()
    record(session, "event.approved", actor_id=admin.id, target=event, now=now)
    queue_email(
        session,
        to=event.organizer.email,
        subject=f"Published: {event.title}",
        text=f"Your event “{event.title}” was approved and is now public.",
    )
    return event


def reject_event(
    session: Session, event: Event, *, admin: User, reason: str, now: datetime
) -> Event:
    """Send a submitted event back to its organizer with the reason."""
    reason = clean_reason(reason)
    require_status(event, {EventStatus.SUBMITTED}, "rejected")
    _send_back(session, event, reason=reason, now=now)
    record(session, "event.rejected", actor_id=admin.id, target=event, now=now, reason=reason)
    return event


def unpublish_event(
    session: Session, event: Event, *, admin: User, reason: str, now: datetime
) -> Event:
    """Take a published event off the site; the organizer sees why and may fix and resubmit."""
    reason = clean_reason(reason)
    require_status(event, {EventStatus.PUBLISHED}, "unpublished")
    _send_back(session, event, reason=reason, now=now)
    record(session, "event.unpublished", actor_id=admin.id, target=event, now=now, reason=reason)
    return event


def _send_back(session: Session, event: Event, *, reason: str, now: datetime) -> None:
    event.status = EventStatus.REJECTED
    event.rejection_reason = reason
    event.updated_at = now
    session.flush()
    queue_email(
        session,
        to=event.organizer.email,
        subject=f"Changes needed: {event.title}",
        text=(
            f"Your event “{event.title}” is not public.\n\nReason: {reason}\n\n"
            "Edit it from your dashboard and submit it again."
        ),
    )
