"""Holding units: general admission and seats, free and paid, and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.events.models import EventStatus
from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import (
    Booking,
    BookingStatus,
    Ticket,
    Unit,
)


def held_units(db) -> int:
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None)))


def bookings(db) -> int:
    return db.scalar(select(func.count()).select_from(Booking))


def hold(db, now, user, event, tier, quantity=1, **kw):
    kw.setdefault("hold_minutes", 10)
    return hold_units(db, user=user, event=event, tier=tier, quantity=quantity, now=now, **kw)


def test_free_tier_confirms_at_once_with_tickets(db, now, make_user, make_tier):
    tier = make_tier(capacity=5)
    user = make_user()
    booking = hold(db, now, user, tier.event, tier, 2)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.hold_expires_at is None and booking.confirmed_at == now
    assert booking.total_minor == 0 and booking.quantity == 2
    tickets = db.scalars(select(Ticket).where(Ticket.booking_id == booking.id)).all()
    assert len(tickets) == 2
    assert len({t.secret for t in tickets}) == 2 and all(len(t.secret) == 64 for t in tickets)
    assert held_units(db) == 2
    assert [(line.tier_id, line.quantity) for line in booking.lines] == [(tier.id, 2)]


def test_paid_tier_holds_pending_in_seat_order(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=2500)
    booking = hold(db, now, make_user(), tier.event, tier, 3, hold_minutes=7)
    assert booking.status == BookingStatus.PENDING
    assert booking.hold_expires_at == now + timedelta(minutes=7)
    assert booking.total_minor == 7500 and booking.currency == tier.currency
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0
    orders = db.scalars(select(Unit.seat_order).where(Unit.booking_id == booking.id)).all()
    assert sorted(orders) == [1, 2, 3]


def test_sold_out_keeps_nothing(db, now, make_user, make_tier):
    tier = make_tier(capacity=3)
    hold(db, now, make_user(), tier.event, tier, 2)
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), tier.event, tier, 2)
    assert error.value.code == "sold_out"
    assert bookings(db) == 1 and held_units(db) == 2


def test_expired_hold_is_released_lazily_when_sold_out(db, now, make_user, make_tier):
    tier = make_tier(capacity=2, price_minor=100)
    first = hold(db, now, make_user(), tier.event, tier, 2, hold_minutes=10)
    later = now + timedelta(minutes=11)
    second = hold(db, later, make_user(), tier.event, tier, 2)
    db.refresh(first)
    assert first.status == BookingStatus.EXPIRED
    assert second.status == BookingStatus.PENDING and held_units(db) == 2


@pytest.mark.parametrize("quantity", [0, -1, 11])
def test_bad_quantity(db, now, make_user, make_tier, quantity):
    tier = make_tier(capacity=20)
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), tier.event, tier, quantity)
    assert error.value.code == "invalid_quantity"
    assert bookings(db) == 0 and held_units(db) == 0


def test_min_per_order(db, now, make_user, make_tier):
    tier = make_tier(capacity=20, min_per_order=2, max_per_order=4)
    with pytest.raises(BookingError, match="between 2 and 4"):
        hold(db, now, make_user(), tier.event, tier, 1)
    assert bookings(db) == 0


def test_tier_of_another_event_is_refused(db, now, make_user, make_tier, make_event):
    tier = make_tier(capacity=5)
    other_event = make_event()
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), other_event, tier, 1)
    assert error.value.code == "invalid_tier"
    assert held_units(db) == 0


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_unpublished_event_is_not_on_sale(db, now, make_user, make_tier, make_event, status):
    tier = make_tier(event=make_event(status=status), capacity=5)
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), tier.event, tier, 1)
    assert error.value.code == "event_not_on_sale"


@pytest.mark.parametrize(
    ("start", "end"), [(timedelta(hours=1), None), (None, timedelta(0)), (None, -timedelta(days=1))]
)
def test_outside_sales_window(db, now, make_user, make_tier, start, end):
    tier = make_tier(
        capacity=5,
        sales_start=now + start if start is not None else None,
        sales_end=now + end if end is not None else None,
    )
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), tier.event, tier, 1)
    assert error.value.code == "sales_closed"
    assert held_units(db) == 0


def test_hidden_tier_needs_its_code(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, hidden=True, access_code="PRESS-2027")
    user = make_user()
    for code in (None, "", "press-2027", "wrong"):
        with pytest.raises(BookingError) as error:
            hold(db, now, user, tier.event, tier, 1, access_code=code)
        assert error.value.code == "hidden_tier"
    assert held_units(db) == 0
    booking = hold(db, now, user, tier.event, tier, 1, access_code=" PRESS-2027 ")
    assert booking.status == BookingStatus.CONFIRMED


def test_per_user_limit_counts_live_bookings(db, now, make_user, make_tier):
    tier = make_tier(capacity=20, per_user_limit=3, price_minor=500)
    user = make_user()
    hold(db, now, user, tier.event, tier, 2)
    with pytest.raises(BookingError, match="1 more") as error:
        hold(db, now, user, tier.event, tier, 2)
    assert error.value.code == "limit_exceeded"
    hold(db, now, user, tier.event, tier, 1)
    # Expired holds no longer count.
    assert hold(db, now + timedelta(minutes=11), user, tier.event, tier, 3).quantity == 3
    # Another user has their own allowance.
    assert hold(db, now, make_user(), tier.event, tier, 3).quantity == 3


def test_missing_tier_without_seats(db, now, make_user, make_event):
    with pytest.raises(BookingError) as error:
        hold(db, now, make_user(), make_event(), None, 1)
    assert error.value.code == "invalid_tier"


def test_hold_tier_by_id_refuses_foreign_and_unknown_ids(db, now, make_user, make_tier, make_event):
    tier = make_tier(capacity=3)
    other = make_event()
    user = make_user()
    for event_id, tier_id in ((other.id, tier.id), (tier.event_id, 987654)):
        with pytest.raises(BookingError) as error:
            hold_tier(
                db,
                user=user,
                event_id=event_id,
                tier_id=tier_id,
                quantity=1,
                now=now,
                hold_minutes=10,
            )
        assert error.value.code == "invalid_tier"
    booking = hold_tier(
        db,
        user=user,
        event_id=tier.event_id,
        tier_id=tier.id,
        quantity=2,
        now=now,
        hold_minutes=10,
    )
    assert booking.status == BookingStatus.CONFIRMED and held_units(db) == 2
