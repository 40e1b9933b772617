"""Two-factor login and enrolment over HTTP."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import func, select

from app.domain.accounts.models import Role, User, UserSession
from app.domain.audit import AuditEntry
from tests.factories.accounts import DEFAULT_PASSWORD


def _password_step(client, user, **extra):  # noqa: ANN001, ANN202
    return client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD, **extra})


def _sessions(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(UserSession))


def _signed_in(client) -> bool:  # noqa: ANN001
    return client.get("/account/profile").status_code == 200


def test_login_with_2fa_needs_a_code_before_any_session(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(role=Role.ORGANIZER, email="org@example.test")
    db.commit()
    step_one = _password_step(client, user, next="/organizer/")
    assert step_one.status_code == 302 and step_one.headers["Location"] == "/login/2fa"
    assert _sessions(db) == 0 and not _signed_in(client)
    page = client.get("/login/2fa")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)

    wrong = client.post("/login/2fa", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert _sessions(db) == 0

    code = pyotp.TOTP(user.totp_secret).now()
    done = client.post("/login/2fa", data={"code": code})
    assert done.status_code == 302 and done.headers["Location"] == "/organizer/"
    row = db.scalar(select(UserSession))
    assert row.second_factor_done
    assert _signed_in(client)

    # The same code cannot open a second session.
    other = client.application.test_client()
    _password_step(other, user)
    replay = other.post("/login/2fa", data={"code": code})
    assert replay.status_code == 422 and "already used" in replay.get_data(as_text=True)
    assert _sessions(db) == 1


def test_a_recovery_code_logs_in_once_with_a_warning(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(with_2fa=False)
    db.commit()
    from app.domain.accounts import two_factor
    from app.domain.base import utcnow

    secret = two_factor.start_enrolment(db, user)
    user.authenticated_at = utcnow()  # as right after a login
    codes = two_factor.enable(db, user, code=pyotp.TOTP(secret).now(), now=utcnow())
    db.commit()
    _password_step(client, user)
    response = client.post("/login/2fa", data={"code": codes[3]})
    assert response.status_code == 302
    assert "You used a recovery code" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/2fa", data={"code": codes[3]}).status_code == 422


def test_the_code_step_expires(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(role=Role.ADMIN)
    db.commit()
    _password_step(client, user)
    with client.session_transaction() as cookie:
        cookie["pending_2fa"] = {**cookie["pending_2fa"], "until": int(time.time()) - 1}
    response = client.post("/login/2fa", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _sessions(db) == 0


def test_code_step_without_a_password_step_goes_back_to_login(client) -> None:  # noqa: ANN001
    assert client.get("/login/2fa").headers["Location"] == "/login"
    assert client.post("/login/2fa", data={"code": "123456"}).headers["Location"] == "/login"


def test_wrong_codes_count_towards_the_rate_limit(app, client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(role=Role.ORGANIZER)
    db.commit()
    _password_step(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert client.post("/login/2fa", data={"code": "000000"}).status_code == 422
    blocked = client.post("/login/2fa", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert blocked.status_code == 429
    assert "Try again in" in blocked.get_data(as_text=True)


def _secret_on(html: str) -> str:
    match = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "the setup page shows the key as text"
    return match.group(1).replace(" ", "")


def test_an_organizer_must_enrol_before_the_dashboard(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(role=Role.ORGANIZER, with_2fa=False)
    login_as(client, user)
    blocked = client.get("/organizer/")
    assert blocked.status_code == 302
    assert blocked.headers["Location"].startswith("/account/2fa?next=")

    page = client.get(blocked.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html
    secret = _secret_on(html)
    assert _secret_on(client.get("/account/2fa").get_data(as_text=True)) == secret  # stable

    wrong = client.post("/account/2fa?next=/organizer/", data={"code": "123456"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    db.expire_all()
    assert not db.get(User, user.id).has_2fa

    done = client.post("/account/2fa?next=/organizer/", data={"code": pyotp.TOTP(secret).now()})
    codes_page = done.get_data(as_text=True)
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>[a-z2-9]{5}-[a-z2-9]{5}</code></li>", codes_page)) == 10
    assert 'href="/organizer/"' in codes_page
    db.expire_all()
    assert db.get(User, user.id).has_2fa
    assert db.scalar(select(UserSession.second_factor_done))
    assert client.get("/organizer/").status_code == 200
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "2fa.enabled"))


def test_an_attendee_can_turn_2fa_off_with_password_and_code(
    client, db, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user(with_2fa=True)
    login_as(client, user)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "Turn off two-factor authentication" in page
    code = pyotp.TOTP(user.totp_secret).now()
    wrong = client.post("/account/2fa/disable", data={"password": "nope nope", "code": code})
    assert wrong.status_code == 422 and "That password is not right." in wrong.get_data(
        as_text=True
    )
    db.expire_all()
    assert db.get(User, user.id).has_2fa
    off = client.post("/account/2fa/disable", data={"password": DEFAULT_PASSWORD, "code": code})
    assert off.status_code == 302
    db.expire_all()
    assert not db.get(User, user.id).has_2fa


def test_organizers_are_not_offered_turning_2fa_off(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(role=Role.ORGANIZER)
    login_as(client, user)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "must keep two-factor authentication on" in page
    code = pyotp.TOTP(user.totp_secret).now()
    refused = client.post("/account/2fa/disable", data={"password": DEFAULT_PASSWORD, "code": code})
    assert refused.status_code == 422
    db.expire_all()
    assert db.get(User, user.id).has_2fa


def test_new_recovery_codes_need_a_current_code(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(with_2fa=True)
    login_as(client, user)
    assert (
        client.post("/account/2fa/recovery-codes", data={"renew-code": "000000"}).status_code == 422
    )
    fresh = client.post(
        "/account/2fa/recovery-codes", data={"renew-code": pyotp.TOTP(user.totp_secret).now()}
    )
    assert fresh.status_code == 200
    assert len(re.findall(r"<li><code>", fresh.get_data(as_text=True))) == 10
