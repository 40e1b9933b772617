"""Seat maps of seated events: lay out the venue, edit its seats, find the best free seats.

Every seat is a row of `units` (seat_number set); a seat's tier is its price zone, and a seat
outside every zone is not for sale. Seats that are held or sold are never changed or removed
here: the organizer's edit locks the seats it touches (`FOR UPDATE`), so a buyer's claim
(`SKIP LOCKED`) and an edit never interleave on the same seat.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.base import DomainError, NotFound
from app.domain.events.models import Event
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.locking import busy_on_lock_timeout
from app.domain.ticketing.models import Ticket, TicketTier, Unit
from app.domain.ticketing.seat_layout import SeatSpec, format_layout, parse_layout
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.ticketing.waitlist import OfferSettings, make_offers


class SeatAction(enum.StrEnum):
    BLOCK = "block"
    UNBLOCK = "unblock"
    WHEELCHAIR = "wheelchair"
    NO_WHEELCHAIR = "no_wheelchair"
    ZONE = "zone"
    UNZONE = "unzone"


class SeatMapError(DomainError):
    code = "seatmap"


class SeatsInUse(DomainError):
    """Held or sold seats (or seats with ticket history) cannot be changed or removed."""

    code = "seats_in_use"


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
    added = [spec for key, spec in wanted.items() if key not in current]
    if added:
        _insert_seats(session, event, added, new_seat_tier)
    event.is_seated = True
    session.flush()
    grown = _sync_zone_capacity(session, event)
    _centre_tier_rows(session, event)
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
    if action == SeatAction.ZONE:
        _centre_tier_rows(session, event)
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


# New seats in one statement from arrays: one run of the tier rows' statement trigger, and
# no per-seat statements or per-value bind parameters for a 20,000-seat venue.
_INSERT_SEATS = text(
    "INSERT INTO units (event_id, tier_id, section, row_label, seat_number, blocked, accessible,"
    " grid_x, grid_y, seat_order)"
    " SELECT :event_id, :tier_id, s, r, n, false, false, x, y, o"
    " FROM unnest(CAST(:sections AS text[]), CAST(:rows AS text[]), CAST(:numbers AS text[]),"
    " CAST(:xs AS integer[]), CAST(:ys AS integer[]), CAST(:orders AS integer[]))"
    " AS seat(s, r, n, x, y, o)"
)


def _insert_seats(
    session: Session, event: Event, specs: list[SeatSpec], tier: TicketTier | None
) -> None:
    session.execute(
        _INSERT_SEATS,
        {
            "event_id": event.id,
            "tier_id": tier.id if tier else None,
            "sections": [spec.section for spec in specs],
            "rows": [spec.row_label for spec in specs],
            "numbers": [str(spec.number) for spec in specs],
            "xs": [spec.grid_x for spec in specs],
            "ys": [spec.grid_y for spec in specs],
            "orders": [spec.seat_order for spec in specs],
        },
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


def _centre_tier_rows(session: Session, event: Event) -> None:
    """Aim best available at the middle of each section (tier rows keep it, doubled)."""
    session.execute(
        text(
            "UPDATE tier_rows t SET centre_x2 = s.centre_x2"
            " FROM (SELECT coalesce(section, '') AS section, min(grid_x) + max(grid_x) AS centre_x2"
            "       FROM units WHERE event_id = :event_id AND seat_number IS NOT NULL GROUP BY 1) s"
            " WHERE t.event_id = :event_id AND t.section = s.section"
            " AND t.centre_x2 <> s.centre_x2"
        ),
        {"event_id": event.id},
    )


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
