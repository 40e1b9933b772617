"""What an event offers for sale right now: its visible tiers and how many units remain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking, TicketTier, Unit

# Units left per tier, as a column beside the tier: its free units (from the partial index on
# free units, hence `NOT blocked` and not `blocked IS false`) plus units of holds that ran out
# but were not released yet: the lazy expiry check on read, so counts never wait for the worker.
_FREE_UNITS = (
    select(func.count())
    .where(Unit.tier_id == TicketTier.id, Unit.booking_id.is_(None), ~Unit.blocked)
    .scalar_subquery()
)
_EXPIRED_HOLD_UNITS = (
    select(func.count())
    .select_from(Booking)
    .join(Unit, Unit.booking_id == Booking.id)
    .where(
        Booking.event_id == TicketTier.event_id,
        text("bookings.status = 'pending'"),  # a literal, as in the partial index on holds
        Booking.hold_expires_at <= bindparam("now"),
        Unit.tier_id == TicketTier.id,
    )
    .scalar_subquery()
)
_REMAINING = _FREE_UNITS + _EXPIRED_HOLD_UNITS

# The whole ticket panel in one query: every tier of the event with what is left of it.
_TIERS_WITH_REMAINING = (
    select(TicketTier, _REMAINING)
    .where(TicketTier.event_id == bindparam("event_id"))
    .order_by(TicketTier.position, TicketTier.id)
)

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
    closed_note: str = ""  # why the event sells nothing any more (cancelled, over)

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
    """Units still for sale per tier (of `tier_ids`, else of every tier of the event): free
    ones, plus expired holds (when `now` is given)."""
    query = select(TicketTier.id, _REMAINING).where(TicketTier.event_id == event_id)
    if tier_ids is not None:
        if not tier_ids:
            return {}
        query = query.where(TicketTier.id.in_(tier_ids))
    # With no `now`, a moment before any hold: expired holds are not counted.
    rows = session.execute(query, {"now": now or _LONG_AGO})
    return {tier_id: count for tier_id, count in rows}


def ticket_panel(
    session: Session,
    event: Event,
    *,
    now: datetime,
    unlocked_tier_ids: frozenset[int] = frozenset(),
) -> TicketPanel:
    """Visible tiers (hidden ones only when unlocked by their access code) with remaining units."""
    rows = session.execute(_TIERS_WITH_REMAINING, {"event_id": event.id, "now": now}).all()
    offers = []
    for tier, remaining in rows:
        if tier.hidden and tier.id not in unlocked_tier_ids:
            continue
        note = ""
        if tier.sales_start and now < tier.sales_start:
            note = "Sales open later"
        elif tier.sales_end and now >= tier.sales_end:
            note = "Sales ended"
        offers.append(TierOffer(tier, remaining, on_sale=not note, sale_note=note))
    return TicketPanel(
        event=event,
        offers=offers,
        has_hidden=any(tier.hidden for tier, _ in rows),
        closed_note=_closed_note(event, now),
    )


def _closed_note(event: Event, now: datetime) -> str:
    if event.status == EventStatus.CANCELLED:
        return "This event was cancelled: no tickets are on sale."
    if event.status == EventStatus.COMPLETED or event.ends_at <= now:
        return "This event is over."
    return ""
