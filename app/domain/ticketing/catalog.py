"""What an event offers for sale right now: its visible tiers and how many units remain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer

from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import TicketTier

# Free units (from the partial index on free units) plus units of holds that ran out but were
# not released yet: the lazy expiry check on read, so counts never wait for the worker.
_REMAINING = text(
    "SELECT tier_id, sum(n)::int FROM ("
    " SELECT tier_id, count(*) AS n FROM units"
    " WHERE tier_id = ANY(:tier_ids) AND booking_id IS NULL AND NOT blocked GROUP BY tier_id"
    " UNION ALL"
    " SELECT u.tier_id, count(*) FROM bookings b JOIN units u ON u.booking_id = b.id"
    " WHERE b.event_id = :event_id AND b.status = 'pending' AND b.hold_expires_at <= :now"
    " AND u.tier_id IS NOT NULL GROUP BY u.tier_id"
    ") AS counts GROUP BY tier_id"
).bindparams(bindparam("tier_ids", type_=ARRAY(Integer)))


_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TierOffer:
    tier: TicketTier
    remaining: int
    on_sale: bool
    sale_note: str  # why it is not on sale ("Sales open ...", "Sales ended"), else ""

    @property
    def sold_out(self) -> bool:
        return self.remaining < self.tier.min_per_order

    @property
    def quantities(self) -> range:
        """The quantities one order may ask for right now (or wait for, when sold out)."""
        top = (
            self.tier.max_per_order
            if self.sold_out
            else min(self.tier.max_per_order, self.remaining)
        )
        if self.tier.per_user_limit is not None:
            top = min(top, self.tier.per_user_limit)
        return range(self.tier.min_per_order, top + 1)


@dataclass(frozen=True)
class TicketPanel:
    event: Event
    offers: list[TierOffer]
    has_hidden: bool = False  # some tier needs an access code (offer the code field)

    @property
    def on_sale(self) -> bool:
        return self.event.status == EventStatus.PUBLISHED


def remaining_by_tier(
    session: Session,
    event_id: int,
    *,
    now: datetime | None = None,
    tier_ids: list[int] | None = None,
) -> dict[int, int]:
    """Units still for sale per tier: free ones, plus expired holds (when `now` is given)."""
    if tier_ids is None:
        tier_ids = list(
            session.scalars(select(TicketTier.id).where(TicketTier.event_id == event_id))
        )
    if not tier_ids:
        return {}
    rows = session.execute(
        _REMAINING,
        # With no `now`, a moment before any hold: expired holds are not counted.
        {"tier_ids": tier_ids, "event_id": event_id, "now": now or _LONG_AGO},
    )
    return {tier_id: count for tier_id, count in rows}


def ticket_panel(
    session: Session,
    event: Event,
    *,
    now: datetime,
    unlocked_tier_ids: frozenset[int] = frozenset(),
) -> TicketPanel:
    """Visible tiers (hidden ones only when unlocked by their access code) with remaining units."""
    tiers = session.scalars(
        select(TicketTier)
        .where(TicketTier.event_id == event.id)
        .order_by(TicketTier.position, TicketTier.id)
    ).all()
    shown = [tier for tier in tiers if not tier.hidden or tier.id in unlocked_tier_ids]
    remaining = remaining_by_tier(session, event.id, now=now, tier_ids=[tier.id for tier in shown])
    offers = []
    for tier in shown:
        note = ""
        if tier.sales_start and now < tier.sales_start:
            note = "Sales open later"
        elif tier.sales_end and now >= tier.sales_end:
            note = "Sales ended"
        offers.append(TierOffer(tier, remaining.get(tier.id, 0), on_sale=not note, sale_note=note))
    return TicketPanel(event=event, offers=offers, has_hidden=any(tier.hidden for tier in tiers))
