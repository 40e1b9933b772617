"""An event's life: draft -> submitted -> published | rejected; published -> cancelled | completed.

Moderation (approve, reject, unpublish) lives in moderation.py, changes to published events in
revisions.py; every change is audited. Cancelling is final (see `cancel_event`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound, utcnow
from app.domain.events import revisions
from app.domain.events.errors import EventError, invalid
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.queue import notify_user
from app.domain.outbox import enqueue
from app.domain.payments.refunds import REFUND_CANCELLED_EVENT_TOPIC
from app.domain.ticketing import sale_gate
from app.domain.ticketing.cancellation import CancelledSales, cancel_sales
from app.domain.ticketing.locking import busy_on_lock_timeout

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


def lock_event(session: Session, event: Event) -> Event:
    """Re-read the event under its row lock (waiting for a transaction changing it).

    FOR NO KEY UPDATE: it serializes the event's writers without holding up bookings, whose
    foreign key takes a KEY SHARE lock on the row.
    """
    with busy_on_lock_timeout():
        locked = session.get(
            Event, event.id, with_for_update={"key_share": True}, populate_existing=True
        )
    if locked is None:
        raise NotFound("We could not find that event.")
    return locked


def cancel_event(
    session: Session,
    event: Event,
    *,
    actor: User,
    now: datetime,
    reason: str = "",
) -> CancelledSales:
    """Cancel a published event, for good: every hold and booking is cancelled (tickets void,
    units released), its waitlists close, and each person affected is told once, by mail.

    The event's sale gate is locked first (`sale_gate.close`): sales in flight finish and are
    cancelled with the rest; later ones wait, then are refused. A second cancellation (a retry,
    or one racing this) then finds the event cancelled and changes nothing. `reason` is the
    organizer's note to ticket holders (in the mail, sent by the worker after the commit).
    """
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"The message must be at most {REASON_MAX} characters.")
    sale_gate.close(session, event.id)
    event = lock_event(session, event)
    require_status(event, {EventStatus.PUBLISHED}, "cancelled")
    before = {"status": event.status, "cancellation_note": event.cancellation_note}
    if event.ends_at <= now:
        raise EventError("This event is over: it can no longer be cancelled.")
    event.status = EventStatus.CANCELLED
    event.cancellation_note = reason or None
    event.updated_at = now
    session.flush()
    revisions.close_pending(session, event.id)
    sales = cancel_sales(session, event.id, actor_id=actor.id, now=now)
    if sales.refund_due:
        # Paid bookings are refunded by the worker, after this commits (resumable, once each).
        enqueue(session, REFUND_CANCELLED_EVENT_TOPIC, {"event_id": event.id})
    record(
        session,
        "event.cancelled",
        actor_id=actor.id,
        target=event,
        now=now,
        before=before,
        after={"status": event.status, "cancellation_note": event.cancellation_note},
        reason=reason,
        bookings=sales.bookings,
        refund_due=sales.refund_due,
        waitlist_closed=sales.waitlist_closed,
    )
    for person in sales.people:
        # Keyed by event and person: a second cancellation (it changes nothing) adds no mail.
        notify_user(
            session,
            kind="event_cancelled",
            about=("event", event.id, "user", person.user_id),
            user_id=person.user_id,
            email=person.email,
            now=now,
            payload={
                "event_id": event.id,
                "user_id": person.user_id,
                "references": person.references,
                "refunded": person.refunded,
                "waitlisted": person.waitlisted,
            },
        )
    return sales


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
