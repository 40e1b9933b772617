"""Event reminders by email, 24 hours and 1 hour before the start: exactly once per booking
per offset.

A sweep (`schedule_reminders`, every minute in jobs/schedules.py) queues, for every confirmed
booking of a published event starting within `LOOKAHEAD`, one row per offset with the key
`booking:<id>:reminder_24h:email` (and `reminder_1h`) and its in-app copy, due at the start
minus the offset, or at once when that moment has passed but the reminder still makes sense
(`MIN_LEAD` before the start): a booking made two hours before the start gets the 1 hour
reminder only. The insert does nothing on a key that exists, so repeated sweeps, restarted
workers and two workers sweeping at once add each reminder once.

The key is the whole guarantee: a reminder once queued (sent, skipped or pending) is never
queued again for that booking and offset, even if the event's time changes afterwards. When the
time changes (`follow_event`, in the transaction that changes it) the reminders still pending
and never tried move with the start; a reminder already sent is not sent again. At send time
the message (messages.py) is skipped when the booking is no longer confirmed, the event is not
published or has started, it is too late for that reminder, or the user turned reminders off
on that channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import notification_key, notify_user
from app.domain.ticketing.models import Booking, BookingStatus

# kind -> how long before the start it is due
OFFSETS: dict[str, timedelta] = {
    "reminder_24h": timedelta(hours=24),
    "reminder_1h": timedelta(hours=1),
}
# kind -> the least time before the start at which it is still worth sending (queued late, or
# the event moved earlier): a "tomorrow" mail three hours before the start says nothing new.
MIN_LEAD: dict[str, timedelta] = {
    "reminder_24h": timedelta(hours=3),
    "reminder_1h": timedelta(minutes=10),
}
# Reminders are queued this long ahead of their moment (well over a sweep's interval).
# The sweep finds a booking's reminder by its key: keep in step with `reminder_key`.
MARGIN = timedelta(hours=1)
LOOKAHEAD = max(OFFSETS.values()) + MARGIN


def reminder_key(kind: str, booking_id: int) -> str:
    return notification_key(kind, Channel.EMAIL, "booking", booking_id)


def due_at(kind: str, starts_at: datetime, now: datetime) -> datetime | None:
    """When the reminder of `kind` for an event starting at `starts_at` goes; None when it is
    too late for it."""
    if starts_at - now < MIN_LEAD[kind]:
        return None
    return max(starts_at - OFFSETS[kind], now)


def schedule_reminders(session: Session, now: datetime) -> int:
    """Queue the reminders of the bookings of events starting within `LOOKAHEAD`; return how
    many were added (the caller commits). Bookings whose reminder exists are left out by the
    query (the unique index on `key`), so a sweep that finds nothing new is cheap."""
    added = 0
    for kind in OFFSETS:
        key = func.concat("booking:", Booking.id, f":{kind}:{Channel.EMAIL.value}")
        rows = session.execute(
            select(Booking.id, Event.id, Event.starts_at, User.id, User.email)
            .join(Event, Event.id == Booking.event_id)
            .join(User, User.id == Booking.user_id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= now + MIN_LEAD[kind],
                Event.starts_at <= now + LOOKAHEAD,
                Booking.status == BookingStatus.CONFIRMED,
                User.deleted_at.is_(None),
                ~exists().where(Notification.key == key),
            )
            .order_by(Booking.id)
        ).all()
        for booking_id, event_id, starts_at, user_id, email in rows:
            when = due_at(kind, starts_at, now)
            assert when is not None  # the query keeps the events still far enough
            added += notify_user(
                session,
                kind=kind,
                about=("booking", booking_id),
                user_id=user_id,
                email=email,
                now=now,
                due_at=when,
                payload={"booking_id": booking_id, "event_id": event_id},
            )
    return added


def follow_event(session: Session, event: Event, now: datetime) -> int:
    """Move the event's pending reminders with its (changed) start, in the caller's
    transaction; return how many moved. Only rows never tried are moved: a row with attempts
    may be in a worker's hands (its lease is its `due_at`), or retrying after a failure."""
    moved = 0
    for kind, offset in OFFSETS.items():
        result = session.execute(
            update(Notification)
            .where(
                Notification.kind == kind,
                Notification.status == NotificationStatus.PENDING,
                Notification.attempts == 0,
                Notification.payload["event_id"].as_integer() == event.id,
            )
            .values(due_at=max(event.starts_at - offset, now))
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount
    return moved
