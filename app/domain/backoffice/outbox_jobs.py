"""The admin's view of background work: payments pending past the reconciliation threshold,
the last reconciliation runs, outbox jobs that failed (of any topic), and the two levers:
retry a failed job now, and ask for a reconciliation now.

A failed outbox job is not dead: the relay retries it with a growing delay (jobs/relay.py).
"Retry" brings that next try forward to now; it changes only a job that waits for its retry
(not delivered, not handed to the queue, not due already), so a replayed retry, or a retry of
a job the worker holds, changes nothing and the job still runs once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.base import NotFound
from app.domain.outbox import OutboxMessage
from app.domain.payments.models import Payment, PaymentStatus
from app.domain.payments.reconciliation import RECONCILE_TOPIC, request_reconciliation
from app.domain.ticketing.models import Booking

LIST_LIMIT = 50
RUNS_SHOWN = 10


@dataclass(frozen=True)
class StalePayment:
    payment: Payment
    reference: str


def stale_payments(
    session: Session, *, now: datetime, after: timedelta
) -> tuple[int, list[StalePayment]]:
    """How many payments have been pending for longer than `after`, and the oldest of them
    (through the partial index of pending payments)."""
    stale = (Payment.status == PaymentStatus.PENDING, Payment.created_at <= now - after)
    total = session.scalar(select(func.count()).select_from(Payment).where(*stale)) or 0
    rows = session.execute(
        select(Payment, Booking.reference)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(*stale)
        .order_by(Payment.created_at, Payment.id)
        .limit(LIST_LIMIT)
    ).all()
    return total, [StalePayment(payment, reference) for payment, reference in rows]


def reconciliation_runs(session: Session) -> list[OutboxMessage]:
    """The latest reconciliation requests, newest first: done, waiting, or failed (with error)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.topic == RECONCILE_TOPIC)
            .order_by(OutboxMessage.id.desc())
            .limit(RUNS_SHOWN)
        )
    )


def failed_jobs(session: Session) -> list[OutboxMessage]:
    """Undelivered outbox jobs whose last try failed, newest first (any topic)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.last_error.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def waits_for_retry(message: OutboxMessage, now: datetime) -> bool:
    """Failed, and waiting for its next try (so a retry would bring it forward)."""
    return (
        message.processed_at is None
        and message.last_error is not None
        and message.relayed_at is None
        and message.available_at > now
    )


def retry_job(
    session: Session, message_id: int, *, actor_id: int, now: datetime
) -> OutboxMessage | None:
    """Make a failed job due now, for the relay to take again; None when it does not wait for
    a retry (delivered, queued, or due already: a replay). NotFound for no such job."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("There is no such job.")
    if not waits_for_retry(message, now):
        return None
    message.available_at = now
    audit.record(
        session,
        "job.retried",
        actor_id=actor_id,
        target=message,
        now=now,
        topic=message.topic,
        attempts=message.attempts,
        error=message.last_error,
    )
    session.flush()
    return message


def reconcile_now(session: Session, *, actor_id: int, now: datetime) -> OutboxMessage | None:
    """An admin's "reconcile now": one request queued, None if one waits already."""
    message = request_reconciliation(session, now=now)
    if message is not None:
        audit.record(
            session, "payments.reconcile_requested", actor_id=actor_id, target=message, now=now
        )
    return message
