"""Waitlists: join only when sold out; freed units are offered in order, with an email; an
unclaimed offer passes to the next in line; conversions are counted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking, claim_free_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, WaitlistStatus
from app.domain.ticketing.waitlist import OfferSettings, event_waitlists, join_waitlist
from jobs.ticketing_tasks import advance_waitlists, expire_holds

OFFERS = OfferSettings(minutes=30)


@pytest.fixture
def sold_out(db, now, make_tier, make_user):
    """A free tier of 2 units, both booked by `owner`."""
    tier = make_tier(capacity=2)
    owner = make_user()
    booking = hold_units(
        db, user=owner, event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    return tier, owner, booking


def test_join_only_when_sold_out(db, now, make_tier, make_user):
    tier = make_tier(capacity=3)
    with pytest.raises(BookingError) as error:
        join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    assert error.value.code == "not_sold_out"


def test_join_rules(db, now, sold_out, make_user):
    tier, _, _ = sold_out
    user = make_user()
    for quantity in (0, 11):
        with pytest.raises(BookingError, match="choose"):
            join_waitlist(db, user=user, tier=tier, quantity=quantity, now=now)
    join_waitlist(db, user=user, tier=tier, quantity=1, now=now)
    with pytest.raises(BookingError) as error:
        join_waitlist(db, user=user, tier=tier, quantity=2, now=now)
    assert error.value.code == "already_waiting"


def test_cancellation_offers_units_to_the_first_in_line_with_an_email(
    db, app, now, sold_out, make_user, notification_mail
):
    tier, owner, booking = sold_out
    first, second = make_user(), make_user()
    first_entry = join_waitlist(db, user=first, tier=tier, quantity=2, now=now)
    second_entry = join_waitlist(db, user=second, tier=tier, quantity=1, now=now)
    cancel_booking(db, booking, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(first_entry)
    db.refresh(second_entry)
    assert first_entry.status == WaitlistStatus.OFFERED
    assert first_entry.offer_expires_at == now + timedelta(minutes=30)
    assert second_entry.status == WaitlistStatus.WAITING  # nothing left for them yet
    offer = db.get(Booking, first_entry.booking_id)
    assert offer.status == BookingStatus.PENDING and offer.user_id == first.id
    assert offer.hold_expires_at == first_entry.offer_expires_at and offer.quantity == 2
    (mail,) = notification_mail(kind="waitlist_offer")
    assert mail["to"] == first.email
    assert mail["key"] == f"booking:{offer.id}:waitlist_offer:email"
    assert f"{app.config['BASE_URL']}/account/bookings/{offer.reference}" in mail["text"]


def test_strict_order_the_first_in_line_blocks_smaller_requests(db, now, sold_out, make_user):
    tier, owner, booking = sold_out
    big = join_waitlist(db, user=make_user(), tier=tier, quantity=3, now=now)
    small = join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    cancel_booking(db, booking, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(big)
    db.refresh(small)
    assert (big.status, small.status) == (WaitlistStatus.WAITING, WaitlistStatus.WAITING)


def test_unclaimed_offer_passes_to_the_next_in_line(db, now, sold_out, make_user):
    tier, owner, booking = sold_out
    first = join_waitlist(db, user=make_user(), tier=tier, quantity=2, now=now)
    second = join_waitlist(db, user=make_user(), tier=tier, quantity=2, now=now)
    cancel_booking(db, booking, actor_id=owner.id, now=now, offers=OFFERS)
    later = now + timedelta(minutes=31)
    # Expiring the first offer hands its units to the next in line in the same step.
    assert advance_waitlists(db, later, offers=OFFERS) >= 1
    db.refresh(first)
    db.refresh(second)
    assert first.status == WaitlistStatus.EXPIRED
    assert db.get(Booking, first.booking_id).status == BookingStatus.EXPIRED
    assert second.status == WaitlistStatus.OFFERED
    # Running the sweep again changes nothing.
    assert advance_waitlists(db, later, offers=OFFERS) == 0
    assert expire_holds(db, later, offers=OFFERS) == 0


def test_claiming_an_offer_converts_it(db, now, sold_out, make_user):
    tier, owner, booking = sold_out
    entry = join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    cancel_booking(db, booking, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(entry)
    offer = db.get(Booking, entry.booking_id)
    claim_free_booking(db, offer, now=now + timedelta(minutes=5))
    db.refresh(entry)
    assert offer.status == BookingStatus.CONFIRMED and len(offer.tickets) == 1
    assert entry.status == WaitlistStatus.CONVERTED
    summary = {w.tier.id: w for w in event_waitlists(db, tier.event)}[tier.id]
    assert summary.counts[WaitlistStatus.CONVERTED] == 1 and summary.conversion_rate == 1.0


def test_a_late_claim_is_refused(db, now, sold_out, make_user):
    tier, owner, booking = sold_out
    entry = join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    cancel_booking(db, booking, actor_id=owner.id, now=now, offers=OFFERS)
    db.refresh(entry)
    offer = db.get(Booking, entry.booking_id)
    with pytest.raises(BookingError) as error:
        claim_free_booking(db, offer, now=now + timedelta(minutes=31))
    assert error.value.code == "hold_expired"


def test_expired_holds_go_to_the_waitlist_before_the_public(db, now, make_tier, make_user):
    tier = make_tier(capacity=1, price_minor=1000)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    entry = join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=now)
    later = now + timedelta(minutes=11)
    # A new buyer arrives after the hold ran out: the lazy check releases it, but it goes to
    # the waitlist, so the buyer finds it sold out.
    with pytest.raises(BookingError) as error:
        hold_units(
            db,
            user=make_user(),
            event=tier.event,
            tier=tier,
            quantity=1,
            now=later,
            hold_minutes=10,
        )
    assert error.value.code == "sold_out"
    db.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
