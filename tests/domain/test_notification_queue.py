"""A notification is queued once per idempotency key, in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import notification_key, notify


def test_the_same_key_queues_one_message(db, now, make_user):
    user = make_user()
    key = notification_key("booking_confirmed", Channel.EMAIL, "booking", 42)
    assert key == "booking:42:booking_confirmed:email"
    later = now + timedelta(hours=1)
    first = notify(
        db,
        key=key,
        kind="booking_confirmed",
        channel=Channel.EMAIL,
        now=now,
        due_at=later,
        user_id=user.id,
        recipient=user.email,
        payload={"booking_id": 42},
    )
    again = notify(db, key=key, kind="booking_confirmed", channel=Channel.EMAIL, now=now)
    assert (first, again) == (True, False)
    rows = db.scalars(select(Notification)).all()
    assert len(rows) == 1
    (row,) = rows
    assert (row.status, row.due_at, row.recipient, row.payload) == (
        NotificationStatus.PENDING,
        later,
        user.email,
        {"booking_id": 42},
    )


def test_nothing_is_queued_when_the_cause_rolls_back(db, now):
    savepoint = db.begin_nested()
    notify(
        db,
        key="event:1:event_cancelled:email",
        kind="event_cancelled",
        channel=Channel.EMAIL,
        now=now,
    )
    savepoint.rollback()
    assert db.scalar(select(func.count()).select_from(Notification)) == 0
