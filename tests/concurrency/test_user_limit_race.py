"""One user firing parallel requests never gets past the per-user limit, and the control test
shows that without the lock the same requests do get past it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.events.models import Event
from app.domain.ticketing import allocation, claims
from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, TicketTier

LIMIT = 3
REQUESTS = 20


@pytest.fixture
def greedy(db, make_user, make_tier):
    tier = make_tier(capacity=100, per_user_limit=LIMIT, price_minor=1500)
    user = make_user()
    db.commit()
    return user.id, tier.id, tier.event_id


def fire(parallel, now, greedy):
    user_id, tier_id, event_id = greedy

    def book_one(_index, session):
        return hold_units(
            session,
            user=session.get(User, user_id),
            event=session.get(Event, event_id),
            tier=session.get(TicketTier, tier_id),
            quantity=1,
            now=now,
            hold_minutes=10,
        )

    return parallel.run(REQUESTS, book_one)


def booked(db, user_id) -> int:
    db.expire_all()
    return db.scalar(
        select(func.coalesce(func.sum(Booking.quantity), 0)).where(Booking.user_id == user_id)
    )


def test_parallel_requests_never_exceed_the_limit(db, now, parallel, greedy):
    results = fire(parallel, now, greedy)
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(refused) == REQUESTS - LIMIT, results
    assert {e.code for e in refused} == {"limit_exceeded"}
    assert booked(db, greedy[0]) == LIMIT


def test_parallel_form_posts_never_exceed_the_limit(db, now, parallel, greedy):
    """The booking form's path: the limit lock rides on the tier read (`hold_tier`)."""
    user_id, tier_id, event_id = greedy

    def post_one(_index, session):
        return hold_tier(
            session,
            user=session.get(User, user_id),
            event_id=event_id,
            tier_id=tier_id,
            quantity=1,
            now=now,
            hold_minutes=10,
        )

    results = parallel.run(REQUESTS, post_one)
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(refused) == REQUESTS - LIMIT, results
    assert {e.code for e in refused} == {"limit_exceeded"}
    assert booked(db, user_id) == LIMIT


def test_control_without_the_lock_the_limit_is_exceeded(db, now, parallel, greedy, monkeypatch):
    """Proves the race is real: with the lock off, every request counts and claims before any
    commits (a barrier makes that deterministic) and all of them pass the check."""
    claimed = threading.Barrier(REQUESTS)
    real_claim = claims.claim_general_admission

    def claim_then_wait(*args, **kwargs):
        result = real_claim(*args, **kwargs)
        claimed.wait(timeout=30)
        return result

    monkeypatch.setattr(allocation, "lock_user_event", lambda *args, **kwargs: None)
    monkeypatch.setattr(claims, "claim_general_admission", claim_then_wait)
    results = fire(parallel, now, greedy)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert booked(db, greedy[0]) == REQUESTS > LIMIT
