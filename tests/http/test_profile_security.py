"""Sensitive changes inside a session: guessing is rate limited, accounts without a password
confirm who they are first, owners are told, and a second factor cannot be skipped."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from app.domain.accounts.models import OAuthIdentity, Role, User, UserSession
from app.domain.accounts.passwords import verify_password
from app.domain.base import utcnow
from tests.factories.accounts import DEFAULT_PASSWORD, link_in

NEW = "a brand new passphrase"


def _fresh(db, user) -> User:  # noqa: ANN001
    db.expire_all()
    return db.get(User, user.id)


def _age_sessions(db, user, minutes: int = 30) -> None:  # noqa: ANN001
    """As if the user had logged in a while ago."""
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - timedelta(minutes=minutes))
    )
    db.commit()


def _passwordless(make_user, **kwargs):  # noqa: ANN001, ANN202
    user = make_user(**kwargs)
    user.password_hash = None
    return user


@pytest.fixture
def signed_in(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user(email="me@example.test")
    login_as(client, user)
    return user


def test_guessing_the_password_in_a_session_is_rate_limited(app, client, db, signed_in) -> None:  # noqa: ANN001
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    forms = [
        ("/account/email", {"email": "new@example.test", "password": "guess"}),
        ("/account/password", {"current_password": "guess", "new_password": NEW}),
        ("/account/delete", {"password": "guess", "confirm": "y"}),
    ]
    for n in range(limit):  # the forms share one count
        url, data = forms[n % len(forms)]
        assert client.post(url, data=data).status_code == 422, url
    right = client.post(
        "/account/email", data={"email": "new@example.test", "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 429 and "Try again in" in right.get_data(as_text=True)
    deleted = client.post("/account/delete", data={"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert deleted.status_code == 429
    user = _fresh(db, signed_in)
    assert user.deleted_at is None and verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_a_right_password_clears_the_earlier_guesses(app, client, db, signed_in) -> None:  # noqa: ANN001
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1):
        client.post("/account/email", data={"email": "n@example.test", "password": "guess"})
    ok = client.post(
        "/account/email", data={"email": "n@example.test", "password": DEFAULT_PASSWORD}
    )
    assert ok.status_code == 302
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1):
        assert (
            client.post(
                "/account/email", data={"email": "n@example.test", "password": "guess"}
            ).status_code
            == 422
        )


def test_guessing_codes_in_a_session_is_rate_limited(app, client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(with_2fa=True)
    login_as(client, user)
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        url = "/account/2fa/disable" if n % 2 else "/account/2fa/recovery-codes"
        data = {"password": DEFAULT_PASSWORD, "code": "000000", "renew-code": "000000"}
        assert client.post(url, data=data).status_code == 422
    code = pyotp.TOTP(user.totp_secret).now()
    blocked = client.post("/account/2fa/disable", data={"password": DEFAULT_PASSWORD, "code": code})
    assert blocked.status_code == 429
    assert _fresh(db, user).has_2fa


def test_an_email_change_to_a_taken_address_answers_alike_and_tells_its_owner(
    client, db, signed_in, make_user, mailbox
) -> None:  # noqa: ANN001
    owner = make_user(email="taken@example.test")
    db.commit()
    response = client.post(
        "/account/email", data={"email": "Taken@example.test", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get("/account/profile").get_data(as_text=True)
    assert "We sent a link to Taken@example.test. Open it to finish the change." in page
    assert "already exists" not in page
    [note] = mailbox(to=owner.email)
    assert note["subject"] == "Someone tried to use your email address"
    assert "/account/email/confirm/" not in note["text"]
    assert _fresh(db, signed_in).email == "me@example.test"


def test_confirming_a_new_address_ends_other_sessions_and_old_reset_links(
    app, client, db, signed_in, login_as, mailbox
) -> None:  # noqa: ANN001
    elsewhere = app.test_client()
    login_as(elsewhere, signed_in)
    app.test_client().post("/forgot", data={"email": "me@example.test"})
    reset_link = link_in(mailbox(to="me@example.test")[-1]["text"], "/reset/")
    client.post(
        "/account/email", data={"email": "moved@example.test", "password": DEFAULT_PASSWORD}
    )
    confirm = link_in(mailbox(to="moved@example.test")[-1]["text"], "/account/email/confirm/")
    assert client.get(confirm).status_code == 302
    assert client.get("/account/profile").status_code == 200
    assert elsewhere.get("/account/profile").status_code == 302
    assert app.test_client().get(reset_link).status_code == 400  # sent to the old address


def test_an_account_without_password_confirms_by_mailed_code_before_changing_email(
    client, db, make_user, login_as, mailbox
) -> None:  # noqa: ANN001
    user = _passwordless(make_user, email="social@example.test")
    login_as(client, user)
    _age_sessions(db, user)
    asked = client.post("/account/email", data={"email": "new@example.test"})
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/account/confirm?next=")
    assert mailbox(to="new@example.test") == []
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Email me a code" in page and 'name="password"' not in page

    sent = client.post("/account/confirm/code/send", data={"next": "/account/profile"})
    assert sent.status_code == 303
    code = re.search(r"\b(\d{6})\b", mailbox(to="social@example.test")[-1]["text"]).group(1)
    wrong = client.post(
        "/account/confirm/code", data={"code": "12345x", "next": "/account/profile"}
    )
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    done = client.post("/account/confirm/code", data={"code": code, "next": "/account/profile"})
    assert done.status_code == 303 and done.headers["Location"] == "/account/profile"

    changed = client.post("/account/email", data={"email": "new@example.test"})
    assert changed.status_code == 302 and len(mailbox(to="new@example.test")) == 1


def test_setting_a_first_password_needs_a_proven_address_and_a_recent_proof(
    client, db, make_user, login_as
) -> None:  # noqa: ANN001
    unproven = _passwordless(make_user, verified=False)
    login_as(client, unproven)
    refused = client.post("/account/password", data={"new_password": NEW})
    assert refused.status_code == 422
    assert "Confirm your email address before you set a password" in refused.get_data(as_text=True)
    assert _fresh(db, unproven).password_hash is None

    proven = _passwordless(make_user)
    login_as(client, proven)
    _age_sessions(db, proven)
    stale = client.post("/account/password", data={"new_password": NEW})
    assert stale.status_code == 303 and "/account/confirm" in stale.headers["Location"]
    assert _fresh(db, proven).password_hash is None


def test_an_account_without_password_deletes_after_a_recent_proof(
    client, db, make_user, login_as
) -> None:  # noqa: ANN001
    user = _passwordless(make_user)
    login_as(client, user)
    _age_sessions(db, user)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "confirm that it is you" in page
    response = client.post("/account/delete", data={"confirm": "y"})
    assert response.status_code == 303 and "/account/confirm" in response.headers["Location"]
    assert _fresh(db, user).deleted_at is None


def test_confirming_with_the_password_opens_the_way_for_ten_minutes(client, db, signed_in) -> None:  # noqa: ANN001
    _age_sessions(db, signed_in)
    assert "Confirm it is you" in client.get("/account/2fa").get_data(as_text=True)
    wrong = client.post(
        "/account/confirm/password", data={"password": "guess", "next": "/account/2fa"}
    )
    assert wrong.status_code == 422
    done = client.post(
        "/account/confirm/password", data={"password": DEFAULT_PASSWORD, "next": "/account/2fa"}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account/2fa"
    assert 'id="totp-secret"' in client.get("/account/2fa").get_data(as_text=True)
    offsite = client.post(
        "/account/confirm/password",
        data={"password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert offsite.headers["Location"] == "/account/profile"


def test_turning_2fa_on_and_off_mails_the_account(client, db, signed_in, mailbox) -> None:  # noqa: ANN001
    html = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    assert client.post("/account/2fa", data={"code": totp.now()}).status_code == 200
    on = mailbox(to="me@example.test")[-1]
    assert "turned on two-factor authentication" in on["text"]
    assert link_in(on["text"], "/forgot") and link_in(on["html"], "/forgot")
    code = totp.at(utcnow() + timedelta(seconds=30))  # the next step: codes work once
    off = client.post("/account/2fa/disable", data={"password": DEFAULT_PASSWORD, "code": code})
    assert off.status_code == 302
    assert "turned off two-factor authentication" in mailbox(to="me@example.test")[-1]["text"]


def test_a_dashboard_session_that_skipped_the_second_factor_must_enter_it(
    client, db, make_user, login_as
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    login_as(client, organizer)
    db.execute(update(UserSession).values(second_factor_done=False))
    db.commit()
    response = client.get("/organizer/")
    assert response.status_code == 303 and response.headers["Location"] == "/login/2fa"
    db.expire_all()
    assert db.scalar(select(UserSession.revoked_at)) is not None  # that session is over
    assert client.get("/account/profile").status_code == 302
    done = client.post("/login/2fa", data={"code": pyotp.TOTP(organizer.totp_secret).now()})
    assert done.status_code == 302 and done.headers["Location"] == "/organizer/"
    assert client.get("/organizer/").status_code == 200


def test_the_profile_lists_sign_in_providers_and_unlinks_them(
    client, db, signed_in, make_user, mailbox
) -> None:  # noqa: ANN001
    mine = OAuthIdentity(
        user_id=signed_in.id, provider="github", subject="1", email="gh@example.test"
    )
    theirs = OAuthIdentity(user_id=make_user().id, provider="github", subject="2")
    db.add_all([mine, theirs])
    db.commit()
    html = client.get("/account/profile").get_data(as_text=True)
    assert "GitHub (gh@example.test)" in html and f"/account/providers/{mine.id}/unlink" in html
    assert client.post(f"/account/providers/{theirs.id}/unlink").status_code == 404
    assert client.post(f"/account/providers/{mine.id}/unlink").status_code == 303
    assert db.scalar(select(func.count()).select_from(OAuthIdentity)) == 1
    assert "removed signing in through GitHub" in mailbox(to="me@example.test")[-1]["text"]


def test_the_last_way_to_sign_in_stays(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = _passwordless(make_user)
    only = OAuthIdentity(user_id=user.id, provider="github", subject="only")
    db.add(only)
    login_as(client, user)
    assert "your only way to sign in" in client.get("/account/profile").get_data(as_text=True)
    response = client.post(f"/account/providers/{only.id}/unlink")
    assert response.status_code == 303
    assert "This is your only way to sign in" in client.get("/account/profile").get_data(
        as_text=True
    )
    assert db.scalar(select(func.count()).select_from(OAuthIdentity)) == 1


def test_bad_confirmations_are_refused_and_change_nothing(client, db, signed_in) -> None:  # noqa: ANN001
    _age_sessions(db, signed_in)
    for url, data, message in (
        ("/account/confirm/password", {}, "Enter your password."),
        ("/account/confirm/code", {}, "Enter the code."),
        ("/account/confirm/code", {"code": "123456"}, "not right"),  # none was mailed
        ("/account/confirm/code", {"code": "x" * 50}, "cannot be longer than 20"),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert message in response.get_data(as_text=True), url
    for url in (
        "/account/providers/nowhere/link",
        "/account/confirm/nowhere",
        "/account/providers/x/unlink",
    ):
        assert client.get(url).status_code in (404, 405), url
    assert client.post("/account/providers/999999/unlink").status_code == 404
    db.expire_all()
    assert db.scalar(select(UserSession.reauthenticated_at)) is None
    assert "Confirm it is you" in client.get("/account/2fa").get_data(as_text=True)
