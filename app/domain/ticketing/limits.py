"""Per-order and per-user ticket limits.

The per-user limit counts everything the user holds or owns for the event, so it is counted
under the user/event lock (`locking.lock_user_event`), taken before counting.

Chosen seats are counted here (`with_user_limits`). A general-admission claim counts inside
its own claim statement (`claims.CLAIM_GENERAL_ADMISSION`), after the same lock, which saves
the ticket rush two round trips; both count with `LIVE_BOOKING` and refuse with
`limit_exceeded`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import lock_user_event
from app.domain.ticketing.on_sale import SaleTier

T = TypeVar("T")

# A booking `b` that counts against the limit: confirmed, or a hold that has not run out.
LIVE_BOOKING = "(b.status = 'confirmed' OR (b.status = 'pending' AND b.hold_expires_at > :now))"

_LIVE_UNITS_BY_TIER = text(
    "SELECT u.tier_id, count(*) FROM bookings b JOIN units u ON u.booking_id = b.id "  # noqa: S608 - constants only
    "WHERE b.user_id = :user_id AND b.event_id = :event_id AND u.tier_id = ANY(:tier_ids) "
    f"AND {LIVE_BOOKING} GROUP BY u.tier_id"
)


def live_units_by_tier(
    session: Session, *, user_id: int, event_id: int, tier_ids: list[int], now: datetime
) -> dict[int, int]:
    """Units of `tier_ids` that the user holds (unexpired) or owns for the event."""
    rows = session.connection().execute(
        _LIVE_UNITS_BY_TIER,
        {"user_id": user_id, "event_id": event_id, "tier_ids": tier_ids, "now": now},
    )
    return {tier_id: count for tier_id, count in rows}


def check_order_size(tier: SaleTier, quantity: int) -> None:
    if quantity < 1:
        raise BookingError("invalid_quantity", "Please choose at least one ticket.")
    if quantity < tier.min_per_order or quantity > tier.max_per_order:
        if tier.min_per_order == tier.max_per_order:
            span = f"exactly {tier.min_per_order}"
        else:
            span = f"between {tier.min_per_order} and {tier.max_per_order}"
        raise BookingError(
            "invalid_quantity", f"{tier.name}: please choose {span} tickets per order."
        )


def with_user_limits(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    wanted: Mapping[SaleTier, int],
    now: datetime,
    then: Callable[[], T],
) -> T:
    """Check the per-user limits of `wanted` (tier -> quantity) under the user/event lock, then
    run `then` (the claim) while the lock is still held, so parallel requests cannot all pass."""
    limited = {tier: n for tier, n in wanted.items() if tier.per_user_limit is not None}
    if not limited:
        return then()
    lock_user_event(session, user_id, event_id)
    owned = live_units_by_tier(
        session,
        user_id=user_id,
        event_id=event_id,
        tier_ids=[tier.id for tier in limited],
        now=now,
    )
    for tier, quantity in limited.items():
        already = owned.get(tier.id, 0)
        if already + quantity > (tier.per_user_limit or 0):
            raise limit_exceeded(tier, already)
    return then()


def limit_exceeded(tier: SaleTier, already: int) -> BookingError:
    """The refusal for a user who holds or owns `already` units of `tier` and asked for more."""
    limit = tier.per_user_limit or 0
    left = max(0, limit - already)
    return BookingError(
        "limit_exceeded",
        f"{tier.name}: at most {limit} per person"
        + (f"; you can book {left} more." if left else "; you already have them all."),
    )
