"""One user firing parallel holds never gets past the hoarding rate, on a tier without a
per-user limit too (the user/event lock is taken for every hold); the control shows that
without the lock the same requests do get past it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.events.models import Event
from app.domain.ticketing import allocation, claims
from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.models import Booking, TicketTier

RULES = HoldRules(holds=3, window=timedelta(minutes=10))
REQUESTS = 12


@pytest.fixture
def unlimited(db, make_user, make_tier):  # noqa: ANN001, ANN201
    tier = make_tier(capacity=100, per_user_limit=None, price_minor=1500)
    user = make_user()
    db.commit()
    return user.id, tier.id, tier.event_id


def holds_of(db, user_id) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking).where(Booking.user_id == user_id))


def hold_one(now, unlimited):  # noqa: ANN001, ANN201
    user_id, tier_id, event_id = unlimited

    def one(_index, session):  # noqa: ANN001, ANN202
        return hold_units(
            session,
            user=session.get(User, user_id),
            event=session.get(Event, event_id),
            tier=session.get(TicketTier, tier_id),
            quantity=1,
            now=now,
            hold_minutes=10,
            rules=RULES,
        )

    return one


def test_parallel_holds_never_pass_the_rate(db, now, parallel, unlimited):
    results = parallel.run(REQUESTS, hold_one(now, unlimited))
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(refused) == REQUESTS - RULES.holds, results
    assert {e.code for e in refused} == {"too_many_holds"}
    assert holds_of(db, unlimited[0]) == RULES.holds


def test_parallel_form_posts_never_pass_the_rate(db, now, parallel, unlimited):
    """The booking form's path: the lock rides on the tier read, limit or no limit."""
    user_id, tier_id, event_id = unlimited

    def post_one(_index, session):  # noqa: ANN001, ANN202
        return hold_tier(
            session,
            user=session.get(User, user_id),
            event_id=event_id,
            tier_id=tier_id,
            quantity=1,
            now=now,
            hold_minutes=10,
            rules=RULES,
        )

    results = parallel.run(REQUESTS, post_one)
    assert sum(isinstance(r, Booking) for r in results) == RULES.holds, results
    assert holds_of(db, user_id) == RULES.holds


def test_control_without_the_lock_the_rate_is_passed(db, now, parallel, unlimited, monkeypatch):
    """Proves the race is real: with the lock off, every request counts and claims before any
    commits (a barrier makes that deterministic) and all of them pass the rate."""
    claimed = threading.Barrier(REQUESTS)
    real_claim = claims.claim_general_admission

    def claim_then_wait(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = real_claim(*args, **kwargs)
        claimed.wait(timeout=30)
        return result

    monkeypatch.setattr(allocation, "lock_user_event", lambda *args, **kwargs: None)
    monkeypatch.setattr(claims, "claim_general_admission", claim_then_wait)
    results = parallel.run(REQUESTS, hold_one(now, unlimited))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert holds_of(db, unlimited[0]) == REQUESTS > RULES.holds
