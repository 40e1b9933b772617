"""The outbox: messages exist only if their transaction committed, and the worker delivers them."""

from __future__ import annotations

import asyncio
import email
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.domain.accounts.models import AttemptOutcome
from app.domain.accounts.rate_limit import record
from app.domain.notifications.mail import queue_email
from app.domain.outbox import OutboxMessage
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.tiers import set_capacity
from app.domain.ticketing.waitlist import join_waitlist
from jobs.relay import deliver_pending
from jobs.worker import Worker
from tests.waiting import WAIT, wait_until


def _eml_files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


def test_rolled_back_message_never_exists(app: Flask, db) -> None:  # noqa: ANN001
    queue_email(db, to="a@example.test", subject="Hi", text="body")
    db.rollback()
    assert db.scalars(select(OutboxMessage)).all() == []


def test_deliver_pending_writes_eml_and_marks_done(app: Flask, db) -> None:  # noqa: ANN001
    before = len(_eml_files(app))
    queue_email(db, to="a@example.test", subject="Welcome", text="plain body", html="<p>html</p>")
    db.commit()
    assert deliver_pending(db, app.config) == 1
    db.commit()
    files = _eml_files(app)
    assert len(files) == before + 1
    parsed = email.message_from_bytes(files[-1].read_bytes())
    assert parsed["To"] == "a@example.test"
    assert parsed["Subject"] == "Welcome"
    assert deliver_pending(db, app.config) == 0, "a delivered message is not sent again"


def test_failed_delivery_is_kept_for_retry(app: Flask, db) -> None:  # noqa: ANN001
    config = {**app.config, "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9}
    message = queue_email(db, to="a@example.test", subject="Hi", text="x")
    db.commit()
    assert deliver_pending(db, config) == 0
    db.commit()
    db.refresh(message)
    assert message.processed_at is None
    assert message.attempts == 1
    assert message.last_error
    assert deliver_pending(db, config) == 0, "not retried before its retry time"


def test_worker_relays_through_pgqueuer_and_delivers(app: Flask, db) -> None:  # noqa: ANN001
    before = len(_eml_files(app))
    queue_email(db, to="worker@example.test", subject="From the worker", text="queued")
    db.commit()

    worker = Worker(app.config)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(_run(worker, stop)), daemon=True
    )
    thread.start()
    try:
        wait_until(lambda: len(_eml_files(app)) > before, what="the worker to write the mail")
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(WAIT)
    files = _eml_files(app)
    assert len(files) == before + 1
    assert "worker@example.test" in files[-1].read_text()
    db.expire_all()
    message = db.scalars(select(OutboxMessage)).one()
    assert message.processed_at is not None


async def _run(worker: Worker, stop: asyncio.Event) -> None:
    await worker.run(stop=stop)


def test_every_schedule_runs_through_the_worker(
    app: Flask,
    db,  # noqa: ANN001
    make_event,  # noqa: ANN001
    make_tier,  # noqa: ANN001
    make_user,  # noqa: ANN001
    now,  # noqa: ANN001
    monkeypatch,  # noqa: ANN001
) -> None:
    """Each schedule's task runs through the worker on work that is due, its changes are
    committed, and a second run finds nothing left to do."""
    from jobs import schedules

    make_event(starts_at=now - timedelta(hours=3))  # ended an hour ago: to complete
    make_event(sold_count=5)  # nothing sold: the count to correct
    record(  # an attempt older than any limit looks back: to prune
        db,
        "login",
        subject="old@example.test",
        network=None,
        outcome=AttemptOutcome.FAILED,
        now=now - timedelta(days=2),
    )
    tier = make_tier(capacity=1, price_minor=1000)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    # A unit offered to the one waiting an hour ago: the offer has run out, to expire.
    set_capacity(db, tier, 2, now=now - timedelta(hours=1))
    db.commit()

    counts: dict[str, list[int]] = {}
    for name, schedule in schedules.SCHEDULES.items():

        def counted(session, when, task=schedule.task, name=name) -> int:  # noqa: ANN001
            counts.setdefault(name, []).append(task(session, when))
            return counts[name][-1]

        monkeypatch.setitem(schedules.SCHEDULES, name, replace(schedule, task=counted))
    worker = Worker(app.config)
    for name in schedules.SCHEDULES:
        worker.run_schedule(name)
        worker.run_schedule(name)
    assert counts.keys() == schedules.SCHEDULES.keys()
    assert all(len(runs) == 2 and runs[1] == 0 for runs in counts.values()), counts
    due = {
        "advance_waitlists": 1,
        "refresh_sold_counts": 1,
        "complete_past_events": 1,
        "prune_attempts": 1,
    }
    assert {name: counts[name][0] for name in due} == due
