"""A booking after its hold: confirm (also after expiry), cancel, history, lazy and swept expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import (
    booking_history,
    cancel_booking,
    claim_free_booking,
    confirm_booking,
    display_status,
    open_booking,
    user_booking,
)
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import BookingStatus, Ticket, TicketStatus, Unit
from app.domain.ticketing.waitlist import OfferSettings
from jobs.ticketing_tasks import expire_holds

OFFERS = OfferSettings()


def hold(db, now, user, tier, quantity=1, **kw):
    return hold_units(
        db,
        user=user,
        event=tier.event,
        tier=tier,
        quantity=quantity,
        now=now,
        hold_minutes=10,
        **kw,
    )


def units_of(db, booking) -> int:
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id == booking.id))


def tickets_of(db, booking, status=TicketStatus.VALID) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.booking_id == booking.id, Ticket.status == status)
    )


def test_confirming_a_hold_issues_its_tickets_once(db, now, make_user, make_tier):
    tier = make_tier(capacity=3, price_minor=1200)
    booking = hold(db, now, make_user(), tier, 2)
    confirm_booking(db, booking, now=now + timedelta(minutes=3))
    assert booking.status == BookingStatus.CONFIRMED and booking.hold_expires_at is None
    assert tickets_of(db, booking) == 2
    confirm_booking(db, booking, now=now + timedelta(minutes=4))  # a duplicate payment event
    assert tickets_of(db, booking) == 2
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_a_late_confirmation_of_an_unreleased_hold_keeps_its_units(db, now, make_user, make_tier):
    tier = make_tier(capacity=1, price_minor=1200)
    booking = hold(db, now, make_user(), tier)
    confirm_booking(db, booking, now=now + timedelta(hours=1))
    assert booking.status == BookingStatus.CONFIRMED and units_of(db, booking) == 1


def test_a_released_hold_is_reclaimed_on_confirmation(db, now, make_user, make_tier):
    tier = make_tier(capacity=3, price_minor=1200)
    booking = hold(db, now, make_user(), tier, 2)
    later = now + timedelta(minutes=11)
    assert expire_holds(db, later, offers=OFFERS) == 1
    assert booking.status == BookingStatus.EXPIRED and units_of(db, booking) == 0
    confirm_booking(db, booking, now=later)
    assert booking.status == BookingStatus.CONFIRMED
    assert units_of(db, booking) == 2 and tickets_of(db, booking) == 2


def test_reclaim_fails_when_the_units_are_gone(db, now, make_user, make_tier):
    tier = make_tier(capacity=1, price_minor=1200)
    booking = hold(db, now, make_user(), tier)
    later = now + timedelta(minutes=11)
    hold(db, later, make_user(), tier)  # the lazy check released it, someone else took it
    with pytest.raises(BookingError) as error:
        confirm_booking(db, booking, now=later)
    assert error.value.code == "hold_expired"


def test_cancel_a_hold_returns_its_units(db, now, make_user, make_tier):
    tier = make_tier(capacity=2, price_minor=1200)
    user = make_user()
    booking = hold(db, now, user, tier, 2)
    cancel_booking(db, booking, actor_id=user.id, now=now, offers=OFFERS)
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_at == now
    assert units_of(db, booking) == 0
    assert hold(db, now, make_user(), tier, 2).quantity == 2


def test_cancel_a_free_booking_voids_its_tickets(db, now, make_user, make_tier):
    tier = make_tier(capacity=2)
    user = make_user()
    booking = hold(db, now, user, tier, 2)
    cancel_booking(db, booking, actor_id=user.id, now=now, offers=OFFERS)
    assert tickets_of(db, booking, TicketStatus.VOID) == 2 and tickets_of(db, booking) == 0
    # The units can be sold again: a void ticket does not block a new one.
    again = hold(db, now, make_user(), tier, 2)
    assert tickets_of(db, again) == 2


def test_what_cannot_be_cancelled(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=1200)
    user = make_user()
    paid = hold(db, now, user, tier)
    confirm_booking(db, paid, now=now)
    with pytest.raises(BookingError, match="refund"):
        cancel_booking(db, paid, actor_id=user.id, now=now)
    free_tier = make_tier(event=tier.event, capacity=5)
    free = hold(db, now, user, free_tier)
    with pytest.raises(BookingError, match="too late"):
        cancel_booking(db, free, actor_id=user.id, now=tier.event.starts_at)
    cancel_booking(db, free, actor_id=user.id, now=now)
    with pytest.raises(BookingError) as error:
        cancel_booking(db, free, actor_id=user.id, now=now)
    assert error.value.code == "booking_closed"


def test_ones_own_cancelled_hold_cannot_be_booked_again(db, now, make_user, make_tier):
    tier = make_tier(capacity=2, price_minor=1200)
    user = make_user()
    booking = hold(db, now, user, tier)
    cancel_booking(db, booking, actor_id=user.id, now=now)
    with pytest.raises(BookingError, match="cancelled"):
        confirm_booking(db, booking, now=now)
    free_tier = make_tier(event=tier.event, capacity=2)
    free = hold(db, now, user, free_tier)
    cancel_booking(db, free, actor_id=user.id, now=now)
    with pytest.raises(BookingError, match="cancelled"):
        claim_free_booking(db, free, now=now)
    assert units_of(db, booking) == 0 and units_of(db, free) == 0


def test_a_paid_hold_cannot_be_claimed_for_free(db, now, make_user, make_tier):
    tier = make_tier(capacity=2, price_minor=1200)
    booking = hold(db, now, make_user(), tier)
    with pytest.raises(BookingError, match="paying"):
        claim_free_booking(db, booking, now=now)
    assert booking.status == BookingStatus.PENDING


def test_opening_an_expired_hold_releases_it(db, now, make_user, make_tier):
    tier = make_tier(capacity=1, price_minor=1200)
    user = make_user()
    booking = hold(db, now, user, tier)
    later = now + timedelta(minutes=10)
    assert display_status(booking, later) == "expired"
    opened = open_booking(
        db, user_id=user.id, reference=booking.reference, now=later, offers=OFFERS
    )
    assert opened.status == BookingStatus.EXPIRED and units_of(db, booking) == 0


def test_someone_elses_booking_is_not_found(db, now, make_user, make_tier):
    tier = make_tier(capacity=1)
    booking = hold(db, now, make_user(), tier)
    with pytest.raises(NotFound):
        user_booking(db, user_id=make_user().id, reference=booking.reference)


def test_history_splits_upcoming_and_past(db, now, make_user, make_tier, make_event):
    user = make_user()
    soon = make_tier(capacity=2)
    past_event = make_event(starts_at=now - timedelta(days=3))
    past = make_tier(event=past_event, capacity=2)
    upcoming = hold(db, now, user, soon)
    earlier = now - timedelta(days=10)
    old = hold(db, earlier, user, past)
    history = booking_history(db, user_id=user.id, now=now)
    assert [b.id for b in history.upcoming] == [upcoming.id]
    assert [b.id for b in history.past] == [old.id]


def test_the_sweep_is_idempotent(db, now, make_user, make_tier):
    tier = make_tier(capacity=4, price_minor=100)
    for _ in range(3):
        hold(db, now, make_user(), tier)
    later = now + timedelta(minutes=10)
    assert expire_holds(db, later, offers=OFFERS) == 3
    assert expire_holds(db, later, offers=OFFERS) == 0
    assert (
        db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None))) == 0
    )
