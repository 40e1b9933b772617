"""Sign-in through OpenID Connect against a local provider, and the linking rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
from flask import Flask
from sqlalchemy import func, select, update

from app.domain.accounts.models import OAuthIdentity, Role, User, UserSession
from app.domain.base import utcnow
from app.web.account.oauth import _github_profile
from tests.conftest import _test_config
from tests.factories.accounts import DEFAULT_PASSWORD, link_in
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OIDCProvider

CLAIMS = {
    "sub": "oidc-user-1",
    "email": "sso@example.test",
    "email_verified": True,
    "name": "Sam Single",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    with OIDCProvider() as running:
        yield running


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory, provider: OIDCProvider) -> Iterator[Flask]:  # noqa: ANN001
    """This module's app has the company SSO configured."""
    from app import create_app

    application = create_app(
        _test_config(
            database_url,
            tmp_path_factory.mktemp("instance"),
            OIDC_DISCOVERY_URL=provider.discovery_url,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_NAME="Acme SSO",
        )
    )
    yield application
    application.extensions["db"].engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_provider(provider: OIDCProvider) -> None:
    provider.next_claims = dict(CLAIMS)
    provider.wrong_nonce = provider.foreign_key = False


def _sign_in(client, next_url: str | None = None):  # noqa: ANN001, ANN202
    """Run the browser's part of the dance; return the app's answer to the callback."""
    start = client.get("/oauth/oidc/login" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/oauth/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def _count(db, model) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(model))


def test_login_page_shows_the_configured_provider_only(client) -> None:  # noqa: ANN001
    html = client.get("/login").get_data(as_text=True)
    assert "Acme SSO" in html and 'href="/oauth/oidc/login' in html
    assert "Google" not in html and "GitHub" not in html and "Facebook" not in html
    assert client.get("/oauth/github/login").status_code == 404


def test_first_sign_in_creates_an_account_then_reuses_it(client, db) -> None:  # noqa: ANN001
    response = _sign_in(client, next_url="/account/bookings")
    assert response.status_code == 302 and response.headers["Location"] == "/account/bookings"
    user = db.scalar(select(User).where(User.email == "sso@example.test"))
    assert user.role == Role.ATTENDEE and user.email_verified_at is not None
    assert user.password_hash is None and user.name == "Sam Single"
    assert "Sam Single" in client.get("/account/profile").get_data(as_text=True)
    client.post("/logout")
    again = client.application.test_client()
    assert _sign_in(again).status_code == 302
    assert _count(db, User) == 1 and _count(db, OAuthIdentity) == 1


def test_a_verified_email_links_to_an_existing_account(client, db, make_user) -> None:  # noqa: ANN001
    existing = make_user(email="SSO@example.test", name="Already Here")
    db.commit()
    _sign_in(client)
    identity = db.scalar(select(OAuthIdentity))
    assert identity.user_id == existing.id and identity.provider == "oidc"
    assert "Already Here" in client.get("/account/profile").get_data(as_text=True)


def test_an_unverified_email_does_not_take_over_an_account(client, db, make_user, provider) -> None:  # noqa: ANN001
    make_user(email="sso@example.test")
    db.commit()
    provider.next_claims["email_verified"] = False
    response = _sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "has not confirmed that the address is yours" in client.get("/login").get_data(
        as_text=True
    )
    assert _count(db, OAuthIdentity) == 0
    assert client.get("/account/profile").status_code == 302


def test_accounts_with_2fa_still_need_their_code(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(email="sso@example.test", role=Role.ORGANIZER)
    db.commit()
    response = _sign_in(client, next_url="/organizer/")
    assert response.headers["Location"] == "/login/2fa"
    assert client.get("/account/profile").status_code == 302
    done = client.post("/login/2fa", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert done.headers["Location"] == "/organizer/"


@pytest.mark.parametrize("knob", ["wrong_nonce", "foreign_key"])
def test_a_forged_id_token_is_refused(client, db, provider, knob) -> None:  # noqa: ANN001
    setattr(provider, knob, True)
    response = _sign_in(client)
    assert response.headers["Location"] == "/login"
    assert "Signing in with Acme SSO did not work" in client.get("/login").get_data(as_text=True)
    assert _count(db, User) == 0


def test_a_callback_without_our_state_is_refused(client, db) -> None:  # noqa: ANN001
    response = client.get("/oauth/oidc/callback?code=stolen&state=guessed")
    assert response.headers["Location"] == "/login"
    denied = client.get("/oauth/oidc/callback?error=access_denied&state=x")
    assert denied.headers["Location"] == "/login"
    assert _count(db, User) == 0


class _FakeGitHub:
    def __init__(self, user: dict, emails: list[dict]) -> None:
        self.answers = {"user": user, "user/emails": emails}

    def get(self, path: str, token: dict) -> _FakeGitHub:
        self.last = self.answers[path]
        return self

    def json(self) -> object:
        return self.last


def test_github_uses_the_primary_email_and_its_verified_flag() -> None:
    client = _FakeGitHub(
        {"id": 7, "login": "octo", "name": None, "email": "public@example.test"},
        [
            {"email": "other@example.test", "primary": False, "verified": True},
            {"email": "main@example.test", "primary": True, "verified": False},
        ],
    )
    profile = _github_profile(client, {})
    assert (profile.subject, profile.email, profile.email_verified, profile.name) == (
        "7",
        "main@example.test",
        False,
        "octo",
    )


def _round_trip(client, start_url: str):  # noqa: ANN001, ANN202
    """Follow a start URL of ours to the provider and back; return the callback's answer."""
    start = client.get(start_url)
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def _age_sessions(db) -> None:  # noqa: ANN001
    db.execute(update(UserSession).values(created_at=utcnow() - timedelta(minutes=30)))
    db.commit()


def test_an_unvouched_address_opens_an_unproven_account_and_mails_a_link(
    client, db, provider, mailbox
) -> None:  # noqa: ANN001
    provider.next_claims.pop("email_verified")  # a provider that does not say
    response = _sign_in(client)
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "sso@example.test"))
    assert user.email_verified_at is None
    assert link_in(mailbox(to="sso@example.test")[-1]["text"], "/verify/")
    assert "before you book tickets" in client.get("/").get_data(as_text=True)


def test_the_owners_reset_removes_a_squatters_sign_in(client, db, provider, mailbox) -> None:  # noqa: ANN001
    provider.next_claims.update(sub="squatter", email_verified=False)
    _sign_in(client)  # the squatter, with the owner's address
    assert client.get("/account/profile").status_code == 200
    owner = client.application.test_client()
    owner.post("/forgot", data={"email": "sso@example.test"})
    reset = link_in(mailbox(to="sso@example.test")[-1]["text"], "/reset/")
    assert owner.post(reset, data={"password": "the owners passphrase"}).status_code == 302
    assert "we removed it" in owner.get("/login").get_data(as_text=True)
    note = mailbox(to="sso@example.test")[-1]
    assert note["subject"] == "We removed sign-in links from your account"
    assert "Acme SSO" in note["text"]
    assert _count(db, OAuthIdentity) == 0
    assert client.get("/account/profile").status_code == 302  # the squatter's session ended
    again = _sign_in(client.application.test_client())
    assert again.headers["Location"] == "/login"  # and their sign-in no longer gets in


def test_the_owners_vouched_sign_in_removes_a_squatters_sign_in(
    client, db, provider, mailbox
) -> None:  # noqa: ANN001
    provider.next_claims.update(sub="squatter", email_verified=False)
    _sign_in(client)
    provider.next_claims.update(sub="owner", email_verified=True)
    owner = client.application.test_client()
    assert _sign_in(owner).status_code == 302
    assert db.scalars(select(OAuthIdentity.subject)).all() == ["owner"]
    assert client.get("/account/profile").status_code == 302
    assert owner.get("/account/profile").status_code == 200
    assert (
        mailbox(to="sso@example.test")[-1]["subject"]
        == "We removed sign-in links from your account"
    )


def test_a_signed_in_user_links_a_provider_after_a_recent_proof(
    client, db, make_user, login_as, mailbox
) -> None:  # noqa: ANN001
    user = make_user(email="owner@example.test")
    login_as(client, user)
    html = client.get("/account/profile").get_data(as_text=True)
    assert 'href="/account/providers/oidc/link"' in html and "Link Acme SSO" in html
    _age_sessions(db)
    stale = client.get("/account/providers/oidc/link")
    assert stale.status_code == 303 and "/account/confirm" in stale.headers["Location"]
    client.post("/account/confirm/password", data={"password": DEFAULT_PASSWORD})
    done = _round_trip(client, "/account/providers/oidc/link")
    assert done.status_code == 302 and done.headers["Location"] == "/account/profile"
    identity = db.scalar(select(OAuthIdentity))
    assert identity.user_id == user.id and identity.subject == "oidc-user-1"
    assert "linked signing in through Acme SSO" in mailbox(to="owner@example.test")[-1]["text"]
    client.post("/logout")
    assert _sign_in(client).status_code == 302  # the identity now signs in as the owner
    assert "owner@example.test" in client.get("/account/profile").get_data(as_text=True)


def test_an_identity_of_another_account_is_not_linked(client, db, make_user, login_as) -> None:  # noqa: ANN001
    _sign_in(client.application.test_client())  # oidc-user-1 belongs to sso@example.test
    login_as(client, make_user(email="other@example.test"))
    done = _round_trip(client, "/account/providers/oidc/link")
    assert done.headers["Location"] == "/account/profile"
    assert "already linked to another account" in client.get("/account/profile").get_data(
        as_text=True
    )
    assert _count(db, OAuthIdentity) == 1


def test_a_passwordless_account_confirms_through_its_provider(client, db, provider) -> None:  # noqa: ANN001
    _sign_in(client)
    _age_sessions(db)
    stale = client.post("/account/email", data={"email": "new@example.test"})
    assert stale.status_code == 303
    page = client.get(stale.headers["Location"]).get_data(as_text=True)
    assert "Continue with Acme SSO" in page
    provider.next_claims["sub"] = "someone-else"
    wrong = _round_trip(client, "/account/confirm/oidc?next=/account/profile")
    assert wrong.headers["Location"] == "/account/profile"
    assert client.post("/account/email", data={"email": "new@example.test"}).status_code == 303
    provider.next_claims["sub"] = "oidc-user-1"
    done = _round_trip(client, "/account/confirm/oidc?next=/account/profile")
    assert done.headers["Location"] == "/account/profile"
    assert client.post("/account/email", data={"email": "new@example.test"}).status_code == 302
