"""The seat map as pages draw it: sections, rows and seats, each seat free, held, sold or blocked.

Buyers see a seat as blocked when it cannot be bought at all (blocked by the organizer, outside
every price zone, in a hidden zone they have not unlocked, or outside its sales window); an
expired hold that nobody released yet already counts as free, as the booking service will
release it on the spot. Organizers see the raw flags.

A large venue is shown one section at a time (`PAGE_SEATS`) so a page stays light on a phone.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.ticketing.catalog import remaining_by_tier
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier, Unit

PAGE_SEATS = 1_000


class SeatState(enum.StrEnum):
    FREE = "free"
    HELD = "held"
    SOLD = "sold"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Zone:
    tier_id: int
    name: str
    price_minor: int
    currency: str
    on_sale: bool
    index: int  # 1-based, for the zone's look in the legend and on the map


@dataclass(frozen=True)
class SeatCell:
    id: int
    number: str
    name: str  # "Stalls, Row A seat 5"
    state: SeatState
    accessible: bool
    zone: Zone | None
    gap: int  # empty grid places (aisles) before this seat


@dataclass(frozen=True)
class SeatRow:
    key: str  # stable while the layout does not change: "s<section>r<row>"
    label: str
    name: str  # "Stalls, Row A"
    cells: list[SeatCell]


@dataclass(frozen=True)
class SeatSection:
    index: int
    name: str | None
    seats: int
    free: int
    rows: list[SeatRow] = field(default_factory=list)  # empty when not shown


@dataclass(frozen=True)
class SeatMapView:
    event_id: int
    sections: list[SeatSection]
    zones: list[Zone]
    shown: int | None  # the one section shown, when the venue is shown a section at a time

    @property
    def seats(self) -> int:
        return sum(section.seats for section in self.sections)

    @property
    def rows(self) -> list[SeatRow]:
        return [row for section in self.sections for row in section.rows]


def seat_map_view(
    session: Session,
    event: Event,
    *,
    now: datetime,
    organizer: bool = False,
    unlocked_tier_ids: Collection[int] = (),
    section: int | None = None,
) -> SeatMapView:
    """The event's seat map for a buyer (or, with `organizer`, for its organizer). `section`
    picks the section shown when the venue is too large to show at once."""
    tiers = session.scalars(
        select(TicketTier)
        .where(TicketTier.event_id == event.id)
        .order_by(TicketTier.position, TicketTier.id)
    ).all()
    zones = {
        tier.id: Zone(
            tier_id=tier.id,
            name=tier.name,
            price_minor=tier.price_minor,
            currency=tier.currency,
            on_sale=_on_sale(tier, now),
            index=index,
        )
        for index, tier in enumerate(tiers, start=1)
        if organizer or not tier.hidden or tier.id in unlocked_tier_ids
    }
    sections = _sections(session, event)
    total = sum(seats for _, seats, _ in sections)
    shown = None
    if total > PAGE_SEATS and sections:
        shown = min(max(section or 0, 0), len(sections) - 1)
    query = (
        select(
            Unit.id,
            Unit.section,
            Unit.row_label,
            Unit.seat_number,
            Unit.grid_x,
            Unit.blocked,
            Unit.accessible,
            Unit.tier_id,
            Booking.status,
            Booking.hold_expires_at,
        )
        .outerjoin(Booking, Booking.id == Unit.booking_id)
        .where(Unit.event_id == event.id, Unit.seat_number.is_not(None))
        .order_by(Unit.seat_order, Unit.id)
    )
    if shown is not None:
        name = sections[shown][0]
        query = query.where(
            Unit.section.is_(None) if name is None else Unit.section == name  # type: ignore[arg-type]
        )
    names = [name for name, _, _ in sections]
    rows_by_section: dict[str | None, list[SeatRow]] = {}
    previous_x = -1
    for seat in session.execute(query):
        rows = rows_by_section.setdefault(seat.section, [])
        if not rows or rows[-1].label != seat.row_label:
            key = f"s{names.index(seat.section)}r{len(rows)}"
            name = (
                f"{seat.section}, Row {seat.row_label}" if seat.section else f"Row {seat.row_label}"
            )
            rows.append(SeatRow(key=key, label=seat.row_label, name=name, cells=[]))
            previous_x = -1
        zone = zones.get(seat.tier_id) if seat.tier_id is not None else None
        rows[-1].cells.append(
            SeatCell(
                id=seat.id,
                number=seat.seat_number,
                name=seat_label(seat.section, seat.row_label, seat.seat_number),
                state=_state(seat, zone, now=now, organizer=organizer),
                accessible=seat.accessible,
                zone=zone,
                gap=seat.grid_x - previous_x - 1,
            )
        )
        previous_x = seat.grid_x
    view_sections = [
        SeatSection(index, name, seats, free, rows_by_section.get(name, []))
        for index, (name, seats, free) in enumerate(sections)
    ]
    return SeatMapView(event.id, view_sections, list(zones.values()), shown)


def public_remaining(session: Session, event_id: int, *, now: datetime) -> dict[int, int]:
    """Units left per tier that buyers can see (hidden tiers never appear in live updates),
    counting expired holds as free, as the ticket panel and the seat map do."""
    visible = list(
        session.scalars(
            select(TicketTier.id).where(
                TicketTier.event_id == event_id, TicketTier.hidden.is_(False)
            )
        )
    )
    left = remaining_by_tier(session, event_id, now=now, tier_ids=visible)
    return {tier_id: left.get(tier_id, 0) for tier_id in visible}


def seat_label(section: str | None, row_label: str | None, seat_number: str | None) -> str:
    """'Stalls, Row A seat 5' (without the section when the venue has none)."""
    seat = f"Row {row_label} seat {seat_number}"
    return f"{section}, {seat}" if section else seat


def _sections(session: Session, event: Event) -> list[tuple[str | None, int, int]]:
    """(name, seats, free seats) per section, in layout order."""
    free = (Unit.booking_id.is_(None)) & Unit.blocked.is_(False) & Unit.tier_id.is_not(None)
    rows = session.execute(
        select(Unit.section, func.count(), func.count().filter(free))
        .where(Unit.event_id == event.id, Unit.seat_number.is_not(None))
        .group_by(Unit.section)
        .order_by(func.min(Unit.seat_order))
    )
    return [(name, seats, free_seats) for name, seats, free_seats in rows]


def _on_sale(tier: TicketTier, now: datetime) -> bool:
    if tier.sales_start and now < tier.sales_start:
        return False
    return not (tier.sales_end and now >= tier.sales_end)


def _state(seat, zone: Zone | None, *, now: datetime, organizer: bool) -> SeatState:  # noqa: ANN001
    if seat.status is not None:
        live_hold = seat.status == BookingStatus.PENDING and (
            seat.hold_expires_at is None or seat.hold_expires_at > now
        )
        if seat.status != BookingStatus.PENDING:
            return SeatState.SOLD
        if live_hold or organizer:
            return SeatState.HELD
    if seat.blocked:
        return SeatState.BLOCKED
    if not organizer and (zone is None or not zone.on_sale):
        return SeatState.BLOCKED
    return SeatState.FREE
