"""Event reminders 24 hours and 1 hour before the start, by email and in-app (and from there
SMS and push, fan_out.py): exactly once per booking per offset.

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

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.preferences import REMINDERS
from app.domain.notifications.queue import notification_key

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


# A row per confirmed booking of a live account for a published event starting between
# `earliest` and `latest` whose reminder is not queued yet: a mail (written skipped when its
# user turned reminders off for email) or an in-app copy (whose preference the worker checks).
_QUEUE = text(
    "INSERT INTO notifications (key, kind, channel, user_id, recipient, payload, status, "
    "last_error, due_at, attempts, created_at) "
    "SELECT 'booking:' || b.id || :suffix, :kind, :channel, u.id, "
    "CASE WHEN :by_mail THEN u.email END, "
    "jsonb_build_object('booking_id', b.id, 'event_id', e.id), "
    "CASE WHEN p.enabled IS FALSE THEN 'skipped' ELSE 'pending' END, "
    "CASE WHEN p.enabled IS FALSE THEN :turned_off END, "
    "GREATEST(e.starts_at - :offset, :now), 0, :now "
    "FROM events e JOIN bookings b ON b.event_id = e.id JOIN users u ON u.id = b.user_id "
    "LEFT JOIN notification_preferences p ON :by_mail AND p.user_id = u.id "
    "AND p.topic = :topic AND p.channel = 'email' "
    "WHERE e.status = 'published' AND e.starts_at BETWEEN :earliest AND :latest "
    "AND b.status = 'confirmed' AND u.deleted_at IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.key = 'booking:' || b.id || :suffix) "
    "ON CONFLICT (key) DO NOTHING"
)


def schedule_reminders(session: Session, now: datetime) -> int:
    """Queue the reminders (each a mail and its in-app copy) of the bookings of events starting
    within `LOOKAHEAD`; return how many mails were added (the caller commits). One INSERT ...
    SELECT per reminder and channel, however many bookings; those whose reminder exists are
    passed over by their key (the unique index), so a sweep that finds nothing new is cheap."""
    added = 0
    for kind, offset in OFFSETS.items():
        for channel in (Channel.EMAIL, Channel.IN_APP):
            result = session.execute(
                _QUEUE,
                {
                    "suffix": f":{kind}:{channel.value}",
                    "kind": kind,
                    "channel": channel.value,
                    "by_mail": channel is Channel.EMAIL,
                    "topic": REMINDERS,
                    "turned_off": f"{REMINDERS} turned off",
                    "offset": offset,
                    "now": now,
                    "earliest": now + MIN_LEAD[kind],
                    "latest": now + LOOKAHEAD,
                },
            )
            if channel is Channel.EMAIL:
                added += result.rowcount
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
