"""Forgot password: single-use, expiring reset links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts import password_reset
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import PasswordResetToken
from app.domain.accounts.passwords import verify_password
from app.domain.accounts.sessions import load_session_user, start_session
from tests.factories.accounts import DEFAULT_PASSWORD

TTL = timedelta(hours=1)
NEW = "a brand new passphrase"


def test_unknown_and_malformed_addresses_get_no_token(db, now) -> None:  # noqa: ANN001
    assert password_reset.request_reset(db, "nobody@example.test", now=now, ttl=TTL) is None
    assert password_reset.request_reset(db, "not an email", now=now, ttl=TTL) is None
    assert db.scalar(select(PasswordResetToken)) is None


def test_only_the_hash_of_the_token_is_stored(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="r@example.test")
    found_user, token = password_reset.request_reset(db, "R@example.test", now=now, ttl=TTL)
    assert found_user is user
    row = db.scalar(select(PasswordResetToken))
    assert row.token_hash != token and len(row.token_hash) == 64
    assert row.expires_at == now + TTL


def test_reset_sets_the_password_spends_links_and_ends_sessions(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(verified=False)
    session_token = start_session(db, user, now=now, lifetime=timedelta(days=1))
    _, first = password_reset.request_reset(db, user.email, now=now, ttl=TTL)
    _, second = password_reset.request_reset(db, user.email, now=now, ttl=TTL)
    assert password_reset.reset_password(db, second, NEW, now=now + timedelta(minutes=5)) == (
        user,
        [],
    )
    assert verify_password(user.password_hash, NEW)
    assert user.email_verified_at is not None  # the link proved the mailbox
    assert load_session_user(db, session_token, now=now) is None
    for token in (first, second):
        with pytest.raises(InvalidToken, match="already been used"):
            password_reset.check_reset_token(db, token, now=now + timedelta(minutes=6))


def test_a_used_link_cannot_reset_again(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    _, token = password_reset.request_reset(db, user.email, now=now, ttl=TTL)
    password_reset.reset_password(db, token, NEW, now=now)
    with pytest.raises(InvalidToken):
        password_reset.reset_password(db, token, "another new passphrase", now=now)
    assert verify_password(user.password_hash, NEW)


def test_an_expired_link_changes_nothing(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    _, token = password_reset.request_reset(db, user.email, now=now, ttl=TTL)
    with pytest.raises(InvalidToken, match="expired"):
        password_reset.reset_password(db, token, NEW, now=now + TTL)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_a_weak_new_password_keeps_the_link_usable(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    _, token = password_reset.request_reset(db, user.email, now=now, ttl=TTL)
    with pytest.raises(AccountError) as caught:
        password_reset.reset_password(db, token, "password123", now=now)
    assert caught.value.field == "password"
    assert password_reset.check_reset_token(db, token, now=now) is user
