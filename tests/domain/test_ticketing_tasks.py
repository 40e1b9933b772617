"""The worker's ticketing sweeps: idempotent, and they leave the event listing counts right."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.holds import SWEEP_BATCH
from app.domain.ticketing.models import Booking, BookingStatus
from app.domain.ticketing.waitlist import OfferSettings
from jobs.ticketing_tasks import expire_holds, refresh_sold_counts

OFFERS = OfferSettings()


def test_expire_holds_works_through_more_than_one_batch(db, now, make_tier, make_user):
    tier = make_tier(capacity=SWEEP_BATCH + 5, price_minor=100)
    user = make_user()
    many = HoldRules(holds=SWEEP_BATCH + 5)  # one user's holds stand for many users' here
    for _ in range(SWEEP_BATCH + 5):
        hold_units(
            db,
            user=user,
            event=tier.event,
            tier=tier,
            quantity=1,
            now=now,
            hold_minutes=1,
            rules=many,
        )
    assert expire_holds(db, now + timedelta(minutes=1), offers=OFFERS) == SWEEP_BATCH + 5
    assert (
        db.scalar(
            select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.PENDING)
        )
        == 0
    )


def test_sold_counts_follow_confirmed_bookings(db, now, make_tier, make_user, make_event):
    tier = make_tier(capacity=10)
    quiet = make_event()
    user = make_user()
    booking = hold_units(
        db, user=user, event=tier.event, tier=tier, quantity=3, now=now, hold_minutes=1
    )
    paid = make_tier(event=tier.event, capacity=5, price_minor=900)
    hold_units(db, user=user, event=tier.event, tier=paid, quantity=2, now=now, hold_minutes=1)
    assert refresh_sold_counts(db, now) == 1  # holds do not count, the quiet event is unchanged
    db.refresh(tier.event)
    assert (tier.event.sold_count, quiet.sold_count) == (3, 0)
    assert refresh_sold_counts(db, now) == 0
    cancel_booking(db, booking, actor_id=user.id, now=now)
    assert refresh_sold_counts(db, now) == 1
    db.refresh(tier.event)
    assert tier.event.sold_count == 0
