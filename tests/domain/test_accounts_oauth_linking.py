"""Which account an external identity signs in as."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import OAuthIdentity, Role, User
from app.domain.accounts.oauth_linking import ExternalProfile, sign_in_external
from app.domain.accounts.sessions import load_session_user, start_session


def _profile(email="ext@example.test", verified=True, subject="sub-1", provider="oidc"):  # noqa: ANN001, ANN202
    return ExternalProfile(
        provider=provider, subject=subject, email=email, email_verified=verified, name="Ext Person"
    )


def _count(db, model) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(model))


def test_a_new_identity_creates_a_verified_attendee(db, now) -> None:  # noqa: ANN001
    found = sign_in_external(db, _profile(), now=now)
    user = found.user
    assert found.created and user.role == Role.ATTENDEE and user.email_verified_at == now
    assert user.password_hash is None and user.name == "Ext Person"
    again = sign_in_external(db, _profile(email="changed@example.test"), now=now)
    assert again.user is user and not again.created  # the identity, not the email, decides


def test_a_verified_email_links_to_the_existing_account(db, now, make_user) -> None:  # noqa: ANN001
    existing = make_user(email="Ext@Example.test")
    found = sign_in_external(db, _profile(), now=now)
    assert found.user is existing and not found.created and found.removed == []
    assert _count(db, OAuthIdentity) == 1 and _count(db, User) == 1


def test_an_unverified_email_never_links(db, now, make_user) -> None:  # noqa: ANN001
    make_user(email="ext@example.test")
    with pytest.raises(AccountError, match="has not confirmed"):
        sign_in_external(db, _profile(verified=False), now=now)
    assert _count(db, OAuthIdentity) == 0 and _count(db, User) == 1


def test_an_unverified_email_may_still_open_a_new_account(db, now) -> None:  # noqa: ANN001
    found = sign_in_external(db, _profile(verified=False, provider="facebook"), now=now)
    assert found.created and found.user.email_verified_at is None


def test_linking_to_an_unproven_account_drops_the_squatters_password(db, now, make_user) -> None:  # noqa: ANN001
    squatter = make_user(email="ext@example.test", verified=False)
    token = start_session(db, squatter, now=now, lifetime=timedelta(hours=1))
    user = sign_in_external(db, _profile(), now=now).user
    assert user is squatter
    assert user.password_hash is None and user.email_verified_at == now
    assert load_session_user(db, token, now=now) is None


def test_missing_subject_or_email_is_refused(db, now) -> None:  # noqa: ANN001
    with pytest.raises(AccountError):
        sign_in_external(db, _profile(subject=""), now=now)
    with pytest.raises(AccountError, match="email"):
        sign_in_external(db, _profile(email=None), now=now)
    assert _count(db, User) == 0


def test_a_deleted_accounts_identity_is_refused(db, now) -> None:  # noqa: ANN001
    user = sign_in_external(db, _profile(), now=now).user
    user.deleted_at = now
    with pytest.raises(AccountError, match="deleted"):
        sign_in_external(db, _profile(), now=now)
