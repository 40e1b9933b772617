"""Rate limits: logins per account and network, secrets asked again, mails asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.config import load_config
from app.domain.accounts import rate_limit
from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import Attempt, AttemptOutcome
from app.domain.accounts.rate_limit import LOGIN, MAIL, REAUTH, network_of, policy

CONFIG = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS": 7,
    "LOGIN_MAX_FAILURES_PER_IP": 5,
    "LOGIN_WINDOW_SECONDS": 900,
    "ACCOUNT_MAILS_PER_ADDRESS": 2,
    "ACCOUNT_MAILS_PER_NETWORK": 4,
    "ACCOUNT_MAILS_WINDOW_SECONDS": 3600,
}
ADMIN = "admin@example.test"
STRANGER, OWNER = "203.0.113.9", "198.51.100.20"


def _take(db, action, subject, network, now):  # noqa: ANN001, ANN202
    return rate_limit.take(
        db, policy(action, CONFIG), subject=subject, network=network_of(network), now=now
    )


def _fail(db, action, subject, network, now, times=1):  # noqa: ANN001, ANN202
    for n in range(times):
        _take(db, action, subject, network, now + timedelta(seconds=n))


def test_networks_are_ipv4_addresses_and_ipv6_prefixes() -> None:
    assert network_of("203.0.113.9") == "203.0.113.9"
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff::9")
    assert network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") != network_of("2001:db8:1:2::1")
    assert network_of("::ffff:203.0.113.9") == "203.0.113.9"
    assert network_of(None) is None and network_of("not an address") is None


def test_the_settings_make_the_policies() -> None:
    config = load_config({"APP_ENV": "test", "SECRET_KEY": "x"})
    login = policy(LOGIN, config)
    assert [r.limit for r in login.rules] == [5, 100, 20]
    assert login.window == timedelta(minutes=15) and login.failures_only
    mail = policy(MAIL, config)
    assert [r.limit for r in mail.rules] == [5, 30] and not mail.failures_only
    assert policy(REAUTH, config).rules[0].by_subject
    with pytest.raises(ValueError, match="no rate limit"):
        policy("guess", config)


def test_a_stranger_failing_an_admins_password_locks_out_only_their_network(db, now) -> None:  # noqa: ANN001
    _fail(db, LOGIN, ADMIN, STRANGER, now, times=3)
    with pytest.raises(TooManyAttempts) as caught:
        _take(db, LOGIN, ADMIN, STRANGER, now + timedelta(minutes=5))
    # The wait counts from the oldest failure (second 0) plus the 15-minute window.
    assert caught.value.retry_after == 600
    assert caught.value.message == "Too many attempts. Try again in 600 seconds."
    _take(db, LOGIN, ADMIN, OWNER, now + timedelta(minutes=5))  # the admin still gets in
    _take(db, LOGIN, ADMIN, STRANGER, now + timedelta(minutes=15, seconds=1))  # and it reopens


def test_the_account_has_a_higher_ceiling_across_all_networks(db, now) -> None:  # noqa: ANN001
    for n in range(7):  # one failure from each of seven networks
        _take(db, LOGIN, ADMIN, f"192.0.2.{n}", now + timedelta(seconds=n))
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=10))
    _take(db, LOGIN, "someone.else@example.test", OWNER, now + timedelta(seconds=10))


def test_one_network_is_limited_across_accounts(db, now) -> None:  # noqa: ANN001
    for n in range(5):
        _take(db, LOGIN, f"victim{n}@example.test", STRANGER, now)
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, "fresh@example.test", STRANGER, now)
    _take(db, LOGIN, "fresh@example.test", OWNER, now)


def test_a_full_network_spares_accounts_that_logged_in_from_it(db, now) -> None:  # noqa: ANN001
    """Behind a proxy that hides clients everyone shares a network: filling it must not lock
    out the people who log in from it as usual (they keep their own limits)."""
    regular = _take(db, LOGIN, ADMIN, OWNER, now - timedelta(hours=20))
    rate_limit.settle(db, regular.id, AttemptOutcome.SUCCEEDED)
    for n in range(5):
        _take(db, LOGIN, f"victim{n}@example.test", OWNER, now)
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, "newcomer@example.test", OWNER, now)
    _fail(db, LOGIN, ADMIN, OWNER, now, times=3)  # spared by the network's limit...
    with pytest.raises(TooManyAttempts):  # ...not by the account's own
        _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=5))
    later = now + timedelta(hours=5)  # a day after its login, the network forgot the account
    for n in range(5):
        _take(db, LOGIN, f"later{n}@example.test", OWNER, later)
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, ADMIN, OWNER, later + timedelta(seconds=10))


def test_a_success_clears_the_accounts_failures_but_not_the_networks(db, now) -> None:  # noqa: ANN001
    _fail(db, LOGIN, ADMIN, OWNER, now, times=2)
    success = _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=5))
    rate_limit.settle(db, success.id, AttemptOutcome.SUCCEEDED)
    _fail(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=6), times=2)
    _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=9))  # 3 since the success: full
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=10))
    # The network has 5 failures (the success is none): full for any account.
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, "other@example.test", OWNER, now + timedelta(seconds=10))


def test_a_settled_attempt_stops_counting_as_a_failure(db, now) -> None:  # noqa: ANN001
    for n in range(5):
        attempt = _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=n))
        assert attempt.outcome == AttemptOutcome.FAILED  # until settled
        rate_limit.settle(db, attempt.id, AttemptOutcome.NEUTRAL)
    _take(db, LOGIN, ADMIN, OWNER, now + timedelta(seconds=6))


def test_secrets_asked_again_count_per_account_over_all_networks(db, now) -> None:  # noqa: ANN001
    subject = rate_limit.user_subject(42)
    for n in range(3):
        _take(db, REAUTH, subject, f"192.0.2.{n}", now)
    with pytest.raises(TooManyAttempts):
        _take(db, REAUTH, subject, "192.0.2.99", now)
    _take(db, REAUTH, rate_limit.user_subject(43), "192.0.2.99", now)


def test_mails_count_every_request_per_address_and_network(db, now) -> None:  # noqa: ANN001
    first = _take(db, MAIL, "Inbox@Example.test", STRANGER, now)
    assert first.outcome == AttemptOutcome.NEUTRAL and first.subject == "inbox@example.test"
    _take(db, MAIL, "inbox@example.test", OWNER, now)
    with pytest.raises(TooManyAttempts) as caught:
        _take(db, MAIL, "INBOX@example.test", "192.0.2.1", now + timedelta(minutes=30))
    assert caught.value.retry_after == 1800
    for n in range(3):
        _take(db, MAIL, f"other{n}@example.test", STRANGER, now)
    with pytest.raises(TooManyAttempts):  # the network's fourth and fifth
        _take(db, MAIL, "fresh@example.test", STRANGER, now)
    _take(db, MAIL, "inbox@example.test", STRANGER, now + timedelta(hours=1, seconds=1))


def test_an_unknown_origin_is_held_by_the_subjects_rules(db, now) -> None:  # noqa: ANN001
    _fail(db, LOGIN, ADMIN, None, now, times=7)
    with pytest.raises(TooManyAttempts):
        _take(db, LOGIN, ADMIN, None, now + timedelta(seconds=10))
    assert db.scalar(select(func.count()).select_from(Attempt).where(Attempt.network.is_(None)))


def test_forgetting_a_subject_and_pruning_old_attempts(db, now) -> None:  # noqa: ANN001
    _take(db, LOGIN, "old@example.test", OWNER, now - timedelta(days=2))
    _take(db, LOGIN, "new@example.test", OWNER, now - timedelta(hours=1))
    _take(db, MAIL, "gone@example.test", OWNER, now)
    rate_limit.forget_subject(db, "GONE@example.test")
    assert rate_limit.prune_attempts(db, now=now) == 1
    assert db.scalars(select(Attempt.subject)).all() == ["new@example.test"]
