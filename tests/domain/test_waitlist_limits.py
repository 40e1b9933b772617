"""The per-user limit across the waitlist: joining, each offer and claiming an offer count what
the user already holds or owns of the tier, so the queue is never a way round the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking, claim_free_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import lock_user_event
from app.domain.ticketing.models import Booking, BookingStatus, Unit, WaitlistStatus
from app.domain.ticketing.tiers import set_capacity
from app.domain.ticketing.waitlist import OfferSettings, join_waitlist, make_offers

OFFERS = OfferSettings(minutes=30)


def hold(db, user, tier, now, quantity=1):  # noqa: ANN001, ANN201
    return hold_units(
        db, user=user, event=tier.event, tier=tier, quantity=quantity, now=now, hold_minutes=10
    )


def units_of(db, user, tier) -> int:  # noqa: ANN001
    return db.scalar(
        select(func.count())
        .select_from(Unit)
        .join(Booking, Booking.id == Unit.booking_id)
        .where(Booking.user_id == user.id, Unit.tier_id == tier.id)
        .where(Booking.status.in_([BookingStatus.PENDING, BookingStatus.CONFIRMED]))
    )


def test_joining_counts_what_the_user_already_holds(db, now, make_tier, make_user):
    tier = make_tier(capacity=3, price_minor=1500, per_user_limit=4)
    user = make_user()
    hold(db, user, tier, now, quantity=3)  # and now it is sold out
    with pytest.raises(BookingError) as error:
        join_waitlist(db, user=user, tier=tier, quantity=2, now=now)
    assert error.value.code == "limit_exceeded"
    assert "you can book 1 more" in error.value.message
    assert join_waitlist(db, user=user, tier=tier, quantity=1, now=now).quantity == 1


def test_a_converted_entry_opens_no_way_round_the_limit(db, now, make_tier, make_user):
    tier = make_tier(capacity=2, per_user_limit=2)
    owner, user = make_user(), make_user()
    taken = hold(db, owner, tier, now, quantity=2)
    entry = join_waitlist(db, user=user, tier=tier, quantity=2, now=now)
    cancel_booking(db, taken, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(entry)
    claim_free_booking(db, db.get(Booking, entry.booking_id), now=now)
    db.refresh(entry)
    assert entry.status == WaitlistStatus.CONVERTED and units_of(db, user, tier) == 2
    # Sold out again, and the converted entry is no longer active: joining again is refused.
    with pytest.raises(BookingError) as error:
        join_waitlist(db, user=user, tier=tier, quantity=1, now=now)
    assert error.value.code == "limit_exceeded"


def test_an_offer_that_would_pass_the_limit_closes_the_entry(db, now, make_tier, make_user):
    """The user joined for 2 (limit 2), then booked 1 directly: an offer of 2 would give them
    3, so their entry is used up and the next in line is served."""
    tier = make_tier(capacity=1, per_user_limit=2)
    owner, user, next_in_line = make_user(), make_user(), make_user()
    hold(db, owner, tier, now)
    entry = join_waitlist(db, user=user, tier=tier, quantity=2, now=now)
    behind = join_waitlist(db, user=next_in_line, tier=tier, quantity=1, now=now)
    set_capacity(db, tier, 2, now=now, offers=OFFERS)  # one free: the first in line wants two
    db.refresh(entry)
    assert entry.status == WaitlistStatus.WAITING
    hold(db, user, tier, now)  # the free one, booked directly
    set_capacity(db, tier, 4, now=now, offers=OFFERS)
    db.refresh(entry)
    db.refresh(behind)
    assert entry.status == WaitlistStatus.LEFT and entry.booking_id is None
    assert behind.status == WaitlistStatus.OFFERED
    assert units_of(db, user, tier) == 1


def test_claiming_an_offer_counts_what_the_user_got_since(db, now, make_tier, make_user):
    tier = make_tier(capacity=2, per_user_limit=4)
    owner, user = make_user(), make_user()
    taken = hold(db, owner, tier, now, quantity=2)
    entry = join_waitlist(db, user=user, tier=tier, quantity=2, now=now)
    cancel_booking(db, taken, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(entry)
    offer = db.get(Booking, entry.booking_id)
    set_capacity(db, tier, 4, now=now, offers=OFFERS)
    hold(db, user, tier, now, quantity=2)  # the limit allows 2 + 2
    tier.per_user_limit = 3  # the organizer lowers it
    db.flush()
    with pytest.raises(BookingError) as error:
        claim_free_booking(db, offer, now=now)
    assert error.value.code == "limit_exceeded"
    db.refresh(offer)
    assert offer.status == BookingStatus.PENDING  # nothing changed
    tier.per_user_limit = 4
    db.flush()
    assert claim_free_booking(db, offer, now=now).status == BookingStatus.CONFIRMED


def test_an_offer_does_not_wait_for_the_users_own_request(db, now, make_tier, make_user, app):
    """While another transaction holds the user's lock (their own booking in flight), the
    offer is left for the next sweep instead of waiting, and nobody behind is served first."""
    tier = make_tier(capacity=1, per_user_limit=2)
    owner, user, next_in_line = make_user(), make_user(), make_user()
    taken = hold(db, owner, tier, now)
    entry = join_waitlist(db, user=user, tier=tier, quantity=1, now=now)
    behind = join_waitlist(db, user=next_in_line, tier=tier, quantity=1, now=now)
    db.commit()
    with app.extensions["db"].session() as their_request:
        lock_user_event(their_request, user.id, tier.event_id)
        cancel_booking(db, taken, actor_id=owner.id, now=now, offers=OFFERS)
        db.refresh(entry)
        db.refresh(behind)
        assert (entry.status, behind.status) == (WaitlistStatus.WAITING, WaitlistStatus.WAITING)
        their_request.rollback()
    assert make_offers(db, tier.id, now=now, settings=OFFERS) == 1
    db.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
