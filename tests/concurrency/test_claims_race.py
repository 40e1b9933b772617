"""Many buyers for the last units: exactly as many sales as units, and no unit sold twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketTier, Unit


def sold_units(db, tier_id: int) -> list[int]:
    return list(
        db.scalars(
            select(Unit.booking_id).where(Unit.tier_id == tier_id, Unit.booking_id.is_not(None))
        )
    )


def test_fifty_buyers_for_the_last_ten_units(db, now, parallel, make_user, make_tier):
    tier = make_tier(capacity=100)
    early = make_user()
    hold_units(db, user=early, event=tier.event, tier=tier, quantity=10, now=now, hold_minutes=10)
    for _ in range(8):  # 80 more sold: 10 units left
        hold_units(
            db, user=make_user(), event=tier.event, tier=tier, quantity=10, now=now, hold_minutes=10
        )
    buyers = [make_user().id for _ in range(50)]
    db.commit()

    def buy(index, session):
        return hold_units(
            session,
            user=session.get(User, buyers[index]),
            event=session.get(Event, tier.event_id),
            tier=session.get(TicketTier, tier.id),
            quantity=1,
            now=now,
            hold_minutes=10,
        ).id

    results = parallel.run(50, buy)
    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(won) == 10, results
    assert len(refused) == 40 and {e.code for e in refused} == {"sold_out"}
    db.expire_all()
    assert len(sold_units(db, tier.id)) == 100
    # Each winning booking owns exactly one unit and one ticket; no unit has two live tickets.
    owners = db.execute(
        select(Unit.booking_id, func.count())
        .where(Unit.booking_id.in_(won))
        .group_by(Unit.booking_id)
    ).all()
    assert sorted(count for _, count in owners) == [1] * 10
    assert db.scalar(select(func.count()).select_from(Ticket)) == 100
    assert db.scalar(select(func.count(func.distinct(Ticket.unit_id)))) == 100
    assert db.scalar(select(func.count()).select_from(Booking)) == 19


@pytest.fixture
def last_ten_seats(db, make_user, make_tier, make_event):
    """A seated event whose last 10 free seats are A1..A10, and 50 buyers."""
    event = make_event(is_seated=True)
    tier = make_tier(event=event, price_minor=4000)
    seat_ids = []
    for number in range(1, 11):
        seat = Unit(
            event_id=event.id,
            tier_id=tier.id,
            seat_order=number,
            row_label="A",
            seat_number=str(number),
        )
        db.add(seat)
        db.flush()
        seat_ids.append(seat.id)
    buyers = [make_user().id for _ in range(50)]
    db.commit()
    return event.id, seat_ids, buyers


def buy_seats(session, now, event_id, user_id, wanted):
    return hold_units(
        session,
        user=session.get(User, user_id),
        event=session.get(Event, event_id),
        tier=None,
        quantity=len(wanted),
        seat_ids=wanted,
        now=now,
        hold_minutes=10,
    ).id


def test_fifty_buyers_for_the_last_ten_seats(db, now, parallel, last_ten_seats):
    event_id, seat_ids, buyers = last_ten_seats

    def buy(index, session):  # five buyers want each seat
        return buy_seats(session, now, event_id, buyers[index], [seat_ids[index % 10]])

    results = parallel.run(50, buy)
    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(won) == 10 and len(refused) == 40, results
    assert {e.code for e in refused} == {"seats_taken"}
    db.expire_all()
    owners = dict(db.execute(select(Unit.id, Unit.booking_id).where(Unit.id.in_(seat_ids))).all())
    assert sorted(owners.values()) == sorted(won)  # every seat sold once, to a winner


def test_overlapping_pairs_are_never_half_booked(db, now, parallel, last_ten_seats):
    event_id, seat_ids, buyers = last_ten_seats

    def buy(index, session):  # each buyer wants a seat and its neighbour
        first = index % 10
        wanted = [seat_ids[first], seat_ids[(first + 1) % 10]]
        return buy_seats(session, now, event_id, buyers[index], wanted)

    results = parallel.run(50, buy)
    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(won) + len(refused) == 50, results
    assert {e.code for e in refused} <= {"seats_taken"}
    db.expire_all()
    per_booking = db.execute(
        select(Unit.booking_id, func.count())
        .where(Unit.id.in_(seat_ids), Unit.booking_id.is_not(None))
        .group_by(Unit.booking_id)
    ).all()
    assert {booking for booking, _ in per_booking} == set(won)
    assert all(count == 2 for _, count in per_booking)
    assert 1 <= len(won) <= 5
    assert set(db.scalars(select(Booking.status))) == {BookingStatus.PENDING}
