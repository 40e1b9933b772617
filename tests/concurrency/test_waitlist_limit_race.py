"""One user's parallel claims of units never pass the per-user limit, whether the claim is a
waitlist offer made to them or their own hold; the control shows that without the lock the
offer and the holds do pass it.

The scene: a user waits in line for LIMIT units while more units are free and not offered yet
(released by a sweep that has not made its offers). Then, at once: the sweep offers (claiming
LIMIT units for the user) and the user holds units directly. Joining the line takes the same
lock and counts the same units (tests/domain/test_waitlist_limits.py), but an entry holds no
units (one active entry per tier and user, `uq_waitlist_active_user`): units come to it only
through an offer, which is the claim raced here.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.domain.accounts.models import User
from app.domain.ticketing import allocation, waitlist
from app.domain.ticketing.allocation import hold_tier
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier, Unit
from app.domain.ticketing.waitlist import OfferSettings, make_offers

LIMIT = 4
HOLDS = 3  # direct holds of one unit each


@pytest.fixture
def queue(db, now, make_user, make_tier):  # noqa: ANN001, ANN201
    """(user id, tier id, event id): the user waits for LIMIT units; twice that are free."""
    tier = make_tier(capacity=2 * LIMIT, per_user_limit=LIMIT, price_minor=1500)
    user = make_user()
    taken = [
        allocation.hold_units(
            db,
            user=make_user(),
            event=tier.event,
            tier=tier,
            quantity=LIMIT,
            now=now,
            hold_minutes=10,
        ).id
        for _ in range(2)
    ]
    waitlist.join_waitlist(db, user=user, tier=tier, quantity=LIMIT, now=now)
    # Released, as a sweep does before it makes offers.
    db.execute(update(Booking).where(Booking.id.in_(taken)).values(status=BookingStatus.EXPIRED))
    db.execute(update(Unit).where(Unit.booking_id.in_(taken)).values(booking_id=None))
    db.commit()
    return user.id, tier.id, tier.event_id


def live_units(db, user_id) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(
        select(func.count())
        .select_from(Unit)
        .join(Booking, Booking.id == Unit.booking_id)
        .where(Booking.user_id == user_id, Booking.status == BookingStatus.PENDING)
    )


def rush(parallel, now, queue):  # noqa: ANN001, ANN201
    """Thread 0 makes the offers, the others hold one unit each."""
    user_id, tier_id, event_id = queue
    later = now + timedelta(seconds=1)

    def act(index, session):  # noqa: ANN001, ANN202
        if index == 0:
            return make_offers(session, tier_id, now=later, settings=OfferSettings())
        return hold_tier(
            session,
            user=session.get(User, user_id),
            event_id=event_id,
            tier_id=tier_id,
            quantity=1,
            now=later,
            hold_minutes=10,
        )

    return parallel.run(1 + HOLDS, act)


def test_parallel_offers_and_holds_never_pass_the_limit(db, now, parallel, queue):
    results = rush(parallel, now, queue)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, BookingError) and r.code == "limit_exceeded" for r in refused), results
    assert live_units(db, queue[0]) <= LIMIT, results
    # Either the offer came first (and the holds were refused) or the holds did (and the
    # offer was left for the next sweep, or closed the entry once they had committed).
    assert live_units(db, queue[0]) in (LIMIT, HOLDS), results


def test_control_without_the_lock_the_offer_and_holds_pass_the_limit(
    db, now, parallel, queue, monkeypatch
):
    """Proves the race is real: with the lock off, the offer and the holds each count and claim
    before any of them commits (a barrier makes that deterministic), and all of them pass."""
    claimed = threading.Barrier(1 + HOLDS)
    real_claim = allocation.claims.claim_general_admission

    def claim_then_wait(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = real_claim(*args, **kwargs)
        claimed.wait(timeout=30)
        return result

    def no_lock(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return True

    def tier_and_event(session, tier_id, *, event_id, buyer_id):  # noqa: ANN001, ANN202
        """The holds' tier read, without the lock it takes on the way."""
        tier = session.get(TicketTier, tier_id)
        return tier, tier.event

    monkeypatch.setattr(waitlist, "try_lock_user_event", no_lock)
    monkeypatch.setattr(waitlist, "claim_general_admission", claim_then_wait)
    monkeypatch.setattr(allocation.claims, "claim_general_admission", claim_then_wait)
    monkeypatch.setattr(allocation, "tier_and_event", tier_and_event)
    results = rush(parallel, now, queue)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert live_units(db, queue[0]) == LIMIT + HOLDS > LIMIT
