"""Moving committed outbox messages to where they are acted on.

`relay_to_queue` is the worker's path: in one transaction it turns pending outbox rows into
pgqueuer jobs and marks them relayed, so each message becomes exactly one job.
`deliver_pending` acts on pending messages directly; tests and one-off commands use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg
from pgqueuer.adapters.drivers.psycopg import SyncPsycopgDriver
from pgqueuer.adapters.persistence.queries import SyncQueries
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.outbox import OutboxMessage
from app.observability import logs
from app.observability.metrics import JOB_FAILURES
from app.observability.tracing import job_span
from jobs.handlers import dispatch

log = logging.getLogger(__name__)
OUTBOX_ENTRYPOINT = "outbox"
BATCH = 200


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2**attempts))


def deliver_message(
    session: Session, config: Mapping[str, Any], message: OutboxMessage, now: datetime
) -> bool:
    """Act on one message; on failure record the error and schedule a retry. True if done."""
    message.attempts += 1
    where = {"topic": message.topic, "outbox_id": message.id}
    # Lines logged while handling it carry the id of the request that queued it.
    with logs.context(request=message.request_id), job_span(f"outbox {message.topic}", **where):
        try:
            with session.begin_nested():  # a handler that fails leaves nothing behind
                dispatch(session, config, message.topic, message.payload)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            log.warning("outbox message %s failed: %s", message.id, exc, extra=where)
            JOB_FAILURES.labels(message.topic).inc()
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.available_at = now + _retry_delay(message.attempts)
            message.relayed_at = None
            return False
        log.info("outbox message %s handled: %s", message.id, message.topic, extra=where)
    message.processed_at = now
    message.last_error = None
    return True


def deliver_pending(
    session: Session, config: Mapping[str, Any], *, now: datetime | None = None
) -> int:
    """Deliver every pending, due outbox message; return how many succeeded. Caller commits."""
    now = now or utcnow()
    messages = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.processed_at.is_(None),
            OutboxMessage.relayed_at.is_(None),
            OutboxMessage.available_at <= now,
        )
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
    ).all()
    return sum(deliver_message(session, config, message, now) for message in messages)


def relay_to_queue(conn: psycopg.Connection) -> int:
    """Turn due outbox rows into pgqueuer jobs, atomically. `conn` must be in autocommit mode."""
    queries = SyncQueries(SyncPsycopgDriver(conn))
    with conn.transaction():
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM outbox WHERE processed_at IS NULL AND relayed_at IS NULL "
                "AND available_at <= now() ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (BATCH,),
            )
        ]
        if not ids:
            return 0
        queries.enqueue(
            [OUTBOX_ENTRYPOINT] * len(ids),
            [str(i).encode() for i in ids],
            [0] * len(ids),
            dedupe_key=[f"outbox:{i}" for i in ids],
            on_conflict="skip",
        )
        # The job then marks delivery (or schedules the retry) on the same row.
        conn.execute("UPDATE outbox SET relayed_at = now() WHERE id = ANY(%s)", (ids,))
    return len(ids)


def run_outbox_job(
    session: Session, config: Mapping[str, Any], message_id: int, *, now: datetime | None = None
) -> None:
    """The pgqueuer job: deliver one relayed message (idempotent: done messages are skipped)."""
    now = now or utcnow()
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.processed_at is not None:
        return
    # On failure deliver_message sets available_at to the retry time, and the relay
    # hands the message to the queue again then.
    deliver_message(session, config, message, now)
