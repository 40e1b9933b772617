"""The loop the worker's sending tasks share: claim one due row (a lease, committed at once),
handle it in the same session, and go on until none is due or `limit` were handled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.domain.base import utcnow

C = TypeVar("C")


def handle_due(
    sessions: Callable[[], Session],
    claim_next: Callable[..., C | None],
    handle: Callable[[Session, C, datetime], Any],
    *,
    now: datetime | None,
    limit: int,
) -> int:
    """Claim and handle due rows one at a time; return how many were handled. `now` is for
    tests (else the real time is read for each row)."""
    handled = 0
    while handled < limit:
        with sessions() as session:
            at = now or utcnow()
            claim = claim_next(session, now=at)
            session.commit()
            if claim is None:
                break
            handle(session, claim, at)
        handled += 1
    return handled
