"""Hoarding: a user's new bookings per event are limited in rate, and a user who lets holds run
out repeatedly waits before holding again; on every way of holding, counted in the claim."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.best_seats import hold_best_available
from app.domain.ticketing.bookings import cancel_booking, confirm_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.holds import expire_due_holds
from app.domain.ticketing.models import Booking, Unit
from app.domain.ticketing.seatmap import replace_layout
from app.domain.ticketing.waitlist import OfferSettings, join_waitlist

RULES = HoldRules(
    holds=3,
    window=timedelta(minutes=10),
    expiries=2,
    expiry_window=timedelta(hours=1),
    cooldown=timedelta(minutes=30),
)


@pytest.fixture
def tier(make_tier):  # noqa: ANN001, ANN201
    return make_tier(capacity=100, price_minor=1500)


def hold(db, user, tier, now, quantity=1, rules=RULES):  # noqa: ANN001, ANN201
    return hold_units(
        db,
        user=user,
        event=tier.event,
        tier=tier,
        quantity=quantity,
        now=now,
        hold_minutes=10,
        rules=rules,
    )


def bookings_of(db, user) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(Booking).where(Booking.user_id == user.id))


def test_new_holds_per_event_are_limited_in_rate(db, now, tier, make_user):
    user = make_user()
    for minute in range(3):
        hold(db, user, tier, now + timedelta(minutes=minute))
    with pytest.raises(BookingError) as error:
        hold(db, user, tier, now + timedelta(minutes=3))
    assert error.value.code == "too_many_holds"
    # The oldest of the three leaves the window at now + 10 minutes.
    assert "try again in 7 minutes" in error.value.message
    assert bookings_of(db, user) == 3  # nothing was claimed
    assert hold(db, user, tier, now + timedelta(minutes=10, seconds=1)) is not None


def test_cancelled_holds_count_too(db, now, tier, make_user):
    """Holding and cancelling is how units would be kept from others: each new hold counts."""
    user = make_user()
    for minute in range(3):
        booking = hold(db, user, tier, now + timedelta(minutes=minute))
        cancel_booking(db, booking, actor_id=user.id, now=now + timedelta(minutes=minute))
    with pytest.raises(BookingError) as error:
        hold(db, user, tier, now + timedelta(minutes=4))
    assert error.value.code == "too_many_holds"


def test_the_rate_is_per_user_and_per_event(db, now, tier, make_user, make_tier):
    user, other_user = make_user(), make_user()
    for _ in range(3):
        hold(db, user, tier, now)
    assert hold(db, other_user, tier, now) is not None
    assert hold(db, user, make_tier(capacity=5, price_minor=1500), now) is not None


def test_the_rate_applies_without_a_per_user_limit_and_to_free_tickets(
    db, now, make_tier, make_user
):
    free = make_tier(capacity=100, per_user_limit=None)
    user = make_user()
    for _ in range(3):
        hold(db, user, free, now)
    with pytest.raises(BookingError) as error:
        hold(db, user, free, now)
    assert error.value.code == "too_many_holds"


def test_the_booking_form_path_counts_too(db, now, tier, make_user):
    user = make_user()

    def post():  # noqa: ANN202
        return hold_tier(
            db,
            user=user,
            event_id=tier.event_id,
            tier_id=tier.id,
            quantity=1,
            now=now,
            hold_minutes=10,
            rules=RULES,
        )

    for _ in range(3):
        post()
    with pytest.raises(BookingError) as error:
        post()
    assert error.value.code == "too_many_holds"


def test_letting_holds_expire_repeatedly_means_waiting(db, now, tier, make_user):
    user = make_user()
    hold(db, user, tier, now)  # runs out at +10 min
    hold(db, user, tier, now + timedelta(minutes=11))  # runs out at +21 min
    later = now + timedelta(minutes=22)
    # The second one ran out but was not released yet: it counts all the same.
    with pytest.raises(BookingError) as error:
        hold(db, user, tier, later)
    assert error.value.code == "holds_expired"
    assert "hold tickets again in 29 minutes" in error.value.message
    expire_due_holds(db, now=later, offers=OfferSettings())
    with pytest.raises(BookingError):
        hold(db, user, tier, now + timedelta(minutes=50))
    assert hold(db, user, tier, now + timedelta(minutes=51, seconds=1)) is not None


def test_paid_or_cancelled_holds_do_not_count_as_expired(db, now, tier, make_user):
    user = make_user()
    paid = hold(db, user, tier, now)
    confirm_booking(db, paid, now=now + timedelta(minutes=1))
    cancelled = hold(db, user, tier, now + timedelta(minutes=11))
    cancel_booking(db, cancelled, actor_id=user.id, now=now + timedelta(minutes=12))
    assert hold(db, user, tier, now + timedelta(minutes=30)) is not None


def test_expiries_long_ago_are_forgiven(db, now, tier, make_user):
    user = make_user()
    hold(db, user, tier, now)
    hold(db, user, tier, now + timedelta(minutes=11))
    assert hold(db, user, tier, now + timedelta(hours=1, minutes=22)) is not None


def test_waitlist_offers_are_not_the_users_doing(db, now, make_tier, make_user):
    """An offer is made by the system: a user waiting in line gets it whatever their rate."""
    scarce = make_tier(capacity=1, price_minor=1500)
    owner, waiting = make_user(), make_user()
    taken = hold(db, owner, scarce, now)
    for _ in range(3):
        hold(db, waiting, make_tier(event=scarce.event, capacity=5, price_minor=1500), now)
    join_waitlist(db, user=waiting, tier=scarce, quantity=1, now=now)
    cancel_booking(db, taken, actor_id=owner.id, now=now, offers=OfferSettings())
    offer = db.scalars(select(Booking).where(Booking.user_id == waiting.id).order_by(Booking.id))
    assert offer.all()[-1].quantity == 1 and bookings_of(db, waiting) == 4


@pytest.fixture
def seated(db, make_event, make_tier, now):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    stalls = make_tier(event=event, name="Stalls", price_minor=2000, capacity=0)
    layout = "\n".join(f"Row {row}: 1-10" for row in "ABCD")
    replace_layout(db, event=event, text=layout, new_seat_tier=stalls, actor_id=None, now=now)
    seats = db.scalars(select(Unit.id).where(Unit.event_id == event.id).order_by(Unit.id)).all()
    return event, stalls, list(seats)


def test_best_available_counts_the_rate(db, now, seated, make_user):
    event, stalls, _ = seated
    user = make_user()

    def best():  # noqa: ANN202
        return hold_best_available(
            db,
            user=user,
            event=event,
            tier=stalls,
            quantity=2,
            now=now,
            hold_minutes=10,
            rules=RULES,
        )

    for _ in range(3):
        best()
    with pytest.raises(BookingError) as error:
        best()
    assert error.value.code == "too_many_holds"
    assert bookings_of(db, user) == 3


def test_hand_picked_seats_count_the_rate(db, now, seated, make_user):
    event, _, seats = seated
    user = make_user()

    def pick(seat_id):  # noqa: ANN001, ANN202
        return hold_units(
            db,
            user=user,
            event=event,
            tier=None,
            quantity=1,
            seat_ids=[seat_id],
            now=now,
            hold_minutes=10,
            rules=RULES,
        )

    for seat_id in seats[:3]:
        pick(seat_id)
    with pytest.raises(BookingError) as error:
        pick(seats[3])
    assert error.value.code == "too_many_holds"
    assert db.get(Unit, seats[3]).booking_id is None


def test_rules_come_from_the_settings(app):
    rules = HoldRules.from_config(
        {
            **app.config,
            "HOLD_RATE_MAX": 4,
            "HOLD_RATE_WINDOW_SECONDS": 60,
            "EXPIRED_HOLDS_MAX": 5,
            "EXPIRED_HOLDS_WINDOW_SECONDS": 7200,
            "EXPIRED_HOLDS_COOLDOWN_SECONDS": 900,
        }
    )
    assert rules == HoldRules(4, timedelta(minutes=1), 5, timedelta(hours=2), timedelta(minutes=15))
    assert HoldRules.from_config(app.config) == HoldRules()  # the defaults agree
