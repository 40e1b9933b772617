"""The seat map read model: what each seat looks like to a buyer and to the organizer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.ticketing import seatmap_view
from app.domain.ticketing.models import Booking, BookingStatus, Unit
from app.domain.ticketing.seatmap import replace_layout
from app.domain.ticketing.seatmap_view import (
    public_remaining,
    seat_map_view,
)


def build(db: Session, make_event, make_tier, now, text: str):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    replace_layout(db, event=event, text=text, new_seat_tier=tier, actor_id=None, now=now)
    units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
    return event, tier, {f"{u.row_label}{u.seat_number}": u.id for u in units}


def book(db: Session, event, seat_ids, status, expires=None) -> None:  # noqa: ANN001
    booking = Booking(
        reference=f"R{seat_ids[0]}",
        event_id=event.id,
        quantity=len(seat_ids),
        status=status,
        hold_expires_at=expires,
    )
    db.add(booking)
    db.flush()
    db.execute(update(Unit).where(Unit.id.in_(seat_ids)).values(booking_id=booking.id))


def states(view) -> dict[str, str]:  # noqa: ANN001
    return {
        f"{row.label}{cell.number}": cell.state.value for row in view.rows for cell in row.cells
    }


def test_free_held_sold_and_blocked(db: Session, make_event, make_tier, now) -> None:
    event, tier, seat = build(db, make_event, make_tier, now, "Row A: 1-6")
    book(db, event, [seat["A1"]], BookingStatus.PENDING, now + timedelta(minutes=5))
    book(db, event, [seat["A2"]], BookingStatus.CONFIRMED)
    book(db, event, [seat["A3"]], BookingStatus.PENDING, now - timedelta(seconds=1))
    db.execute(update(Unit).where(Unit.id == seat["A4"]).values(blocked=True))
    db.execute(update(Unit).where(Unit.id == seat["A5"]).values(tier_id=None))

    buyer = seat_map_view(db, event, now=now)
    organizer = seat_map_view(db, event, now=now, organizer=True)

    assert states(buyer) == {
        "A1": "held",
        "A2": "sold",
        "A3": "free",
        "A4": "blocked",
        "A5": "blocked",
        "A6": "free",
    }
    # The organizer sees the raw flags: an unsold seat outside every zone is free (but zoneless).
    assert states(organizer) == {
        "A1": "held",
        "A2": "sold",
        "A3": "held",
        "A4": "blocked",
        "A5": "free",
        "A6": "free",
    }
    cell = buyer.rows[0].cells[5]
    assert (cell.name, cell.zone.name, cell.zone.price_minor) == ("Row A seat 6", "Standard", 2500)


def test_hidden_and_closed_zones_are_not_for_sale(db: Session, make_event, make_tier, now) -> None:
    event, tier, seat = build(db, make_event, make_tier, now, "Row A: 1-3")
    hidden = make_tier(event=event, name="Friends", hidden=True, access_code="FRIENDS", capacity=0)
    later = make_tier(event=event, name="Late", sales_start=now + timedelta(days=1), capacity=0)
    db.execute(update(Unit).where(Unit.id == seat["A1"]).values(tier_id=hidden.id))
    db.execute(update(Unit).where(Unit.id == seat["A2"]).values(tier_id=later.id))

    view = seat_map_view(db, event, now=now)
    assert states(view) == {"A1": "blocked", "A2": "blocked", "A3": "free"}
    assert [z.name for z in view.zones] == ["Standard", "Late"]
    assert not view.zones[1].on_sale
    unlocked = seat_map_view(db, event, now=now, unlocked_tier_ids={hidden.id})
    assert states(unlocked)["A1"] == "free"
    assert public_remaining(db, event.id, now=now) == {tier.id: 1, later.id: 1}


def test_rows_sections_and_aisles(db: Session, make_event, make_tier, now) -> None:
    event, _, _ = build(
        db, make_event, make_tier, now, "Section Stalls\nRow A: 2-3, 6\nSection Circle\nRow A: 1"
    )
    view = seat_map_view(db, event, now=now)

    assert [(s.index, s.name, s.seats, s.free) for s in view.sections] == [
        (0, "Stalls", 3, 3),
        (1, "Circle", 1, 1),
    ]
    stalls_a = view.sections[0].rows[0]
    assert (stalls_a.key, stalls_a.name) == ("s0r0", "Stalls, Row A")
    assert [(c.number, c.gap) for c in stalls_a.cells] == [("2", 0), ("3", 0), ("6", 2)]
    assert view.sections[1].rows[0].cells[0].name == "Circle, Row A seat 1"
    assert view.shown is None and view.seats == 4


def test_a_large_venue_shows_an_overview_then_one_part_at_a_time(
    db: Session, make_event, make_tier, now, monkeypatch
) -> None:
    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 3)
    event, _, _ = build(
        db, make_event, make_tier, now, "Section Stalls\nRow A: 1-3\nSection Circle\nRow A: 1-2"
    )

    overview = seat_map_view(db, event, now=now)
    first = seat_map_view(db, event, now=now, section=0)
    second = seat_map_view(db, event, now=now, section=1)
    beyond = seat_map_view(db, event, now=now, section=9)

    assert overview.paged and overview.shown is None and overview.rows == []
    assert [(s.name, s.seats, s.free) for s in overview.sections] == [
        ("Stalls", 3, 3),
        ("Circle", 2, 2),
    ]
    assert first.shown == 0 and [len(s.rows) for s in first.sections] == [1, 0]
    assert second.shown == 1 and [len(s.rows) for s in second.sections] == [0, 1]
    assert second.rows[0].key == "s1r0"
    assert beyond.shown == 1


def test_a_section_larger_than_a_page_is_cut_into_runs_of_rows(
    db: Session, make_event, make_tier, now, monkeypatch
) -> None:
    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 5)
    event, _, seat = build(
        db,
        make_event,
        make_tier,
        now,
        "Section Floor\nRow A: 1-2\nRow B: 1-2\nRow C: 1-2\nRow D: 1-6",
    )
    book(db, event, [seat["A1"]], BookingStatus.CONFIRMED)

    view = seat_map_view(db, event, now=now, section=0)

    assert [(s.name, s.seats, s.free) for s in view.sections] == [
        ("Floor, rows A–B", 4, 3),
        ("Floor, row C", 2, 2),
        ("Floor, row D", 6, 6),
    ]
    assert [row.label for row in view.rows] == ["A", "B"]
    assert [row.label for row in seat_map_view(db, event, now=now, section=2).rows] == ["D"]
