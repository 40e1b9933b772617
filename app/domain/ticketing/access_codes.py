"""Hidden tiers' access codes: what a code unlocks, and a limit on guessing them.

Wrong codes (codes that unlock no hidden tier of the event) are attempts of the rate limits'
"access_code" action (`accounts.rate_limit`), counted per user and per network in a window,
and written by `record_wrong_code` in their own transaction: the request that sent one may
answer with an error and roll back. While the user or their network is over the limit no code
is compared at all, or a right one would tell the guesser they found it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts import rate_limit
from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import AttemptOutcome
from app.domain.ticketing.errors import BookingError, wait_phrase
from app.domain.ticketing.models import TicketTier


def _subject(user_id: int | None) -> str:
    return rate_limit.user_subject(user_id) if user_id is not None else ""


def unlock(
    session: Session,
    *,
    event_id: int,
    code: str,
    user_id: int | None,
    network: str | None,
    policy: rate_limit.Policy,
    now: datetime,
) -> frozenset[int]:
    """The hidden tiers of the event that `code` unlocks (none: a wrong code, which the caller
    records). Raises `too_many_guesses` while the user or the network guessed wrong too often
    (`policy`: `rate_limit.policy(ACCESS_CODE, config)`)."""
    try:
        rate_limit.check(session, policy, subject=_subject(user_id), network=network, now=now)
    except TooManyAttempts as exc:
        wait = wait_phrase(timedelta(seconds=exc.retry_after))
        raise BookingError(
            "too_many_guesses", f"Too many wrong access codes. Please try again in {wait}."
        ) from exc
    return frozenset(
        session.scalars(
            select(TicketTier.id).where(
                TicketTier.event_id == event_id,
                TicketTier.hidden,
                TicketTier.access_code == code.strip(),
            )
        )
    )


def record_wrong_code(
    session: Session, *, user_id: int | None, network: str | None, now: datetime
) -> None:
    rate_limit.record(
        session,
        rate_limit.ACCESS_CODE,
        subject=_subject(user_id),
        network=network,
        outcome=AttemptOutcome.FAILED,
        now=now,
    )
