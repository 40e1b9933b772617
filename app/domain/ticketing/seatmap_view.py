"""The seat map as pages draw it: sections, rows and seats, each seat free, held, sold or blocked.

Buyers see a seat as blocked when it cannot be bought at all (blocked by the organizer, outside
every price zone, in a hidden zone they have not unlocked, or outside its sales window); an
expired hold that nobody released yet already counts as free, as the booking service will
release it on the spot. Organizers see the raw flags.

A large venue is shown one part at a time so a page stays light on a phone: a part is a section,
or, for a section of more than `PAGE_SEATS` seats, a run of its rows; buyers first see an
overview of the parts with their free seats.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.ticketing.catalog import remaining_by_tier
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier, Unit

PAGE_SEATS = 1_000


class SaleWindow(Protocol):
    sales_start: datetime | None
    sales_end: datetime | None


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

    def with_state(self, state: SeatState) -> SeatCell:
        return replace(self, state=state)


@dataclass(frozen=True)
class SeatRow:
    key: str  # stable while the layout does not change: "s<section>r<row>"
    label: str
    name: str  # "Stalls, Row A"
    cells: list[SeatCell]


@dataclass(frozen=True)
class SeatSection:
    """A part of the venue as pages show it: a section, or some rows of a large section."""

    index: int
    name: str | None  # the section's name; "Floor, rows A-M" for a slice of a large one
    seats: int
    free: int
    rows: list[SeatRow] = field(default_factory=list)  # empty when not shown
    first_order: int = 0  # the part's seats, by `seat_order`
    last_order: int = 0


@dataclass(frozen=True)
class SeatMapView:
    event_id: int
    sections: list[SeatSection]
    zones: list[Zone]
    # The part shown when the venue is shown a part at a time (`paged`); None with `paged`
    # means the overview of the parts.
    shown: int | None
    paged: bool = False

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
    picks the part shown when the venue is too large to show at once; None is the overview."""
    zones = _zones(session, event.id, now=now, organizer=organizer, unlocked=unlocked_tier_ids)
    parts = seat_parts(session, event.id)
    paged = is_paged(parts)
    shown = None
    if paged and section is not None:
        shown = min(max(section, 0), len(parts) - 1)
    if paged and shown is None:
        return SeatMapView(event.id, parts, list(zones.values()), None, paged=True)
    query = _seats(event.id)
    if shown is not None:
        part = parts[shown]
        query = query.where(Unit.seat_order.between(part.first_order, part.last_order))
        parts_shown = [part]
    else:
        parts_shown = parts
    rows_by_part: dict[int, list[SeatRow]] = {}
    previous_x = -1
    ends = iter(parts_shown)
    part = next(ends, None)
    for seat in session.execute(query):
        while part is not None and seat.seat_order > part.last_order:
            part = next(ends, None)
        if part is None:
            break
        rows = rows_by_part.setdefault(part.index, [])
        if not rows or rows[-1].label != seat.row_label:
            key = f"s{part.index}r{len(rows)}"
            name = (
                f"{seat.section}, Row {seat.row_label}" if seat.section else f"Row {seat.row_label}"
            )
            rows.append(SeatRow(key=key, label=seat.row_label, name=name, cells=[]))
            previous_x = -1
        rows[-1].cells.append(_cell(seat, zones, previous_x, now=now, organizer=organizer))
        previous_x = seat.grid_x
    view_parts = [replace(part, rows=rows_by_part.get(part.index, [])) for part in parts]
    return SeatMapView(event.id, view_parts, list(zones.values()), shown, paged=paged)


def seat_cells(
    session: Session, event_id: int, seat_ids: Collection[int], *, now: datetime
) -> list[SeatCell]:
    """Some seats of the event as a buyer's map shows them, in seat order."""
    zones = _zones(session, event_id, now=now, organizer=False, unlocked=())
    seats = session.execute(_seats(event_id).where(Unit.id.in_(list(seat_ids))))
    return [_cell(seat, zones, seat.grid_x - 1, now=now, organizer=False) for seat in seats]


def _zones(
    session: Session, event_id: int, *, now: datetime, organizer: bool, unlocked: Collection[int]
) -> dict[int, Zone]:
    tiers = session.execute(
        select(
            TicketTier.id,
            TicketTier.name,
            TicketTier.price_minor,
            TicketTier.currency,
            TicketTier.sales_start,
            TicketTier.sales_end,
            TicketTier.hidden,
        )
        .where(TicketTier.event_id == event_id)
        .order_by(TicketTier.position, TicketTier.id)
    ).all()
    return {
        tier.id: Zone(
            tier_id=tier.id,
            name=tier.name,
            price_minor=tier.price_minor,
            currency=tier.currency,
            on_sale=_on_sale(tier, now),
            index=index,
        )
        for index, tier in enumerate(tiers, start=1)
        if organizer or not tier.hidden or tier.id in unlocked
    }


def _seats(event_id: int) -> Select:
    return (
        select(
            Unit.id,
            Unit.section,
            Unit.row_label,
            Unit.seat_number,
            Unit.grid_x,
            Unit.blocked,
            Unit.accessible,
            Unit.tier_id,
            Unit.seat_order,
            Booking.status,
            Booking.hold_expires_at,
        )
        .outerjoin(Booking, Booking.id == Unit.booking_id)
        .where(Unit.event_id == event_id, Unit.seat_number.is_not(None))
        .order_by(Unit.seat_order, Unit.id)
    )


def _cell(
    seat, zones: dict[int, Zone], previous_x: int, *, now: datetime, organizer: bool
) -> SeatCell:  # noqa: ANN001
    zone = zones.get(seat.tier_id) if seat.tier_id is not None else None
    return SeatCell(
        id=seat.id,
        number=seat.seat_number,
        name=seat_label(seat.section, seat.row_label, seat.seat_number),
        state=_state(seat, zone, now=now, organizer=organizer),
        accessible=seat.accessible,
        zone=zone,
        gap=seat.grid_x - previous_x - 1,
    )


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


def is_paged(parts: list[SeatSection]) -> bool:
    """Whether a venue of these parts is shown a part at a time."""
    return sum(part.seats for part in parts) > PAGE_SEATS


def seat_parts(session: Session, event_id: int) -> list[SeatSection]:
    """The venue's parts in layout order, with seats and free seats (rows not loaded): each
    section, or runs of rows of at most `PAGE_SEATS` seats for a larger section."""
    free = (Unit.booking_id.is_(None)) & Unit.blocked.is_(False) & Unit.tier_id.is_not(None)
    rows = session.execute(
        select(
            Unit.section,
            Unit.row_label,
            func.min(Unit.seat_order),
            func.max(Unit.seat_order),
            func.count(),
            func.count().filter(free),
        )
        .where(Unit.event_id == event_id, Unit.seat_number.is_not(None))
        .group_by(Unit.section, Unit.row_label)
        .order_by(func.min(Unit.seat_order))
    ).all()
    section_seats: dict[str | None, int] = {}
    for row in rows:
        section_seats[row[0]] = section_seats.get(row[0], 0) + row[4]
    slices: list[list] = []
    for row in rows:
        current = slices[-1] if slices else None
        if (
            current is None
            or current[0][0] != row[0]
            or sum(r[4] for r in current) + row[4] > PAGE_SEATS
        ):
            slices.append([row])
        else:
            current.append(row)
    parts = []
    for index, part_rows in enumerate(slices):
        name = part_rows[0][0]
        if section_seats[name] > PAGE_SEATS:
            first, last = part_rows[0][1], part_rows[-1][1]
            span = f"row {first}" if first == last else f"rows {first}–{last}"
            name = f"{name}, {span}" if name else span.capitalize()
        parts.append(
            SeatSection(
                index=index,
                name=name,
                seats=sum(r[4] for r in part_rows),
                free=sum(r[5] for r in part_rows),
                first_order=part_rows[0][2],
                last_order=part_rows[-1][3],
            )
        )
    return parts


def _on_sale(tier: SaleWindow, now: datetime) -> bool:
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
