"""The worker's notification task: send due notifications, one short transaction each.

See app/domain/notifications/delivery.py for the lease and what is guaranteed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import app.domain.notifications.email  # noqa: F401 - registers the email sender
import app.domain.notifications.fan_out  # noqa: F401 - registers the in-app sender
import app.domain.notifications.push  # noqa: F401 - registers the push sender and its reach
import app.domain.notifications.sms  # noqa: F401 - registers the SMS sender
from app.domain.notifications import delivery
from jobs.claims import handle_due

log = logging.getLogger(__name__)
# A run sends at most this many before the worker's loop looks at its other work again.
BATCH = 20


def deliver_due(
    sessions: Callable[[], Session],
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Send up to `limit` due notifications; return how many were handled. `now` is for tests
    (else the real time is read for each message)."""
    return handle_due(
        sessions,
        delivery.claim_next,
        lambda session, claim, at: deliver_claimed(session, config, claim, now=at),
        now=now,
        limit=limit,
    )


def deliver_claimed(
    session: Session, config: Mapping[str, Any], claim: delivery.Claim, *, now: datetime
) -> None:
    """Send one claimed notification and commit its outcome."""
    try:
        sender, prepared = delivery.prepare(session, config, claim, now=now)
        session.commit()
        sender.transmit(config, prepared)
    except delivery.Skip as exc:
        # What `prepare` wrote stays (an in-app copy's passing on): Skip is no database fault.
        delivery.record_skipped(session, claim, str(exc))
    except Exception as exc:  # noqa: BLE001 - any fault fails this message only
        session.rollback()
        if isinstance(exc, SQLAlchemyError):  # the database, not the message: try again
            exc = delivery.TemporaryFailure(f"{type(exc).__name__}: {exc}")
        elif not isinstance(exc, delivery.TemporaryFailure | delivery.PermanentFailure):
            log.exception("notification %s could not be sent", claim.id)
            exc = delivery.RenderFailure(f"{type(exc).__name__}: {exc}")
        delivery.record_failure(session, claim, exc, now=now)
    else:
        delivery.record_sent(session, claim, now=now)
    session.commit()
