"""The worker's webhook task: send due deliveries, each in two short transactions (the claim,
then the outcome) with the HTTP call between them. See app/domain/webhooks/delivery.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.webhooks import delivery
from jobs.claims import handle_due

# A run sends at most this many before the worker's loop looks at its other work again.
BATCH = 20


def deliver_due(
    sessions: Callable[[], Session],
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Send up to `limit` due deliveries; return how many were handled. `now` is for tests
    (else the real time is read for each delivery)."""

    def send_and_record(session: Session, claim: delivery.Claim, at: datetime) -> None:
        outcome = delivery.send(claim, config, now=at)
        delivery.record(session, claim, outcome, now=at)
        session.commit()

    return handle_due(sessions, delivery.claim_next, send_and_record, now=now, limit=limit)
