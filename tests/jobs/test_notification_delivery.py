"""Sending notifications through a real SMTP server (aiosmtpd, in the test): the booking
confirmation with its tickets, retries, bounces, template errors, racing and killed workers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, func, select, text

from app.domain.notifications import delivery, messages
from app.domain.notifications.models import (
    Channel,
    FailingAddress,
    Notification,
    NotificationStatus,
)
from app.domain.notifications.queue import notification_key, notify
from app.domain.ticketing.models import Ticket
from app.domain.tickets.signing import public_key, verify
from jobs.notifications import deliver_due
from tests.domain.test_events_calendar import _unfolded
from tests.domain.test_ticket_pdf import read_back
from tests.smtp_sink import SmtpSink
from tests.waiting import WAIT, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _sessions(app: Flask):  # noqa: ANN202
    return app.extensions["db"].session


def _rows(db, channel: Channel = Channel.EMAIL, **where) -> list[Notification]:  # noqa: ANN001, ANN003
    """The notifications on `channel` (mail: the in-app copies are the in-app tests' concern)."""
    db.expire_all()
    query = select(Notification).filter_by(channel=channel, **where)
    return list(db.scalars(query.order_by(Notification.id)))


def _queue_payment_failed(db, payment_id: int, count: int, now: datetime) -> None:  # noqa: ANN001
    """`count` distinct messages (their own keys) about one payment: cheap to render."""
    for number in range(count):
        notify(
            db,
            key=notification_key("payment_failed", Channel.EMAIL, "test", number),
            kind="payment_failed",
            channel=Channel.EMAIL,
            now=now,
            recipient=f"buyer{number}@example.test",
            payload={"payment_id": payment_id},
        )
    db.commit()


def _failed_payment(db, make_seated_booking, now):  # noqa: ANN001, ANN202
    from app.domain.payments import checkout
    from app.domain.payments.events import apply_event
    from app.integrations.payments.base import EventKind, ProviderEvent

    booking = make_seated_booking(price_minor=2500, quantity=1)
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    ref = f"demo_{payment.id}"
    checkout.record_checkout(db, payment.id, provider_ref=ref, checkout_url="https://x")
    event = ProviderEvent(
        event_id=f"evt_fail_{payment.id}",
        kind=EventKind.FAILED,
        provider_ref=ref,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        payload={"failure_message": "The card was declined."},
    )
    apply_event(db, "demo", event, now=now)
    # These tests follow the mail; in-app copies are tests/domain/test_notifications_in_app.py's.
    db.execute(delete(Notification).where(Notification.channel == Channel.IN_APP))
    db.commit()
    return payment


def test_booking_confirmation_arrives_with_scannable_pdf_and_calendar_entry(
    app: Flask, db, now, make_user, make_seated_booking, smtp_sink: SmtpSink, tmp_path
) -> None:
    # 19:30 in Berlin in winter is 18:30 UTC: the mail shows the event's own clock.
    starts = datetime(now.year + 1, 1, 15, 18, 30, tzinfo=UTC)
    buyer = make_user(name="Clara Buyer", email="clara@example.test")
    booking = make_seated_booking(
        buyer=buyer, title="Quartet at the Lyric", starts_at=starts, ends_at=starts.replace(hour=20)
    )
    db.commit()
    (queued,) = _rows(db, kind="booking_confirmed")
    assert queued.key == f"booking:{booking.id}:booking_confirmed:email"
    assert queued.recipient == "clara@example.test"

    # The mail and its in-app copy.
    assert deliver_due(_sessions(app), smtp_sink.config(app.config), now=now) == 2
    (message,) = smtp_sink.messages
    assert message["To"] == "clara@example.test"
    (copy,) = _rows(db, Channel.IN_APP, kind="booking_confirmed")
    assert (copy.user_id, copy.status) == (buyer.id, NotificationStatus.SENT)
    assert message["Message-ID"] == delivery.message_id(queued.key, app.config)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Quartet at the Lyric" in body and booking.reference in body
        assert "19:30 (Europe/Berlin)" in body
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    pdf = attachments[f"tickets-{booking.reference}.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    codes, _ = read_back(pdf.get_content(), tmp_path)
    public = public_key(db, booking.event_id, now=now)
    tickets = db.scalars(select(Ticket.id).where(Ticket.booking_id == booking.id)).all()
    assert [len(page) for page in codes] == [1, 1]
    assert {verify(page[0], booking.event_id, public).ticket_id for page in codes} == set(tickets)
    ics = attachments[f"{booking.reference}.ics"]
    assert ics.get_content_type() == "text/calendar"
    properties = _unfolded(ics.get_payload(decode=True).decode())
    assert properties["DTSTART"] == starts.strftime("%Y%m%dT%H%M%SZ")
    assert properties["SUMMARY"] == "Quartet at the Lyric"
    assert _rows(db)[0].status == NotificationStatus.SENT
    assert deliver_due(_sessions(app), smtp_sink.config(app.config), now=now) == 0


def test_unreachable_smtp_is_retried_with_backoff_then_delivered(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    payment = _failed_payment(db, make_seated_booking, now)
    (row,) = _rows(db, kind="payment_failed")
    config = smtp_sink.config(app.config)
    smtp_sink.stop()

    at = now
    for attempt in (1, 2, 3):
        assert deliver_due(_sessions(app), config, now=at) == 1
        (row,) = _rows(db)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, attempt)
        assert "SMTP unreachable" in (row.last_error or "")
        assert row.due_at == at + delivery.retry_delay(attempt)
        assert deliver_due(_sessions(app), config, now=row.due_at - timedelta(seconds=1)) == 0
        at = row.due_at
    assert delivery.retry_delay(2) == 2 * delivery.retry_delay(1)

    smtp_sink.start()
    assert deliver_due(_sessions(app), config, now=at) == 1
    (row,) = _rows(db)
    assert row.status == NotificationStatus.SENT and row.attempts == 4
    (message,) = smtp_sink.messages
    assert "did not go through" in str(message["Subject"])
    assert "The card was declined." in message.get_body(("plain",)).get_content()
    assert payment.id == row.payload["payment_id"]


def test_out_of_tries_the_row_fails_with_its_error(app: Flask, db, now, make_seated_booking):
    payment = _failed_payment(db, make_seated_booking, now)
    config = {**app.config, "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9}
    at = now
    for _ in range(delivery.MAX_ATTEMPTS):
        assert deliver_due(_sessions(app), config, now=at) == 1
        at += delivery.BACKOFF_CAP
    (row,) = _rows(db)
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == delivery.MAX_ATTEMPTS and "SMTP unreachable" in (row.last_error or "")

    assert delivery.retry(db, row.id, actor_id=None, now=at) is not None  # an admin's retry
    db.commit()
    (row,) = _rows(db)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 0)
    assert payment.id == row.payload["payment_id"]


def test_a_refused_recipient_marks_the_address_failing(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    payment = _failed_payment(db, make_seated_booking, now)
    _queue_payment_failed(db, payment.id, 2, now)
    smtp_sink.refuse["buyer0@example.test"] = "550 5.1.1 No such user"
    assert deliver_due(_sessions(app), smtp_sink.config(app.config), now=now) == 3

    by_recipient = {row.recipient: row for row in _rows(db)}
    bounced = by_recipient["buyer0@example.test"]
    assert bounced.status == NotificationStatus.FAILED and "550" in (bounced.last_error or "")
    assert by_recipient["buyer1@example.test"].status == NotificationStatus.SENT
    (failing,) = db.scalars(select(FailingAddress)).all()
    assert (failing.address, failing.notification_id) == ("buyer0@example.test", bounced.id)
    assert [row.id for row in delivery.failed(db)] == [bounced.id]  # on the admins' list

    # A later message to it is not tried.
    notify(
        db,
        key="later",
        kind="payment_failed",
        channel=Channel.EMAIL,
        now=now,
        recipient="buyer0@example.test",
        payload={"payment_id": payment.id},
    )
    db.commit()
    assert deliver_due(_sessions(app), smtp_sink.config(app.config), now=now) == 1
    assert _rows(db, key="later")[0].status == NotificationStatus.SKIPPED
    assert len(smtp_sink.messages) == 2


def test_a_template_error_fails_only_its_row(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink, monkeypatch
) -> None:
    payment = _failed_payment(db, make_seated_booking, now)
    broken = messages.Kind(
        "no_such_template", "Broken", messages.KINDS["payment_failed"].build, lambda c, n: None
    )
    monkeypatch.setitem(messages.KINDS, "no_such_template", broken)
    notify(
        db,
        key="broken",
        kind="no_such_template",
        channel=Channel.EMAIL,
        now=now - timedelta(seconds=1),  # first in line
        recipient="someone@example.test",
        payload={"payment_id": payment.id},
    )
    db.commit()
    assert deliver_due(_sessions(app), smtp_sink.config(app.config), now=now) == 2
    statuses = {row.kind: row.status for row in _rows(db)}
    assert statuses == {
        "no_such_template": NotificationStatus.FAILED,
        "payment_failed": NotificationStatus.SENT,
    }
    assert "TemplateNotFound" in (_rows(db, key="broken")[0].last_error or "")
    assert len(smtp_sink.messages) == 1


def test_two_workers_racing_send_each_message_once(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    payment = _failed_payment(db, make_seated_booking, now)
    _queue_payment_failed(db, payment.id, 200, now)
    config = smtp_sink.config(app.config)
    start = threading.Barrier(2)
    counts: list[int] = []

    def work() -> None:
        start.wait()
        counts.append(deliver_due(_sessions(app), config, limit=1000))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT)
    assert sum(counts) == 201 and all(counts), counts  # both took part
    ids = smtp_sink.message_ids()
    assert len(ids) == 201 and len(set(ids)) == 201
    sent = db.scalar(select(func.count()).where(Notification.status == NotificationStatus.SENT))
    assert sent == 201


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice_on_restart(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    payment = _failed_payment(db, make_seated_booking, now)
    _queue_payment_failed(db, payment.id, 200, now)
    settings = {
        key: app.config[key] for key in ("MAIL_FROM", "SITE_NAME", "BASE_URL", "DATABASE_URL")
    }
    script = (
        "import json, sys\n"
        "from app.db import Database\n"
        "from jobs.notifications import deliver_due\n"
        "config = json.loads(sys.argv[1])\n"
        "database = Database(config['DATABASE_URL'], pool_size=1)\n"
        "while deliver_due(database.session, config): pass\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(smtp_sink.config(settings))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_until(lambda: len(smtp_sink.messages) >= 40, what="the worker to be mid-batch")
        worker.send_signal(signal.SIGKILL)
        worker.wait(WAIT)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert len(smtp_sink.messages) < 201, "killed before it finished"

    # On restart the one in flight waits for its lease; after it, everything goes.
    later = datetime.now(UTC) + delivery.LEASE + timedelta(seconds=1)
    while deliver_due(_sessions(app), smtp_sink.config(app.config), now=later):
        pass
    rows = _rows(db)
    assert {row.status for row in rows} == {NotificationStatus.SENT}
    ids = smtp_sink.message_ids()
    expected = {delivery.message_id(row.key, app.config) for row in rows}
    assert set(ids) == expected, "every message delivered"
    # The only possible repeat is the message the provider had accepted when the worker died,
    # before its outcome was committed; it carries the same Message-ID.
    assert len(ids) - len(set(ids)) <= 1


def test_without_the_locked_claim_two_workers_send_the_same_message(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink, monkeypatch
) -> None:
    """The control of the race test: a claim that only reads (no lock, no lease) lets both
    workers take the same row, and the recipient gets it twice."""
    payment = _failed_payment(db, make_seated_booking, now)
    both_read = threading.Barrier(2)

    def unlocked_claim(session, *, now):  # noqa: ANN001, ANN202
        row = session.execute(
            select(Notification.id, Notification.attempts)
            .where(Notification.status == NotificationStatus.PENDING, Notification.due_at <= now)
            .order_by(Notification.due_at)
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        both_read.wait(timeout=WAIT)  # each worker claims once (limit=1)
        return delivery.Claim(id=row.id, attempt=row.attempts)

    monkeypatch.setattr(delivery, "claim_next", unlocked_claim)
    config = smtp_sink.config(app.config)
    workers = [
        threading.Thread(target=lambda: deliver_due(_sessions(app), config, now=now, limit=1))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT)
    (row,) = _rows(db)
    assert row.payload["payment_id"] == payment.id
    assert len(smtp_sink.messages) == 2, "the same message went out twice"


def test_the_worker_process_sends_due_notifications(
    app: Flask, db, now, make_seated_booking, smtp_sink: SmtpSink
) -> None:
    import asyncio

    from jobs.worker import Worker

    _failed_payment(db, make_seated_booking, now)
    worker = Worker(smtp_sink.config(app.config))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(worker.run(stop=stop)), daemon=True
    )
    thread.start()
    try:
        wait_until(lambda: smtp_sink.messages, what="the worker to send the mail")
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(WAIT)
    assert _rows(db)[0].status == NotificationStatus.SENT


def test_the_claim_reads_the_partial_index_of_pending_rows_at_a_realistic_fill(db, now) -> None:  # noqa: ANN001
    """With 30,000 sent rows and a few pending, the claim walks the pending index in due
    order (no sort, no scan of sent rows)."""
    db.execute(
        text(
            "INSERT INTO notifications (key, kind, channel, recipient, status, due_at, sent_at,"
            " created_at) SELECT 'sent:' || n, 'payment_failed', 'email', 'x@example.test',"
            " CASE WHEN n % 10000 = 0 THEN 'pending'"
            " ELSE 'sent' END, :now, :now, :now"
            " FROM generate_series(1, 30000) AS n"
        ),
        {"now": now},
    )
    db.commit()
    db.execute(text("ANALYZE notifications"))
    plan = "\n".join(
        db.scalars(
            text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM notifications WHERE status = 'pending'"
                " AND due_at <= :now ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED"
            ),
            {"now": now},
        )
    )
    assert "ix_notifications_due" in plan and "Sort" not in plan, plan
    executed = plan.split("Planning:")[0]  # the planner's own catalog reads aside
    hits = [int(n) for n in re.findall(r"shared hit=(\d+)", executed)]
    assert hits and max(hits) < 20, plan
    assert delivery.claim_next(db, now=now) is not None
