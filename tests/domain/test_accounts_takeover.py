"""Pre-account takeover: a squatter signs up with the owner's address at a provider that does
not vouch for it, and waits for the owner to fill the account. The owner's proof of the
address removes the squatter's way in. Also: linking, confirming and unlinking providers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts import password_reset, reauth
from app.domain.accounts.errors import AccountError, ReauthRequired, WrongSecret
from app.domain.accounts.models import OAuthIdentity, UserSession
from app.domain.accounts.oauth_linking import (
    ExternalProfile,
    confirm_identity,
    link_identity,
    sign_in_external,
    unlink_identity,
)
from app.domain.accounts.registration import verification_token, verify_email
from app.domain.accounts.sessions import load_session_user, start_session, token_digest
from app.domain.audit import AuditEntry
from app.domain.base import NotFound

SECRET = "test-secret"
VICTIM = "victim@example.test"
TTL = timedelta(hours=1)


def _profile(provider="facebook", subject="squatter", verified=False, email=VICTIM):  # noqa: ANN001, ANN202
    return ExternalProfile(
        provider=provider, subject=subject, email=email, email_verified=verified, name="Someone"
    )


def _providers(db, user) -> list[str]:  # noqa: ANN001
    db.expire_all()
    return list(db.scalars(select(OAuthIdentity.provider).where(OAuthIdentity.user_id == user.id)))


@pytest.fixture
def squatted(db, now):  # noqa: ANN001, ANN201
    """The squatter's account (Facebook never vouches for addresses) and their session."""
    found = sign_in_external(db, _profile(), now=now)
    assert found.created and found.user.email_verified_at is None
    token = start_session(db, found.user, now=now, lifetime=timedelta(days=30))
    return found.user, token


def test_the_owners_vouched_sign_in_removes_the_squatters_link(db, now, squatted) -> None:  # noqa: ANN001
    account, squatter_session = squatted
    owner = sign_in_external(
        db, _profile("google", "owner", verified=True), now=now + timedelta(days=1)
    )
    assert owner.user is account and owner.removed == ["facebook"]
    assert _providers(db, account) == ["google"]
    assert account.email_verified_at == now + timedelta(days=1)
    assert load_session_user(db, squatter_session, now=now + timedelta(days=1)) is None
    with pytest.raises(AccountError):  # their identity no longer signs in as anyone...
        sign_in_external(db, _profile(), now=now + timedelta(days=2))
    # ...and cannot link itself back: the address is the owner's now.
    assert _providers(db, account) == ["google"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "oauth.unlinked"))
    assert entry.data == {
        "provider": "facebook",
        "reason": "linked_before_the_address_was_proven",
    }


def test_a_password_reset_by_the_owner_removes_the_squatters_link(db, now, squatted) -> None:  # noqa: ANN001
    account, squatter_session = squatted
    _, token = password_reset.request_reset(db, VICTIM, now=now, ttl=TTL)
    user, removed = password_reset.reset_password(db, token, "the owners own passphrase", now=now)
    assert user is account and removed == ["facebook"]
    assert _providers(db, account) == []
    assert load_session_user(db, squatter_session, now=now) is None


def test_a_verification_link_opened_elsewhere_removes_the_squatters_link(db, now, squatted) -> None:  # noqa: ANN001
    account, squatter_session = squatted
    link = verification_token(SECRET, account, now=now)  # mailed to the owner's inbox
    user, removed = verify_email(db, SECRET, link, max_age=3600, now=now)
    assert removed == ["facebook"] and _providers(db, account) == []
    assert user.email_verified_at == now
    assert load_session_user(db, squatter_session, now=now) is None


def test_a_verification_link_opened_in_the_accounts_session_keeps_its_links(
    db, now, squatted
) -> None:  # noqa: ANN001
    """Whoever holds the account's session also reads the mailbox: the link is theirs."""
    account, session_token = squatted
    link = verification_token(SECRET, account, now=now)
    _, removed = verify_email(db, SECRET, link, max_age=3600, now=now, signed_in_user_id=account.id)
    assert removed == [] and _providers(db, account) == ["facebook"]
    assert load_session_user(db, session_token, now=now) is account


def test_a_proven_address_is_not_proven_again(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email=VICTIM)
    db.add(OAuthIdentity(user_id=user.id, provider="github", subject="7", email=VICTIM))
    _, token = password_reset.request_reset(db, VICTIM, now=now, ttl=TTL)
    assert password_reset.reset_password(db, token, "a brand new passphrase", now=now)[1] == []
    assert _providers(db, user) == ["github"]


def test_a_code_mailed_to_the_account_proves_it_in_its_own_session(db, now, squatted) -> None:  # noqa: ANN001
    account, session_token = squatted
    account = load_session_user(db, session_token, now=now)
    code = reauth.issue_code(db, account, now=now)
    with pytest.raises(WrongSecret):
        reauth.confirm_with_code(db, account, "000000" if code != "000000" else "111111", now=now)
    reauth.confirm_with_code(db, account, f" {code} ", now=now + timedelta(minutes=1))
    assert account.email_verified_at == now + timedelta(minutes=1)
    assert _providers(db, account) == ["facebook"]
    assert reauth.recently_authenticated(account, now + timedelta(minutes=5))
    with pytest.raises(WrongSecret):  # once only
        reauth.confirm_with_code(db, account, code, now=now + timedelta(minutes=2))


def test_a_mailed_code_expires_and_belongs_to_its_session(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    here = start_session(db, user, now=now, lifetime=TTL)
    other = start_session(db, user, now=now, lifetime=TTL)
    me_here = load_session_user(db, here, now=now)
    code = reauth.issue_code(db, me_here, now=now)
    me_there = load_session_user(db, other, now=now)
    with pytest.raises(WrongSecret):
        reauth.confirm_with_code(db, me_there, code, now=now)
    me_here = load_session_user(db, here, now=now)
    with pytest.raises(WrongSecret):
        reauth.confirm_with_code(db, me_here, code, now=now + reauth.CODE_TTL)
    assert db.get(UserSession, token_digest(here)).reauthenticated_at is None


def test_a_password_confirms_and_is_remembered_by_the_session(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    token = start_session(db, user, now=now, lifetime=TTL)
    later = now + timedelta(minutes=30)
    user = load_session_user(db, token, now=later)
    assert not reauth.recently_authenticated(user, later)
    with pytest.raises(WrongSecret):
        reauth.confirm_with_password(db, user, "not it", now=later)
    reauth.confirm_with_password(db, user, "correct horse battery staple", now=later)
    assert reauth.recently_authenticated(load_session_user(db, token, now=later), later)


def test_linking_another_provider_needs_a_recent_proof(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    user.authenticated_at = now - timedelta(minutes=11)
    google = _profile("google", "g-1", verified=True, email="other@example.test")
    with pytest.raises(ReauthRequired):
        link_identity(db, user, google, now=now)
    user.authenticated_at = now
    assert link_identity(db, user, google, now=now)
    assert not link_identity(db, user, google, now=now)  # already there
    someone = make_user()
    someone.authenticated_at = now
    with pytest.raises(AccountError, match="another account"):
        link_identity(db, someone, google, now=now)
    assert _providers(db, user) == ["google"] and _providers(db, someone) == []


def test_confirming_through_a_provider_needs_one_linked_to_the_account(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    token = start_session(db, user, now=now, lifetime=TTL)
    user = load_session_user(db, token, now=now)
    db.add(OAuthIdentity(user_id=user.id, provider="github", subject="mine"))
    with pytest.raises(AccountError, match="not a sign-in linked"):
        confirm_identity(db, user, _profile("github", "someone-elses"), now=now)
    confirm_identity(db, user, _profile("github", "mine"), now=now + timedelta(hours=1))
    assert user.authenticated_at == now + timedelta(hours=1)


def test_unlinking_keeps_a_way_to_sign_in(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    user.password_hash = None
    first = OAuthIdentity(user_id=user.id, provider="github", subject="1")
    second = OAuthIdentity(user_id=user.id, provider="google", subject="2")
    db.add_all([first, second])
    db.flush()
    stranger = make_user()
    with pytest.raises(NotFound):
        unlink_identity(db, stranger, first.id, now=now)
    unlink_identity(db, user, first.id, now=now)
    with pytest.raises(AccountError, match="only way to sign in"):
        unlink_identity(db, user, second.id, now=now)
    assert _providers(db, user) == ["google"]
    with pytest.raises(NotFound):
        unlink_identity(db, user, 999999, now=now)
