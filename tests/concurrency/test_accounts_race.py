"""Account locks under real parallel requests, each with a control showing the race when the
lock is off:
- rate-limited attempts: parallel guesses for one account (or from one network) never get
  past the limit;
- unlinking: two unlinks at once never remove an account's last way to sign in;
- a mailed code: two requests with the same code never both spend it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.domain.accounts import oauth_linking, rate_limit, reauth
from app.domain.accounts.errors import AccountError, TooManyAttempts, WrongSecret
from app.domain.accounts.models import Attempt, OAuthIdentity, User, UserSession
from app.domain.accounts.rate_limit import LOGIN, policy
from app.domain.accounts.sessions import load_session_user, start_session, token_digest

LIMITS = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS": 100,
    "LOGIN_MAX_FAILURES_PER_IP": 4,
    "LOGIN_WINDOW_SECONDS": 900,
}
GUESSES = 20


def _attempts(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Attempt))


def _guess(now, subject_of, network="203.0.113.9"):  # noqa: ANN001, ANN202
    def guess(index, session):  # noqa: ANN001, ANN202
        return rate_limit.take(
            session, policy(LOGIN, LIMITS), subject=subject_of(index), network=network, now=now
        )

    return guess


@pytest.mark.parametrize(
    ("subject_of", "limit"),
    [
        (lambda _i: "admin@example.test", 3),  # one account from one network
        (lambda i: f"user{i}@example.test", 4),  # one network over many accounts
    ],
    ids=["account", "network"],
)
def test_parallel_guesses_never_pass_the_limit(db, now, parallel, subject_of, limit) -> None:  # noqa: ANN001
    results = parallel.run(GUESSES, _guess(now, subject_of))
    refused = [r for r in results if isinstance(r, TooManyAttempts)]
    assert len(refused) == GUESSES - limit, results
    assert _attempts(db) == limit


def test_control_without_the_lock_parallel_guesses_pass_the_limit(
    db, now, parallel, monkeypatch
) -> None:  # noqa: ANN001
    """Proves the race is real: with the advisory lock off, every guess checks the count
    before any is recorded (a barrier makes that deterministic), and all of them pass."""
    checked = threading.Barrier(GUESSES)
    real_check = rate_limit.check

    def check_then_wait(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        real_check(*args, **kwargs)
        checked.wait(timeout=30)

    monkeypatch.setattr(rate_limit, "_LOCK", text("SELECT :key"))
    monkeypatch.setattr(rate_limit, "check", check_then_wait)
    results = parallel.run(GUESSES, _guess(now, lambda _i: "admin@example.test"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _attempts(db) == GUESSES > 3


@pytest.fixture
def two_links(db, make_user):  # noqa: ANN001, ANN201
    """An account without a password and two sign-in links: (user id, link ids)."""
    user = make_user()
    user.password_hash = None
    links = [
        OAuthIdentity(user_id=user.id, provider="github", subject="1"),
        OAuthIdentity(user_id=user.id, provider="google", subject="2"),
    ]
    db.add_all(links)
    db.commit()
    return user.id, [link.id for link in links]


def _unlink_both(parallel, now, two_links):  # noqa: ANN001, ANN202
    user_id, link_ids = two_links

    def unlink(index, session):  # noqa: ANN001, ANN202
        user = session.get(User, user_id)
        return oauth_linking.unlink_identity(session, user, link_ids[index], now=now)

    return parallel.run(2, unlink)


def _links(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(OAuthIdentity))


def test_two_unlinks_at_once_keep_a_way_to_sign_in(db, now, parallel, two_links) -> None:  # noqa: ANN001
    results = _unlink_both(parallel, now, two_links)
    refused = [r for r in results if isinstance(r, AccountError)]
    assert len(refused) == 1 and refused[0].code == "last_sign_in", results
    assert _links(db) == 1


def test_control_without_the_lock_both_unlinks_pass(
    db, now, parallel, two_links, monkeypatch
) -> None:  # noqa: ANN001
    counted = threading.Barrier(2)
    real_count = oauth_linking._other_links

    def count_then_wait(*args):  # noqa: ANN002, ANN202
        found = real_count(*args)
        counted.wait(timeout=30)
        return found

    monkeypatch.setattr(oauth_linking, "_lock_user", lambda session, user: None)
    monkeypatch.setattr(oauth_linking, "_other_links", count_then_wait)
    results = _unlink_both(parallel, now, two_links)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _links(db) == 0  # locked out of their own account


@pytest.fixture
def mailed_code(db, now, make_user):  # noqa: ANN001, ANN201
    """A session token and the code mailed for it."""
    user = make_user()
    token = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    code = reauth.issue_code(db, load_session_user(db, token, now=now), now=now)
    db.commit()
    return token, code


def _spend_twice(parallel, now, mailed_code):  # noqa: ANN001, ANN202
    token, code = mailed_code

    def spend(_index, session):  # noqa: ANN001, ANN202
        reauth.confirm_with_code(session, load_session_user(session, token, now=now), code, now=now)
        return "spent"

    return parallel.run(2, spend)


def test_a_mailed_code_is_spent_once(db, now, parallel, mailed_code) -> None:  # noqa: ANN001
    results = _spend_twice(parallel, now, mailed_code)
    assert sorted(map(type, results), key=str) == sorted([str, WrongSecret], key=str), results


def test_control_without_the_lock_a_code_is_spent_twice(
    db, now, parallel, mailed_code, monkeypatch
) -> None:  # noqa: ANN001
    read = threading.Barrier(2)

    def read_then_wait(session, token):  # noqa: ANN001, ANN202
        row = session.get(UserSession, token_digest(token))  # no lock
        read.wait(timeout=30)
        return row

    monkeypatch.setattr(reauth, "_session_row", read_then_wait)
    assert _spend_twice(parallel, now, mailed_code) == ["spent", "spent"]
