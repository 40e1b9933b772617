"""Per-order and per-user ticket limits.

The per-user limit counts everything the user holds or owns of a tier for the event, so it is
counted under the user/event lock (`locking.lock_user_event`). Chosen seats are counted here
(`with_user_limits`), in the same statement as the hoarding rules (`hoarding`). A general-
admission or best-available claim counts inside its own claim statement (`claims`), after the
same lock, which saves the ticket rush two round trips; all count with `LIVE_BOOKING` and
refuse with `limit_exceeded`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.domain.ticketing import hoarding
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import lock_user_event
from app.domain.ticketing.on_sale import SaleTier

T = TypeVar("T")

# A booking `b` that counts against the limit: confirmed, or a hold that has not run out.
LIVE_BOOKING = "(b.status = 'confirmed' OR (b.status = 'pending' AND b.hold_expires_at > :now))"

# The user's live units of `tier_ids` (one tier id per unit), and when the hoarding rules let
# them hold again, in one statement.
_LIVE_UNITS_AND_WAITS = text(
    "SELECT ARRAY(SELECT u.tier_id FROM bookings b JOIN units u ON u.booking_id = b.id"  # noqa: S608 - constants only
    " WHERE b.user_id = :user_id AND b.event_id = :event_id AND u.tier_id = ANY(:tier_ids)"
    f" AND {LIVE_BOOKING}) AS tiers, waits.rate_until, waits.cooldown_until"
    f" FROM {hoarding.WAITS} AS waits"
)

_LIVE_UNITS = text(
    "SELECT count(*) FROM bookings b JOIN units u ON u.booking_id = b.id"  # noqa: S608 - constants only
    " WHERE b.user_id = :user_id AND b.event_id = :event_id AND u.tier_id = :tier_id"
    f" AND b.id <> ALL(:except_ids) AND {LIVE_BOOKING}"
).bindparams(bindparam("except_ids", type_=ARRAY(BigInteger)))


def live_units(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    tier_id: int,
    now: datetime,
    except_ids: Sequence[int] = (),
) -> int:
    """Units of the tier that the user holds (unexpired) or owns for the event, leaving out
    the bookings `except_ids`. Call it under the user/event lock."""
    params = {"user_id": user_id, "event_id": event_id, "tier_id": tier_id, "now": now}
    rows = session.connection().execute(_LIVE_UNITS, {**params, "except_ids": list(except_ids)})
    return rows.scalar_one()


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


def check_user_limit(tier: SaleTier, already: int, quantity: int) -> None:
    """Refuse `quantity` more units of `tier` to a user who has `already` of them."""
    if tier.per_user_limit is not None and already + quantity > tier.per_user_limit:
        raise limit_exceeded(tier, already)


def with_user_limits(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    wanted: Mapping[SaleTier, int],
    now: datetime,
    rules: hoarding.HoldRules,
    then: Callable[[], T],
) -> T:
    """Check the per-user limits of `wanted` (tier -> quantity) and the hoarding `rules` under
    the user/event lock, then run `then` (the claim) while the lock is still held, so parallel
    requests cannot all pass."""
    lock_user_event(session, user_id, event_id)
    tiers, rate_until, cooldown_until = (
        session.connection()
        .execute(
            _LIVE_UNITS_AND_WAITS,
            {
                "user_id": user_id,
                "event_id": event_id,
                "tier_ids": [tier.id for tier in wanted],
                "now": now,
                **rules.params(),
            },
        )
        .one()
    )
    owned = Counter(tiers)
    for tier, quantity in wanted.items():
        check_user_limit(tier, owned[tier.id], quantity)
    hoarding.check_waits(rate_until, cooldown_until, now=now)
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
