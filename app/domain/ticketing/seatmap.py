"""Seat maps of seated events: lay out the venue, edit its seats, find the best free seats.

Every seat is a row of `units` (seat_number set); a seat's tier is its price zone, and a seat
outside every zone is not for sale. Seats that are held or sold are never changed or removed
here: the organizer's edit locks the seats it touches (`FOR UPDATE`), so a buyer's claim
(`SKIP LOCKED`) and an edit never interleave on the same seat.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.models import User
from app.domain.base import DomainError, NotFound
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.limits import busy_on_lock_timeout, check_order_size
from app.domain.ticketing.models import Booking, Ticket, TicketTier, Unit
from app.domain.ticketing.seat_layout import SeatSpec, format_layout, parse_layout
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.ticketing.waitlist import OfferSettings, make_offers

BEST_AVAILABLE_ATTEMPTS = 3


class SeatAction(enum.StrEnum):
    BLOCK = "block"
    UNBLOCK = "unblock"
    WHEELCHAIR = "wheelchair"
    NO_WHEELCHAIR = "no_wheelchair"
    ZONE = "zone"
    UNZONE = "unzone"


class SeatMapError(DomainError):
    code = "seatmap"
    status = 422


class SeatsInUse(DomainError):
    """Held or sold seats (or seats with ticket history) cannot be changed or removed."""

    code = "seats_in_use"
    status = 409


@dataclass(frozen=True)
class LayoutChange:
    added: int
    removed: int
    kept: int


def current_layout(session: Session, event: Event) -> str:
    """The event's seats written back in the compact layout language."""
    rows = session.execute(
        select(Unit.section, Unit.row_label, Unit.seat_number)
        .where(Unit.event_id == event.id, Unit.seat_number.is_not(None))
        .order_by(Unit.seat_order, Unit.id)
    )
    return format_layout((section, row, int(number)) for section, row, number in rows)


def replace_layout(
    session: Session,
    *,
    event: Event,
    text: str,
    new_seat_tier: TicketTier | None,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings | None = None,
) -> LayoutChange:
    """Make the event's seats match `text`: seats that stay keep their zone, flags and booking;
    new seats join `new_seat_tier` (or no zone); removed seats must be untouched by bookings.

    Saving a layout makes the event seated; its general-admission units (none sold) go away.
    """
    specs = parse_layout(text)
    if new_seat_tier is not None and new_seat_tier.event_id != event.id:
        raise NotFound("That ticket type is not part of this event.")
    with busy_on_lock_timeout():
        _lock_seat_map(session, event)
        existing = _lock_units(session, event, seats=True)
        general = _lock_units(session, event, seats=False) if not event.is_seated else []
    wanted = {spec.key: spec for spec in specs}
    current = {(u.section or "", u.row_label, u.seat_number): u for u in existing}
    removed = [u for key, u in current.items() if key not in wanted] + general
    in_use = [u for u in removed if u.booking_id is not None or u.has_ticket]
    if in_use:
        if any(u.seat_number is None for u in in_use):
            raise SeatsInUse(
                "This event already has general-admission bookings; a seat map cannot replace them."
            )
        raise SeatsInUse(
            "These seats are held, sold or have tickets, so they must stay in the layout "
            f"(block them instead): {_labels(in_use)}."
        )
    if removed:
        session.execute(delete(Unit).where(Unit.id.in_([u.id for u in removed])))
    kept = [{"id": u.id, **_placement(wanted[key])} for key, u in current.items() if key in wanted]
    if kept:
        session.execute(update(Unit), kept)
    added = [
        {
            "event_id": event.id,
            "tier_id": new_seat_tier.id if new_seat_tier else None,
            "section": spec.section,
            "row_label": spec.row_label,
            "seat_number": str(spec.number),
            "blocked": False,
            "accessible": False,
            **_placement(spec),
        }
        for key, spec in wanted.items()
        if key not in current
    ]
    if added:
        session.execute(insert(Unit), added)
    event.is_seated = True
    session.flush()
    grown = _sync_zone_capacity(session, event)
    if added and new_seat_tier is not None:
        grown.add(new_seat_tier.id)
    _after_change(session, event, grown, now=now, offers=offers)
    change = LayoutChange(added=len(added), removed=len(removed), kept=len(kept))
    audit.record(
        session,
        "seatmap.layout_saved",
        actor_id=actor_id,
        target=event,
        now=now,
        added=change.added,
        removed=change.removed,
        seats=len(specs),
    )
    return change


def change_seats(
    session: Session,
    *,
    event: Event,
    action: SeatAction,
    seat_ids: Sequence[int] = (),
    row_seat_ids: Sequence[int] = (),
    tier: TicketTier | None = None,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings | None = None,
) -> int:
    """Apply `action` to the chosen seats and to every seat in the rows of `row_seat_ids`;
    returns how many seats changed. Nothing changes if any of them is held or sold."""
    if not seat_ids and not row_seat_ids:
        raise SeatMapError("Choose at least one seat or row.")
    if action == SeatAction.ZONE and (tier is None or tier.event_id != event.id):
        raise SeatMapError("Choose the ticket type (price zone) for these seats.")
    chosen = set(seat_ids) | set(row_seat_ids)
    with busy_on_lock_timeout():
        _lock_seat_map(session, event)
        rows = session.execute(
            select(func.coalesce(Unit.section, ""), Unit.row_label).where(
                Unit.id.in_(row_seat_ids), Unit.event_id == event.id
            )
        ).all()
        in_rows = tuple_(func.coalesce(Unit.section, ""), Unit.row_label).in_(
            [tuple(row) for row in rows]
        )
        units = session.scalars(
            select(Unit)
            .where(Unit.event_id == event.id, Unit.seat_number.is_not(None))
            .where(or_(Unit.id.in_(chosen), in_rows) if rows else Unit.id.in_(chosen))
            .order_by(Unit.seat_order)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    if not chosen <= {u.id for u in units}:
        raise NotFound("Some of those seats are not part of this event.")
    in_use = [u for u in units if u.booking_id is not None]
    if in_use:
        raise SeatsInUse(f"These seats are held or sold and cannot be changed: {_labels(in_use)}.")
    before = {u.tier_id for u in units}
    for unit in units:
        _apply(unit, action, tier)
    session.flush()
    grown = _sync_zone_capacity(session, event)
    if action in (SeatAction.UNBLOCK, SeatAction.ZONE):
        grown |= {u.tier_id for u in units if u.tier_id is not None}
    _after_change(session, event, grown, now=now, offers=offers)
    audit.record(
        session,
        f"seatmap.{action.value}",
        actor_id=actor_id,
        target=event,
        now=now,
        seats=len(units),
        tier_id=tier.id if tier else None,
        previous_tiers=sorted(t for t in before if t is not None),
    )
    return len(units)


def best_available(
    session: Session,
    *,
    event: Event,
    tier: TicketTier,
    quantity: int,
    exclude: Sequence[int] = (),
) -> list[int]:
    """Seat ids for `quantity` free seats of `tier`: adjacent in one row when possible (front
    rows first, then nearest the middle), else the tightest group in one row, else the fewest
    neighbouring rows, else the front-most seats. Empty when fewer seats are free.
    Wheelchair spaces are never handed out here: they are for the people who pick them."""
    if quantity < 1:
        return []
    query = select(Unit.id, Unit.section, Unit.row_label, Unit.grid_x).where(
        Unit.event_id == event.id,
        Unit.tier_id == tier.id,
        Unit.seat_number.is_not(None),
        Unit.booking_id.is_(None),
        Unit.blocked.is_(False),
        Unit.accessible.is_(False),
    )
    if exclude:
        query = query.where(Unit.id.not_in(exclude))
    free = session.execute(query.order_by(Unit.seat_order)).all()
    if len(free) < quantity:
        return []
    middle = _section_middles(session, event)
    rows: dict[tuple[str | None, str | None], list] = defaultdict(list)
    for seat in free:
        rows[(seat.section, seat.row_label)].append(seat)
    ordered = list(rows.values())  # front rows first: `free` is in seat order

    def off_centre(seats: Sequence) -> float:
        centre = (seats[0].grid_x + seats[-1].grid_x) / 2
        return abs(centre - middle[seats[0].section])

    def groups(row: list) -> list[list]:
        """Every `quantity` free seats that follow each other in the row (gaps allowed)."""
        return [row[i : i + quantity] for i in range(len(row) - quantity + 1)]

    def width(seats: Sequence) -> int:
        return seats[-1].grid_x - seats[0].grid_x

    for row in ordered:
        together = [g for g in groups(row) if width(g) == quantity - 1]
        if together:
            return [s.id for s in min(together, key=off_centre)]
    for row in ordered:
        if len(row) >= quantity:
            tightest = min(groups(row), key=lambda g: (width(g), off_centre(g)))
            return [s.id for s in tightest]
    return [s.id for s in _fewest_rows(ordered, quantity, middle)]


def hold_best_available(
    session: Session,
    *,
    user: User,
    event: Event,
    tier: TicketTier,
    quantity: int,
    access_code: str | None = None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings | None = None,
) -> Booking:
    """Hold the best `quantity` free seats of `tier`; when another buyer takes some of them
    first, the next best are tried (a few times) before answering "sold out"."""
    if tier.event_id != event.id:
        raise BookingError("invalid_tier")
    check_order_size(tier, quantity)
    taken: list[int] = []
    for _ in range(BEST_AVAILABLE_ATTEMPTS):
        seat_ids = best_available(session, event=event, tier=tier, quantity=quantity, exclude=taken)
        if not seat_ids:
            break
        try:
            with session.begin_nested():
                return hold_units(
                    session,
                    user=user,
                    event=event,
                    tier=tier,
                    quantity=quantity,
                    seat_ids=seat_ids,
                    access_code=access_code,
                    now=now,
                    hold_minutes=hold_minutes,
                    offers=offers,
                )
        except BookingError as error:
            if error.code != "seats_taken":
                raise
            taken.extend(seat_ids)
    raise BookingError("sold_out", f"{tier.name}: fewer than {quantity} seats are left.")


def _fewest_rows(rows: list[list], quantity: int, middle: dict) -> list:
    """Seats from the smallest run of neighbouring rows of one section holding `quantity`."""
    best: tuple[int, int] | None = None
    for start in range(len(rows)):
        count = 0
        for end in range(start, len(rows)):
            if rows[end][0].section != rows[start][0].section:
                break
            count += len(rows[end])
            if count >= quantity:
                if best is None or end - start < best[1] - best[0]:
                    best = (start, end)
                break
    if best is None:
        return [seat for row in rows for seat in row][:quantity]
    picked = [seat for row in rows[best[0] : best[1]] for seat in row]
    last = sorted(rows[best[1]], key=lambda s: abs(s.grid_x - middle[s.section]))
    return picked + last[: quantity - len(picked)]


def _section_middles(session: Session, event: Event) -> dict[str | None, float]:
    rows = session.execute(
        select(Unit.section, func.min(Unit.grid_x), func.max(Unit.grid_x))
        .where(Unit.event_id == event.id, Unit.seat_number.is_not(None))
        .group_by(Unit.section)
    )
    return {section: (low + high) / 2 for section, low, high in rows}


def _lock_seat_map(session: Session, event: Event) -> None:
    """One seat map edit per event at a time (a first layout has no seat rows to lock yet)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"seatmap:{event.id}"},
    )


def _lock_units(session: Session, event: Event, *, seats: bool) -> list:
    has_ticket = exists().where(Ticket.unit_id == Unit.id).label("has_ticket")
    kind = Unit.seat_number.is_not(None) if seats else Unit.seat_number.is_(None)
    return list(
        session.execute(
            select(
                Unit.id,
                Unit.section,
                Unit.row_label,
                Unit.seat_number,
                Unit.booking_id,
                has_ticket,
            )
            .where(Unit.event_id == event.id, kind)
            .with_for_update(of=Unit)
        )
    )


def _placement(spec: SeatSpec) -> dict[str, object]:
    return {"grid_x": spec.grid_x, "grid_y": spec.grid_y, "seat_order": spec.seat_order}


def _apply(unit: Unit, action: SeatAction, tier: TicketTier | None) -> None:
    if action == SeatAction.BLOCK:
        unit.blocked = True
    elif action == SeatAction.UNBLOCK:
        unit.blocked = False
    elif action == SeatAction.WHEELCHAIR:
        unit.accessible = True
    elif action == SeatAction.NO_WHEELCHAIR:
        unit.accessible = False
    elif action == SeatAction.ZONE:
        unit.tier_id = tier.id if tier else None
    elif action == SeatAction.UNZONE:
        unit.tier_id = None


def _sync_zone_capacity(session: Session, event: Event) -> set[int]:
    """A seated event's tier holds as many units as its zone has seats; returns the tiers
    whose capacity grew."""
    counts = dict(
        session.execute(
            select(Unit.tier_id, func.count())
            .where(Unit.event_id == event.id, Unit.tier_id.is_not(None))
            .group_by(Unit.tier_id)
        ).all()
    )
    grown: set[int] = set()
    for tier in session.scalars(select(TicketTier).where(TicketTier.event_id == event.id)):
        capacity = counts.get(tier.id, 0)
        if capacity > tier.capacity:
            grown.add(tier.id)
        tier.capacity = capacity
    session.flush()
    return grown


def _after_change(
    session: Session,
    event: Event,
    tiers_with_new_seats: set[int],
    *,
    now: datetime,
    offers: OfferSettings | None,
) -> None:
    for tier_id in sorted(tiers_with_new_seats):
        make_offers(session, tier_id, now=now, settings=offers or OfferSettings())
    publish_availability(session, event.id)


def _labels(units: Sequence) -> str:
    shown = ", ".join(seat_label(u.section, u.row_label, u.seat_number) for u in units[:6])
    return shown + (f" and {len(units) - 6} more" if len(units) > 6 else "")
