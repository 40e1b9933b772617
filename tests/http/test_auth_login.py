"""Logging in and out over HTTP: sessions, remember me, enumeration, rate limits, redirects."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.accounts.models import Attempt, AttemptOutcome, UserSession
from app.domain.audit import AuditEntry
from tests.factories.accounts import DEFAULT_PASSWORD


def _login(client, email, password=DEFAULT_PASSWORD, **extra):  # noqa: ANN001, ANN202
    return client.post("/login", data={"email": email, "password": password, **extra})


def _signed_in(client) -> bool:  # noqa: ANN001
    return client.get("/account/profile").status_code == 200


def test_login_starts_a_new_server_side_session(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(email="lee@example.test")
    db.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "planted-by-an-attacker"
        cookie["leftover"] = "from before the login"
    response = _login(client, "LEE@example.test", next="/account/profile")
    assert response.status_code == 302 and response.headers["Location"] == "/account/profile"
    with client.session_transaction() as cookie:
        token = cookie["_user_id"]
        assert token != "planted-by-an-attacker" and "leftover" not in cookie
    row = db.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.id != token and row.revoked_at is None and not row.remember
    assert "lee@example.test" in client.get("/account/profile").get_data(as_text=True)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "login.success"))
    assert entry.actor_id == user.id and entry.data == {"method": "password"}


def test_each_login_rotates_the_session(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="rot@example.test")
    db.commit()
    tokens = []
    for _ in range(2):
        _login(client, "rot@example.test")
        with client.session_transaction() as cookie:
            tokens.append(cookie["_user_id"])
    assert tokens[0] != tokens[1]
    assert db.scalar(select(func.count()).select_from(UserSession)) == 2


def test_wrong_password_and_unknown_email_get_the_same_answer(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="real@example.test")
    db.commit()
    wrong = _login(client, "real@example.test", "not my password")
    unknown = _login(client, "ghost@example.test", "not my password")
    assert wrong.status_code == unknown.status_code == 422
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert not _signed_in(client)
    # The failures were kept although the requests rolled back.
    outcomes = db.scalars(select(Attempt.outcome).where(Attempt.action == "login")).all()
    assert outcomes == [AttemptOutcome.FAILED] * 2
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login.failure")
        )
        == 2
    )


def test_too_many_failures_lock_the_account_with_a_wait_time(app, client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="locked@example.test")
    db.commit()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert _login(client, "locked@example.test", "guess guess guess").status_code == 422
    blocked = _login(client, "locked@example.test")  # even the right password waits
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert "Too many attempts. Try again in " in html and " seconds." in html
    assert not _signed_in(client)


def test_an_unverified_account_gets_a_new_link_instead(client, db, make_user, mailbox) -> None:  # noqa: ANN001
    make_user(email="fresh@example.test", verified=False)
    db.commit()
    response = _login(client, "fresh@example.test")
    assert response.status_code == 302 and response.headers["Location"] == "/register/check-email"
    assert "Confirm your email address first" in client.get("/register/check-email").get_data(
        as_text=True
    )
    assert len(mailbox(to="fresh@example.test")) == 1
    assert not _signed_in(client)


def test_logout_revokes_the_session_even_for_a_copied_cookie(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="out@example.test")
    db.commit()
    _login(client, "out@example.test")
    stolen = client.get_cookie("session").value
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert response.headers["Clear-Site-Data"] == '"storage"'  # ticket pages kept offline
    assert not _signed_in(client)
    client.set_cookie("session", stolen)
    assert not _signed_in(client)
    assert db.scalar(select(UserSession.revoked_at)) is not None
    assert db.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == "logout"


def test_remember_me_outlives_the_browser_session_until_logout(app, db, make_user) -> None:  # noqa: ANN001
    make_user(email="keep@example.test")
    db.commit()
    browser = app.test_client()
    _login(browser, "keep@example.test", remember="y")
    remember = browser.get_cookie("remember_token")
    assert remember is not None
    assert db.scalar(select(UserSession.remember))
    # A browser restart drops the session cookie; the remember cookie signs back in.
    restarted = app.test_client()
    restarted.set_cookie("remember_token", remember.value)
    assert _signed_in(restarted)
    restarted.post("/logout")
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert not _signed_in(replay)


def test_without_remember_me_no_remember_cookie_is_set(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="brief@example.test")
    db.commit()
    _login(client, "brief@example.test")
    assert client.get_cookie("remember_token") is None


def test_next_only_redirects_within_the_site(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="nav@example.test")
    db.commit()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        response = _login(client, "nav@example.test", next=target)
        assert response.headers["Location"] == "/", target
    page = client.application.test_client().get("/login?next=/account/bookings")
    assert 'value="/account/bookings"' in page.get_data(as_text=True)
    evil = client.application.test_client().get("/login?next=//evil.example")
    assert "evil" not in evil.get_data(as_text=True)


def test_a_deleted_users_session_stops_working(client, db, make_user, login_as, now) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    assert _signed_in(client)
    user.deleted_at = now
    db.commit()
    assert not _signed_in(client)


def test_login_as_signs_in_without_the_form(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(name="Quick Login")
    login_as(client, user)
    assert "Quick Login" in client.get("/account/profile").get_data(as_text=True)


def test_pages_for_signed_in_users_send_others_to_login(client) -> None:  # noqa: ANN001
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_no_provider_buttons_without_client_ids(client) -> None:  # noqa: ANN001
    html = client.get("/login").get_data(as_text=True)
    assert "Or continue with" not in html and "/oauth/" not in html
