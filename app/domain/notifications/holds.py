"""The "your hold is about to run out" message: a buyer who left checkout gets a link back
about `WARN_BEFORE` before their hold ends.

Queued by a sweep (`schedule_hold_warnings`, every minute in jobs/schedules.py), not by the
transaction that makes the hold: a ticket rush's hold transaction stays one claim and one
booking insert (a due-dated message per hold would add two inserts to each, for a message most
buyers, paying within a minute or two, never get: it is skipped once they pay). The sweep
reads the pending holds ending within `LOOKAHEAD` over the partial index of pending holds
(`ix_bookings_pending_expiry`, the one hold expiry uses) and queues, for each hold long enough
to warn about (`MIN_HOLD`), one mail and its in-app copy keyed
`booking:<id>:hold_expiring:email`, due `WARN_BEFORE` before the end (or at once when that has
passed but `MIN_LEFT` remains). The key makes repeated or concurrent sweeps add each once.

At send time (messages.py) the message is skipped when the booking is no longer pending, its
hold is gone, has run out or is about to (`MIN_LEFT`), or ends later than the warning was for
(the hold was extended).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.notifications.models import Channel, Notification
from app.domain.notifications.queue import notify_user
from app.domain.ticketing.models import Booking, BookingStatus

KIND = "hold_expiring"
WARN_BEFORE = timedelta(minutes=2)
# A shorter hold gets no warning: the buyer is still at checkout.
MIN_HOLD = timedelta(minutes=5)
# With less left than this, a warning arrives after the hold is gone.
MIN_LEFT = timedelta(seconds=30)
# The sweep runs every minute: it queues warnings a little more than a run ahead of their moment.
LOOKAHEAD = WARN_BEFORE + timedelta(minutes=2)
# At send time, a hold ending later than this was extended after its warning was queued.
LATEST_END = WARN_BEFORE + timedelta(minutes=1)


def schedule_hold_warnings(session: Session, now: datetime) -> int:
    """Queue the warnings of the pending holds ending within `LOOKAHEAD`; return how many were
    added (the caller commits)."""
    key = func.concat("booking:", Booking.id, f":{KIND}:{Channel.EMAIL.value}")
    rows = session.execute(
        select(Booking.id, Booking.event_id, Booking.hold_expires_at, User.id, User.email)
        .join(User, User.id == Booking.user_id)
        .where(
            Booking.status == BookingStatus.PENDING,
            Booking.hold_expires_at >= now + MIN_LEFT,
            Booking.hold_expires_at <= now + LOOKAHEAD,
            Booking.hold_expires_at - Booking.created_at >= MIN_HOLD,
            User.deleted_at.is_(None),
            ~exists().where(Notification.key == key),
        )
        .order_by(Booking.hold_expires_at)
    ).all()
    added = 0
    for booking_id, event_id, expires_at, user_id, email in rows:
        added += notify_user(
            session,
            kind=KIND,
            about=("booking", booking_id),
            user_id=user_id,
            email=email,
            now=now,
            due_at=max(expires_at - WARN_BEFORE, now),
            payload={"booking_id": booking_id, "event_id": event_id},
        )
    return added
