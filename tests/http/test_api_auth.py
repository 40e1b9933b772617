"""The API's authentication over HTTP: personal tokens made on the account page, access and
refresh tokens from a password, their revocation, scopes, limits, and problem details."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from flask import Blueprint, Flask, jsonify
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.accounts.suspension import suspend
from app.domain.api_tokens import opaque, personal
from app.domain.api_tokens.access import issue_access_token
from app.domain.api_tokens.models import PersonalToken, RefreshFamily, RefreshToken
from app.domain.audit import AuditEntry
from app.domain.base import utcnow
from app.web.api.guard import api_caller, api_user
from tests.conftest import _test_config
from tests.factories.accounts import DEFAULT_PASSWORD

PROBLEM = "application/problem+json"

# A route needing a scope, under /api/, for this module's app only (the real scoped routes
# come with the endpoints that need them).
probe = Blueprint("api_probe", __name__, url_prefix="/api/v1/_probe")


@probe.get("/checkin")
@api_user("checkin")
def checkin_probe():  # noqa: ANN201
    return jsonify(user=api_caller().user.id)


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from app import create_app

    application = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    application.register_blueprint(probe)
    yield application
    application.extensions["db"].engine.dispose()


def _problem(response, status: int, code: str) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:eventhall:problem:{code}" and body["title"] and body["detail"]
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _make_pat(client, **fields) -> str:  # noqa: ANN001
    data = {"name": "deploy bot", "scopes": ["events:read"], "expires": "30", **fields}
    response = client.post("/account/tokens", data=data)
    assert response.status_code == 201, response.get_data(as_text=True)
    found = re.search(r'value="(eh_pat_[^"]+)"', response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _sign_in(client, email: str, **extra) -> dict:  # noqa: ANN001
    response = client.post(
        "/api/v1/auth/token", json={"email": email, "password": DEFAULT_PASSWORD, **extra}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


# Personal access tokens on the account page


def test_a_token_is_made_shown_once_listed_used_and_revoked(client, db, make_user, login_as):  # noqa: ANN001
    user = make_user(name="Ada")
    login_as(client, user)
    raw = _make_pat(client, name="door scanner", scopes=["checkin", "events:read"])
    row = db.scalar(select(PersonalToken))
    # Only the digest is stored; the hint is the prefix and four characters.
    assert row.token_hash == opaque.digest(raw) and raw not in (row.token_hash, row.hint)
    assert raw.startswith(row.hint) and len(row.hint) == len("eh_pat_") + 4
    assert row.scopes == ["checkin", "events:read"] and row.expires_at is not None
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "door scanner" in listing and "never used" in listing and raw not in listing

    me = client.get("/api/v1/me", headers=_bearer(raw))
    assert me.status_code == 200
    assert me.get_json() == {
        "id": user.id,
        "name": "Ada",
        "email": user.email,
        "role": "attendee",
        "token": "personal",
        "scopes": ["checkin", "events:read"],
    }
    db.expire_all()
    assert db.scalar(select(PersonalToken.last_used_at)) is not None
    assert "last used" in client.get("/account/tokens").get_data(as_text=True)

    response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    _problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "revoked_token")
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.like("api_token.%"))
        )
        == 2
    )


def test_another_users_token_is_not_found_and_stays(client, db, make_user, login_as):  # noqa: ANN001
    owner, stranger = make_user(), make_user()
    login_as(client, owner)
    raw = _make_pat(client)
    token_id = db.scalar(select(PersonalToken.id))
    login_as(client, stranger)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert "deploy bot" not in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"scopes": []},
        {"scopes": ["admin:everything"]},
        {"name": ""},
        {"name": "x" * 101},
        {"expires": "100000"},
        {"expires": "-5"},
    ],
)
def test_a_bad_token_form_is_refused_and_makes_nothing(client, db, make_user, login_as, fields):  # noqa: ANN001
    login_as(client, make_user())
    data = {"name": "deploy bot", "scopes": ["events:read"], "expires": "30", **fields}
    response = client.post("/account/tokens", data=data)
    assert response.status_code == 422
    assert "eh_pat_" not in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(PersonalToken)) == 0


def test_making_a_token_needs_a_recent_sign_in(client, db, make_user, login_as, monkeypatch):  # noqa: ANN001
    login_as(client, make_user())
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr("app.web.account.api_tokens.utcnow", lambda: later)
    response = client.post(
        "/account/tokens", data={"name": "x", "scopes": ["events:read"], "expires": "30"}
    )
    assert response.status_code == 303 and "/account/confirm" in response.headers["Location"]
    assert db.scalar(select(func.count()).select_from(PersonalToken)) == 0


def test_the_token_form_needs_its_csrf_token(csrf_app, db, make_user, login_as):  # noqa: ANN001
    client = csrf_app.test_client()
    login_as(client, make_user())
    response = client.post(
        "/account/tokens", data={"name": "x", "scopes": ["events:read"], "expires": "30"}
    )
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(PersonalToken)) == 0


def test_an_expired_token_and_a_missing_scope_are_refused(client, db, make_user, login_as):  # noqa: ANN001
    login_as(client, make_user())
    raw = _make_pat(client, scopes=["events:read"])
    _problem(client.get("/api/v1/_probe/checkin", headers=_bearer(raw)), 403, "insufficient_scope")
    scanner = _make_pat(client, name="door", scopes=["checkin"])
    assert client.get("/api/v1/_probe/checkin", headers=_bearer(scanner)).status_code == 200
    row = db.scalar(select(PersonalToken).where(PersonalToken.name == "deploy bot"))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    _problem(client.get("/api/v1/me", headers=_bearer(raw)), 401, "expired_token")


def test_a_suspended_users_tokens_stop_working(client, db, make_user, login_as, now):  # noqa: ANN001
    user = make_user()
    admin = make_user(role=Role.ADMIN)
    login_as(client, user)
    raw = _make_pat(client)
    pair = _sign_in(client, user.email)
    suspend(db, user.id, admin=admin, reason="abuse", now=now)
    db.commit()
    _problem(client.get("/api/v1/me", headers=_bearer(raw)), 403, "account_suspended")
    _problem(client.get("/api/v1/me", headers=_bearer(pair["access_token"])), 401, "revoked_token")
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "revoked_token",
    )
    _problem(
        client.post("/api/v1/auth/token", json={"email": user.email, "password": DEFAULT_PASSWORD}),
        403,
        "account_suspended",
    )


def test_last_use_is_written_at_most_once_a_minute(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    user.authenticated_at = now
    token, _raw = personal.create_token(
        db, user, name="x", scopes=["events:read"], lifetime=None, now=now
    )
    personal.note_use(db, token, now=now)
    db.refresh(token)
    assert token.last_used_at == now
    personal.note_use(db, token, now=now + timedelta(seconds=59))
    db.refresh(token)
    assert token.last_used_at == now
    personal.note_use(db, token, now=now + timedelta(seconds=61))
    db.refresh(token)
    assert token.last_used_at == now + timedelta(seconds=61)


# Access and refresh tokens


def test_a_password_gives_an_access_token_with_every_scope(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    pair = _sign_in(client, user.email)
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 300
    assert pair["refresh_token"].startswith("eh_rt_")
    me = client.get("/api/v1/me", headers=_bearer(pair["access_token"])).get_json()
    assert me["id"] == user.id and me["token"] == "access"
    assert me["scopes"] == sorted(personal.SCOPES)
    assert db.scalar(select(RefreshToken.token_hash)) == opaque.digest(pair["refresh_token"])
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "login.success"))
    assert entry.data == {"method": "api"}


def test_an_account_with_2fa_must_send_its_code(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user(with_2fa=True)
    db.commit()
    _problem(
        client.post("/api/v1/auth/token", json={"email": user.email, "password": DEFAULT_PASSWORD}),
        401,
        "otp_required",
    )
    _problem(
        client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": DEFAULT_PASSWORD, "otp": "000000"},
        ),
        422,
        "2fa_wrong_code",
    )
    pair = _sign_in(client, user.email, otp=pyotp.TOTP(user.totp_secret).now())
    assert client.get("/api/v1/me", headers=_bearer(pair["access_token"])).status_code == 200
    assert db.scalar(select(func.count()).select_from(RefreshFamily)) == 1


def test_wrong_passwords_count_against_the_login_limit(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    for _ in range(5):
        _problem(
            client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope"}),
            422,
            "invalid_credentials",
        )
    response = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    _problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"email": "a@b.test"},
        {"email": 5, "password": "x"},
        {"email": "", "password": "x"},
    ],
)
def test_a_malformed_sign_in_is_refused(client, db, body) -> None:  # noqa: ANN001
    response = (
        client.post("/api/v1/auth/token", json=body)
        if body is not None
        else (client.post("/api/v1/auth/token", data="email=a"))
    )
    _problem(response, 422, "invalid_request")
    assert db.scalar(select(func.count()).select_from(RefreshFamily)) == 0


def _forge(claims: dict, header: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_expired_forged_and_foreign_access_tokens_are_refused(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    family = _sign_in(client, user.email)
    family_id = db.scalar(select(RefreshFamily.id))
    past = utcnow() - timedelta(minutes=5, seconds=1)
    old = issue_access_token("test-secret", user_id=user.id, family_id=family_id, now=past)
    _problem(client.get("/api/v1/me", headers=_bearer(old)), 401, "expired_token")
    fresh = issue_access_token("test-secret", user_id=user.id, family_id=family_id, now=utcnow())
    assert client.get("/api/v1/me", headers=_bearer(fresh)).status_code == 200
    other_key = issue_access_token(
        "another-key", user_id=user.id, family_id=family_id, now=utcnow()
    )
    claims = {
        "iss": "eventhall",
        "sub": str(user.id),
        "fam": family_id,
        "exp": int(utcnow().timestamp()) + 300,
    }
    unsigned = _forge(claims, {"alg": "none", "typ": "JWT"})
    header, _payload, signature = family["access_token"].split(".")
    someone_else = _forge({**claims, "sub": str(user.id + 1)}, {}).split(".")[1]
    tampered = f"{header}.{someone_else}.{signature}"
    for token in (other_key, unsigned, tampered, "garbage", "a.b.c"):
        _problem(client.get("/api/v1/me", headers=_bearer(token)), 401, "invalid_token")
    _problem(client.get("/api/v1/me"), 401, "missing_token")
    _problem(
        client.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}), 401, "missing_token"
    )


def test_refresh_rotates_and_a_reused_token_revokes_its_family(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    first = _sign_in(client, user.email)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=_bearer(second["access_token"])).status_code == 200

    # The spent token again: the whole family goes, the fresh tokens with it.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    _problem(replay, 401, "refresh_reused")
    db.expire_all()
    family = db.scalar(select(RefreshFamily))
    assert family.revoked_at is not None and family.revoked_reason == "reused"
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "api.refresh_reused"))
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}),
        401,
        "revoked_token",
    )
    _problem(
        client.get("/api/v1/me", headers=_bearer(second["access_token"])), 401, "revoked_token"
    )
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": "eh_rt_x"}), 401, "invalid_token"
    )


def test_an_expired_refresh_token_is_refused(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    pair = _sign_in(client, user.email)
    db.scalar(select(RefreshToken)).expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "expired_token",
    )


def test_logout_revokes_the_family_and_other_families_live_on(client, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    phone, laptop = _sign_in(client, user.email), _sign_in(client, user.email)
    response = client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert response.status_code == 204
    _problem(client.get("/api/v1/me", headers=_bearer(phone["access_token"])), 401, "revoked_token")
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}),
        401,
        "revoked_token",
    )
    assert client.get("/api/v1/me", headers=_bearer(laptop["access_token"])).status_code == 200


def test_a_password_change_revokes_every_family(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    pair = _sign_in(client, user.email)
    response = client.post(
        "/account/password",
        data={"current_password": DEFAULT_PASSWORD, "new_password": "a much newer passphrase 42"},
    )
    assert response.status_code == 302
    _problem(client.get("/api/v1/me", headers=_bearer(pair["access_token"])), 401, "revoked_token")
    _problem(
        client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "revoked_token",
    )


def test_a_session_cookie_alone_is_not_an_api_caller(client, db, make_user, login_as) -> None:  # noqa: ANN001
    login_as(client, make_user())
    assert client.get("/account/profile").status_code == 200
    _problem(client.get("/api/v1/me"), 401, "missing_token")


def test_api_posts_need_no_csrf_token(csrf_app, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    response = csrf_app.test_client().post(
        "/api/v1/auth/token", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200


# Problem details and limits


def test_http_errors_under_the_api_are_problem_details(client, db) -> None:  # noqa: ANN001
    _problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.get("/api/v1/auth/token")
    _problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    # Pages keep their HTML errors.
    assert client.get("/nothing-here").mimetype == "text/html"


def test_requests_are_limited_per_token_and_per_network(app, client, db) -> None:  # noqa: ANN001
    app.config.update(API_TOKEN_BURST=2, API_TOKEN_PER_MINUTE=1)
    app.extensions.pop("api_token_buckets", None)
    try:
        for _ in range(2):
            _problem(client.get("/api/v1/me", headers=_bearer("eh_pat_x")), 401, "invalid_token")
        response = client.get("/api/v1/me", headers=_bearer("eh_pat_x"))
        _problem(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        # Another token from the same network goes on.
        _problem(client.get("/api/v1/me", headers=_bearer("eh_pat_y")), 401, "invalid_token")
    finally:
        app.config.update(API_TOKEN_BURST=120, API_TOKEN_PER_MINUTE=600)
        app.extensions.pop("api_token_buckets", None)
    app.config.update(API_NETWORK_BURST=1, API_NETWORK_PER_MINUTE=1)
    app.extensions.pop("api_network_buckets", None)
    try:
        _problem(client.get("/api/v1/me"), 401, "missing_token")
        _problem(client.get("/api/v1/me", headers=_bearer("eh_pat_z")), 429, "rate_limited")
    finally:
        app.config.update(API_NETWORK_BURST=300, API_NETWORK_PER_MINUTE=1200)
        app.extensions.pop("api_network_buckets", None)
