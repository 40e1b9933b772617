"""Access codes of hidden tiers: what a code unlocks, and guessing limited per user and network."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import load_config
from app.domain.accounts.rate_limit import ACCESS_CODE, Policy, Rule, policy
from app.domain.ticketing.access_codes import record_wrong_code, unlock
from app.domain.ticketing.errors import BookingError

LIMITS = Policy(
    ACCESS_CODE,
    timedelta(minutes=15),
    (Rule(3, by_subject=True), Rule(5, by_network=True)),
)
NET = "198.51.100.7"


@pytest.fixture
def hidden(make_tier):  # noqa: ANN001, ANN201
    return make_tier(capacity=5, hidden=True, access_code="CREW-2026")


def try_code(db, event_id, code, now, *, user_id=None, network=NET):  # noqa: ANN001, ANN201
    return unlock(
        db,
        event_id=event_id,
        code=code,
        user_id=user_id,
        network=network,
        policy=LIMITS,
        now=now,
    )


def test_a_code_unlocks_the_hidden_tiers_of_its_event_only(db, now, hidden, make_tier):
    make_tier(event=hidden.event, capacity=5)  # public: nothing to unlock
    elsewhere = make_tier(capacity=5, hidden=True, access_code="CREW-2026")
    assert try_code(db, hidden.event_id, " CREW-2026 ", now) == {hidden.id}
    assert try_code(db, elsewhere.event_id, "CREW-2026", now) == {elsewhere.id}
    assert try_code(db, hidden.event_id, "crew-2026", now) == frozenset()


def test_too_many_wrong_codes_of_a_user_block_even_the_right_one(db, now, hidden, make_user):
    user, other = make_user(), make_user()
    for minute in range(3):
        record_wrong_code(db, user_id=user.id, network=None, now=now + timedelta(minutes=minute))
    later = now + timedelta(minutes=5)
    with pytest.raises(BookingError) as error:
        try_code(db, hidden.event_id, "CREW-2026", later, user_id=user.id, network=None)
    assert error.value.code == "too_many_guesses"
    # The oldest of the three leaves the window at +15 minutes.
    assert "try again in 10 minutes" in error.value.message
    assert try_code(db, hidden.event_id, "CREW-2026", later, user_id=other.id) == {hidden.id}
    after = now + timedelta(minutes=15, seconds=1)
    assert try_code(db, hidden.event_id, "CREW-2026", after, user_id=user.id) == {hidden.id}


def test_a_network_has_its_own_larger_budget(db, now, hidden, make_user):
    for _ in range(5):
        record_wrong_code(db, user_id=None, network=NET, now=now)
    with pytest.raises(BookingError):
        try_code(db, hidden.event_id, "CREW-2026", now, user_id=make_user().id)
    assert try_code(db, hidden.event_id, "CREW-2026", now, network="203.0.113.9") == {hidden.id}
    assert try_code(db, hidden.event_id, "CREW-2026", now, network=None) == {hidden.id}


def test_limits_come_from_the_settings():
    limits = policy(ACCESS_CODE, load_config({}))
    assert limits.window == timedelta(seconds=900)
    assert [(r.limit, r.by_subject, r.by_network) for r in limits.rules] == [
        (10, True, False),
        (50, False, True),
    ]
