"""Asking the providers about payments still pending: one request at a time, whether the
schedule asks (when payments wait too long) or an admin does ("reconcile now")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.outbox import OutboxMessage, enqueue
from app.domain.ticketing.locking import lock_named

RECONCILE_TOPIC = "payments.reconcile"


def request_reconciliation(session: Session, *, now: datetime) -> OutboxMessage | None:
    """Queue a reconciliation unless one waits already (None then). Under a named lock: two
    requests at the same moment would both see none waiting and queue two."""
    lock_named(session, RECONCILE_TOPIC)
    waiting = session.scalar(
        select(
            exists().where(
                OutboxMessage.topic == RECONCILE_TOPIC, OutboxMessage.processed_at.is_(None)
            )
        )
    )
    if waiting:
        return None
    message = enqueue(session, RECONCILE_TOPIC, {}, available_at=now)
    session.flush()
    return message
