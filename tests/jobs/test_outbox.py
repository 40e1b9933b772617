"""The outbox: messages exist only if their transaction committed, and the worker delivers them."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.domain.notifications.mail import queue_email
from app.domain.outbox import OutboxMessage
from jobs.relay import deliver_pending
from jobs.worker import Worker


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
        deadline = time.monotonic() + 15
        while len(_eml_files(app)) == before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
    files = _eml_files(app)
    assert len(files) == before + 1
    assert "worker@example.test" in files[-1].read_text()
    db.expire_all()
    message = db.scalars(select(OutboxMessage)).one()
    assert message.processed_at is not None


async def _run(worker: Worker, stop: asyncio.Event) -> None:
    await worker.run(stop=stop)


def test_every_schedule_runs_through_the_worker(app: Flask, db) -> None:  # noqa: ANN001
    from jobs.schedules import SCHEDULES

    worker = Worker(app.config)
    for name in SCHEDULES:
        worker.run_schedule(name)
        worker.run_schedule(name)
