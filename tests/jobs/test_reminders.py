"""Event reminders 24 hours and 1 hour before the start, with the clock passed in: queued once per
booking and offset whatever the number of sweeps or workers, sent once through a real SMTP
server with one-click unsubscribe, following a moved start, skipped when no longer wanted."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from app.domain.notifications import preferences
from app.domain.notifications.messages import unsubscribe_headers
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.reminders import follow_event, reminder_key, schedule_reminders
from app.domain.ticketing.models import Booking, BookingStatus
from jobs.notifications import deliver_due
from tests.smtp_sink import SmtpSink
from tests.waiting import WAIT

H = timedelta(hours=1)


def _sessions(app: Flask):  # noqa: ANN202
    return app.extensions["db"].session


def _reminders(db, channel: Channel = Channel.EMAIL) -> list[Notification]:  # noqa: ANN001
    db.expire_all()
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.kind.in_(["reminder_24h", "reminder_1h"]),
                Notification.channel == channel,
            )
            .order_by(Notification.id)
        )
    )


def _sweep(app: Flask, at: datetime) -> int:
    with _sessions(app)() as session:
        added = schedule_reminders(session, at)
        session.commit()
    return added


def _reminder_mails(sink: SmtpSink) -> list:  # noqa: ANN001
    return [m for m in sink.messages if str(m["Subject"]).startswith("Reminder:")]


def _booking(db, make_seated_booking, starts: datetime, **fields) -> Booking:  # noqa: ANN001, ANN003
    booking = make_seated_booking(starts_at=starts, ends_at=starts + 2 * H, **fields)
    assert booking.status == BookingStatus.CONFIRMED
    db.commit()
    return booking


def test_sweeps_at_several_times_queue_one_row_per_booking_and_offset(
    app: Flask, db, now, make_seated_booking, monkeypatch
) -> None:
    starts = now + 30 * H
    booking = _booking(db, make_seated_booking, starts)
    assert _sweep(app, now) == 0  # 30 h ahead: not yet
    for at in (starts - 25 * H, starts - 24 * H, starts - 2 * H):
        for _ in range(3):
            _sweep(app, at)
    rows = _reminders(db)
    assert [(r.key, r.due_at) for r in rows] == [
        (reminder_key("reminder_24h", booking.id), starts - 24 * H),
        (reminder_key("reminder_1h", booking.id), starts - H),
    ]
    assert rows[0].key == f"booking:{booking.id}:reminder_24h:email"
    assert all(r.status == NotificationStatus.PENDING for r in rows)
    copies = _reminders(db, Channel.IN_APP)
    assert [(r.key, r.due_at) for r in copies] == [
        (f"booking:{booking.id}:reminder_24h:in_app", starts - 24 * H),
        (f"booking:{booking.id}:reminder_1h:in_app", starts - H),
    ]
    assert _sweep(app, starts - 2 * H) == 0


def test_a_booking_made_two_hours_before_gets_only_the_one_hour_reminder(
    app: Flask, db, now, make_seated_booking
) -> None:
    _booking(db, make_seated_booking, now + 2 * H)
    _sweep(app, now)
    (row,) = _reminders(db)
    assert row.kind == "reminder_1h" and row.due_at == now + H
    late = _booking(db, make_seated_booking, now + timedelta(minutes=30))
    _sweep(app, now)
    assert [r.kind for r in _reminders(db)] == ["reminder_1h", "reminder_1h"]
    assert _reminders(db)[1].due_at == now  # the hour has passed: at once
    assert _reminders(db)[1].key == reminder_key("reminder_1h", late.id)


def test_two_workers_sweeping_at_once_add_each_reminder_once(
    app: Flask, db, now, make_seated_booking
) -> None:
    bookings = [_booking(db, make_seated_booking, now + 20 * H) for _ in range(8)]
    start = threading.Barrier(2)
    added: list[int] = []

    def work() -> None:
        start.wait()
        added.append(_sweep(app, now))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT)
    assert sorted(added) and sum(added) == 16, added
    keys = [r.key for r in _reminders(db)]
    assert len(keys) == 16 == len(set(keys))
    assert {reminder_key("reminder_1h", b.id) for b in bookings} <= set(keys)


def test_the_worker_sends_each_reminder_once_with_one_click_unsubscribe(
    app: Flask, db, now, make_user, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    buyer = make_user(name="Rita Reminded", email="rita@example.test")
    starts = now + 25 * H
    booking = _booking(db, make_seated_booking, starts, buyer=buyer, title="Late Trio")
    config = smtp_sink.config(app.config)
    _sweep(app, now)
    deliver_due(_sessions(app), config, now=now)  # the booking confirmation; nothing due yet
    assert _reminder_mails(smtp_sink) == []

    for at in (starts - 24 * H, starts - 24 * H + timedelta(minutes=5)):
        _sweep(app, at)
        deliver_due(_sessions(app), config, now=at)
    (day_before,) = _reminder_mails(smtp_sink)
    assert day_before["To"] == "rita@example.test"
    assert day_before["Subject"] == "Reminder: Late Trio starts tomorrow"
    text = day_before.get_body(("plain",)).get_content()
    assert booking.reference in text and f"/account/bookings/{booking.reference}/tickets" in text
    headers = unsubscribe_headers(config, buyer.id, preferences.REMINDERS, Channel.EMAIL)
    assert day_before["List-Unsubscribe"] == headers["List-Unsubscribe"]
    assert day_before["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith(f"<{app.config['BASE_URL'].rstrip('/')}/unsub")

    for at in (starts - H, starts - H + timedelta(minutes=1), starts - timedelta(minutes=30)):
        _sweep(app, at)
        deliver_due(_sessions(app), config, now=at)
    assert [m["Subject"] for m in _reminder_mails(smtp_sink)] == [
        "Reminder: Late Trio starts tomorrow",
        "Reminder: Late Trio starts in an hour",
    ]
    assert {r.status for r in _reminders(db)} == {NotificationStatus.SENT}


def test_a_moved_start_moves_pending_reminders_and_a_sent_one_is_not_sent_again(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    starts = now + 25 * H
    booking = _booking(db, make_seated_booking, starts)
    config = smtp_sink.config(app.config)
    _sweep(app, starts - 24 * H)
    deliver_due(_sessions(app), config, now=starts - 24 * H)
    assert len(_reminder_mails(smtp_sink)) == 1

    moved = starts + 3 * H  # the organizer's change is approved: three hours later
    event = booking.event
    event.starts_at, event.ends_at = moved, moved + 2 * H
    # The pending 1 h reminder and its in-app copy.
    assert follow_event(db, event, starts - 20 * H) == 2
    db.commit()
    assert _reminders(db)[1].due_at == moved - H

    for at in (starts - H, moved - 24 * H, moved - H):  # the old hour, the new day before
        _sweep(app, at)
        deliver_due(_sessions(app), config, now=at)
        if at == starts - H:
            assert len(_reminder_mails(smtp_sink)) == 1  # not at the old time
    assert [m["Subject"].split(" starts ")[1] for m in _reminder_mails(smtp_sink)] == [
        "tomorrow",
        "in an hour",
    ]
    assert len(_reminders(db)) == 2


def test_a_cancelled_booking_or_reminders_turned_off_are_skipped(
    app: Flask, db, now, make_user, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    starts = now + 20 * H
    cancelled = _booking(db, make_seated_booking, starts)
    quiet = make_user()
    turned_off_later = make_user()
    off = _booking(db, make_seated_booking, starts, buyer=quiet)
    later = _booking(db, make_seated_booking, starts, buyer=turned_off_later)
    preferences.save_choices(db, quiet.id, {(preferences.REMINDERS, Channel.EMAIL): False}, now=now)
    db.commit()
    _sweep(app, now)
    # Off before the sweep: written skipped, its key taken.
    by_key = {r.key: r for r in _reminders(db)}
    assert by_key[reminder_key("reminder_1h", off.id)].status == NotificationStatus.SKIPPED

    db.get(Booking, cancelled.id).status = BookingStatus.CANCELLED
    preferences.save_choices(
        db, turned_off_later.id, {(preferences.REMINDERS, Channel.EMAIL): False}, now=now
    )
    db.commit()
    config = smtp_sink.config(app.config)
    for at in (starts - 24 * H, starts - H):
        _sweep(app, at)
        deliver_due(_sessions(app), config, now=at)
    assert _reminder_mails(smtp_sink) == []
    rows = _reminders(db)
    assert len(rows) == 6 and {r.status for r in rows} == {NotificationStatus.SKIPPED}
    reasons = {r.key: r.last_error for r in rows}
    assert reasons[reminder_key("reminder_24h", cancelled.id)] == (
        "the booking is no longer confirmed"
    )
    assert reasons[reminder_key("reminder_1h", later.id)] == "reminders turned off on email"


def test_approving_a_new_start_moves_the_pending_reminders_in_the_same_transaction(
    db, make_user, now
) -> None:  # noqa: ANN001
    from app.domain.accounts.models import Role
    from app.domain.events.editing import create_event, update_event
    from app.domain.events.lifecycle import submit_event
    from app.domain.events.moderation import approve_event, approve_revision
    from app.domain.notifications.queue import notify
    from tests.domain.test_events_editing import DAY, valid_input

    organizer, admin = make_user(role=Role.ORGANIZER), make_user(role=Role.ADMIN)
    event = create_event(db, organizer, valid_input(), now=now)
    submit_event(db, event, actor=organizer, now=now)
    approve_event(db, event, admin=admin, version=event.version, now=now)
    for kind, offset in (("reminder_24h", 24 * H), ("reminder_1h", H)):
        notify(
            db,
            key=f"test:{kind}",
            kind=kind,
            channel=Channel.EMAIL,
            now=now,
            due_at=event.starts_at - offset,
            recipient="someone@example.test",
            payload={"booking_id": 0, "event_id": event.id},
        )
    sent, pending = _reminders(db)
    sent.status = NotificationStatus.SENT
    day = DAY + timedelta(days=1)
    revision = update_event(
        db,
        event,
        valid_input(
            starts_local=datetime.combine(day, datetime.min.time().replace(hour=20)),
            ends_local=datetime.combine(day, datetime.min.time().replace(hour=22)),
        ),
        actor=organizer,
        now=now,
    )
    assert revision is not None
    old_due = sent.due_at
    approve_revision(db, revision, admin=admin, now=now)
    sent, pending = _reminders(db)
    assert pending.due_at == event.starts_at - H
    assert sent.due_at == old_due and sent.status == NotificationStatus.SENT
