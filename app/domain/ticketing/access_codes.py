"""Hidden tiers' access codes: what a code unlocks, and a limit on guessing them.

Wrong codes (codes that unlock no hidden tier of the event) are counted per user and per
network in a window, like failed logins (`accounts.rate_limit`), and written by
`record_wrong_code` in their own transaction: the request that sent one may answer with an
error and roll back. While the user or their network is over the limit no code is compared at
all, or a right one would tell the guesser they found it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.domain.ticketing.errors import BookingError, wait_phrase
from app.domain.ticketing.models import WrongAccessCode


@dataclass(frozen=True)
class GuessLimits:
    per_user: int = 10
    per_network: int = 50
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GuessLimits:
        return cls(
            per_user=int(config["ACCESS_CODE_MAX_FAILURES_PER_USER"]),
            per_network=int(config["ACCESS_CODE_MAX_FAILURES_PER_NETWORK"]),
            window=timedelta(seconds=int(config["ACCESS_CODE_WINDOW_SECONDS"])),
        )


# When the user's and the network's `limit`-th newest wrong code leaves the window (the later
# of the two; NULL when neither has that many), and what the code unlocks, in one statement.
_NTH_WRONG = """(SELECT w.created_at + :window FROM wrong_access_codes w
    WHERE w.{who} = :{who} AND w.created_at > :now - :window AND w.created_at <= :now
    ORDER BY w.created_at DESC OFFSET :{limit} - 1 LIMIT 1)"""
_UNLOCK = text(
    f"SELECT greatest({_NTH_WRONG.format(who='user_id', limit='per_user')},"  # noqa: S608 - constants only
    f" {_NTH_WRONG.format(who='network', limit='per_network')}) AS blocked_until,"
    " ARRAY(SELECT id FROM ticket_tiers WHERE event_id = :event_id AND hidden"
    " AND access_code = :code) AS tier_ids"
)


def unlock(
    session: Session,
    *,
    event_id: int,
    code: str,
    user_id: int | None,
    network: str | None,
    limits: GuessLimits,
    now: datetime,
) -> frozenset[int]:
    """The hidden tiers of the event that `code` unlocks (none: a wrong code, which the caller
    records). Raises `too_many_guesses` while the user or the network guessed wrong too often."""
    row = (
        session.connection()
        .execute(
            _UNLOCK,
            {
                "event_id": event_id,
                "code": code.strip(),
                "user_id": user_id,
                "network": network,
                "per_user": limits.per_user,
                "per_network": limits.per_network,
                "window": limits.window,
                "now": now,
            },
        )
        .one()
    )
    if row.blocked_until is not None and row.blocked_until > now:
        wait = wait_phrase(row.blocked_until - now)
        raise BookingError(
            "too_many_guesses", f"Too many wrong access codes. Please try again in {wait}."
        )
    return frozenset(row.tier_ids)


def record_wrong_code(
    session: Session, *, user_id: int | None, network: str | None, now: datetime
) -> None:
    session.add(WrongAccessCode(user_id=user_id, network=network, created_at=now))
    session.flush()


def prune_wrong_codes(
    session: Session, *, now: datetime, keep: timedelta = timedelta(days=1)
) -> int:
    """Delete wrong codes older than `keep` (far beyond any window); return how many went."""
    result = session.execute(delete(WrongAccessCode).where(WrongAccessCode.created_at < now - keep))
    return result.rowcount or 0
