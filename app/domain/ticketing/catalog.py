"""What an event offers for sale right now: its visible tiers and how many units remain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.ticketing.models import TicketTier, Unit


@dataclass(frozen=True)
class TierOffer:
    tier: TicketTier
    remaining: int
    on_sale: bool
    sale_note: str  # why it is not on sale ("Sales open ...", "Sales ended"), else ""


@dataclass(frozen=True)
class TicketPanel:
    event: Event
    offers: list[TierOffer]

    @property
    def total_remaining(self) -> int:
        return sum(offer.remaining for offer in self.offers)


def remaining_by_tier(session: Session, event_id: int) -> dict[int, int]:
    """Free, unblocked units per tier (answered from the partial index on free units)."""
    rows = session.execute(
        select(Unit.tier_id, func.count())
        .where(Unit.event_id == event_id, Unit.booking_id.is_(None), Unit.blocked.is_(False))
        .where(Unit.tier_id.is_not(None))
        .group_by(Unit.tier_id)
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
    remaining = remaining_by_tier(session, event.id)
    offers = []
    for tier in tiers:
        if tier.hidden and tier.id not in unlocked_tier_ids:
            continue
        note = ""
        if tier.sales_start and now < tier.sales_start:
            note = "Sales open later"
        elif tier.sales_end and now >= tier.sales_end:
            note = "Sales ended"
        offers.append(TierOffer(tier, remaining.get(tier.id, 0), on_sale=not note, sale_note=note))
    return TicketPanel(event=event, offers=offers)
