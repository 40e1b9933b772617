"""Holding chosen seats: exactly those seats or nothing, priced by their zones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, Unit


@pytest.fixture
def hall(db, make_event, make_tier):
    """A seated event: row A in the stalls zone (40.00), row B in the balcony zone (25.00),
    seat B3 blocked, seat B4 outside every zone."""
    event = make_event(is_seated=True)
    stalls = make_tier(event=event, name="Stalls", price_minor=4000, max_per_order=4)
    balcony = make_tier(event=event, name="Balcony", price_minor=2500, max_per_order=4)
    seats = {}
    for order, (row, number, tier, blocked) in enumerate(
        [
            ("A", 1, stalls, False),
            ("A", 2, stalls, False),
            ("A", 3, stalls, False),
            ("B", 1, balcony, False),
            ("B", 2, balcony, False),
            ("B", 3, balcony, True),
            ("B", 4, None, False),
        ]
    ):
        unit = Unit(
            event_id=event.id,
            tier_id=tier.id if tier else None,
            seat_order=order,
            row_label=row,
            seat_number=str(number),
            blocked=blocked,
        )
        db.add(unit)
        db.flush()
        seats[f"{row}{number}"] = unit.id
    return event, stalls, balcony, seats


def hold_seats(db, now, user, event, seat_ids, **kw):
    return hold_units(
        db,
        user=user,
        event=event,
        tier=None,
        quantity=len(seat_ids),
        seat_ids=seat_ids,
        now=now,
        hold_minutes=10,
        **kw,
    )


def held(db) -> int:
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None)))


def test_seats_of_two_zones_are_held_and_priced_by_zone(db, now, make_user, hall):
    event, stalls, balcony, seats = hall
    booking = hold_seats(db, now, make_user(), event, [seats["A1"], seats["B1"]])
    assert booking.status == BookingStatus.PENDING
    assert booking.total_minor == 4000 + 2500 and booking.quantity == 2
    lines = {(line.tier_id, line.quantity, tuple(line.seat_ids)) for line in booking.lines}
    assert lines == {(stalls.id, 1, (seats["A1"],)), (balcony.id, 1, (seats["B1"],))}
    assert set(db.scalars(select(Unit.id).where(Unit.booking_id == booking.id))) == {
        seats["A1"],
        seats["B1"],
    }


def test_a_taken_seat_refuses_the_whole_choice(db, now, make_user, hall):
    event, _, _, seats = hall
    hold_seats(db, now, make_user(), event, [seats["A2"]])
    with pytest.raises(BookingError) as error:
        hold_seats(db, now, make_user(), event, [seats["A1"], seats["A2"]])
    assert error.value.code == "seats_taken"
    assert "just taken" in error.value.message
    assert held(db) == 1 and db.scalar(select(func.count()).select_from(Booking)) == 1


@pytest.mark.parametrize("seat", ["B3", "B4"])
def test_blocked_or_unzoned_seats_cannot_be_booked(db, now, make_user, hall, seat):
    event, _, _, seats = hall
    with pytest.raises(BookingError) as error:
        hold_seats(db, now, make_user(), event, [seats["A1"], seats[seat]])
    assert error.value.code == "invalid_seats"
    assert held(db) == 0


def test_seats_of_another_event_are_refused(db, now, make_user, make_event, hall):
    event, _, _, seats = hall
    other = make_event(is_seated=True)
    with pytest.raises(BookingError) as error:
        hold_seats(db, now, make_user(), other, [seats["A1"]])
    assert error.value.code == "invalid_seats"
    with pytest.raises(BookingError):
        hold_seats(db, now, make_user(), event, [seats["A1"], 987654])
    assert held(db) == 0


def test_the_same_seat_twice_in_one_choice(db, now, make_user, hall):
    event, _, _, seats = hall
    with pytest.raises(BookingError, match="only once"):
        hold_seats(db, now, make_user(), event, [seats["A1"], seats["A1"]])


def test_zone_limits_apply_to_seats(db, now, make_user, hall):
    event, stalls, _, seats = hall
    stalls.max_per_order = 2
    with pytest.raises(BookingError) as error:
        hold_seats(db, now, make_user(), event, [seats["A1"], seats["A2"], seats["A3"]])
    assert error.value.code == "invalid_quantity"
    stalls.per_user_limit = 1
    with pytest.raises(BookingError) as error:
        hold_seats(db, now, make_user(), event, [seats["A1"], seats["A2"]])
    assert error.value.code == "limit_exceeded"
    assert held(db) == 0


def test_free_seats_confirm_at_once(db, now, make_user, make_event, make_tier):
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Free seating")
    unit = Unit(event_id=event.id, tier_id=tier.id, row_label="C", seat_number="1")
    db.add(unit)
    db.flush()
    booking = hold_seats(db, now, make_user(), event, [unit.id])
    assert booking.status == BookingStatus.CONFIRMED
    assert db.scalar(select(Ticket.unit_id).where(Ticket.booking_id == booking.id)) == unit.id
