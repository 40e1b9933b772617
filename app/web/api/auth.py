"""Signing in through the API: a password (and code) for an access token and a refresh token,
the refresh exchange, and logout (app/domain/api_tokens/refresh.py explains the families)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.db import get_db, get_session
from app.domain.accounts import rate_limit
from app.domain.accounts.errors import InvalidCredentials, WrongSecret
from app.domain.accounts.login import authenticate, record_login_success
from app.domain.accounts.models import AttemptOutcome
from app.domain.accounts.two_factor import check_code
from app.domain.api_tokens import refresh
from app.domain.api_tokens.access import ACCESS_TTL, issue_access_token
from app.domain.api_tokens.errors import InvalidRequest, RefreshReused, SecondFactorRequired
from app.domain.api_tokens.models import RefreshFamily
from app.domain.base import utcnow
from app.web.account import attempts
from app.web.api import bp
from app.web.network import client_ip

FIELD_MAX = 1024


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("Send a JSON object (Content-Type: application/json).")
    return data


def _field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > FIELD_MAX:
        raise InvalidRequest(f"`{name}` must be a non-empty string.")
    return value


def _refresh_ttl() -> timedelta:
    return timedelta(days=int(current_app.config["API_REFRESH_TTL_DAYS"]))


def _tokens(family: RefreshFamily, refresh_token: str) -> ResponseReturnValue:
    access = issue_access_token(
        current_app.config["SECRET_KEY"],
        user_id=family.user_id,
        family_id=family.id,
        now=utcnow(),
    )
    response = jsonify(
        access_token=access,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_in=int(ACCESS_TTL.total_seconds()),
        refresh_token=refresh_token,
        refresh_expires_in=int(_refresh_ttl().total_seconds()),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/auth/token")
def token() -> ResponseReturnValue:
    """Email and password (and `otp` with 2FA) for a new token family; the login limits apply."""
    data = _body()
    email, password = _field(data, "email"), _field(data, "password")
    otp = _field(data, "otp", required=False)
    db = get_session()
    attempt_id = attempts.take(rate_limit.LOGIN, email)
    try:
        user = authenticate(db, email=email, password=password)
    except InvalidCredentials:
        attempts.audit_failure(email, "password")
        raise
    method = "api"
    if user.has_2fa:
        if not otp:
            # The code decides; the password alone must not clear the account's failures.
            attempts.settle(attempt_id, AttemptOutcome.NEUTRAL)
            raise SecondFactorRequired()
        try:
            method = f"api+{check_code(db, user, otp, now=utcnow(), ip=client_ip())}"
        except WrongSecret:
            attempts.audit_failure(email, "2fa")
            raise
    record_login_success(
        db, user, ip=client_ip(), now=utcnow(), method=method, attempt_id=attempt_id
    )
    family, refresh_token = refresh.start_family(db, user, now=utcnow(), ttl=_refresh_ttl())
    return _tokens(family, refresh_token)


@bp.post("/auth/refresh")
def refresh_token() -> ResponseReturnValue:
    """Exchange a refresh token for a new pair; a spent one revokes its family."""
    raw = _field(_body(), "refresh_token")
    db = get_session()
    try:
        family, new_token = refresh.rotate(db, raw, now=utcnow(), ttl=_refresh_ttl())
    except RefreshReused as error:
        db.rollback()  # the request fails, the revocation must stay: its own transaction
        with get_db().session() as own:
            refresh.revoke_reused(own, error, now=utcnow(), ip=client_ip())
            own.commit()
        raise
    return _tokens(family, new_token)


@bp.post("/auth/logout")
def logout() -> ResponseReturnValue:
    """Revoke the family of a refresh token: its access tokens stop working too."""
    raw = _field(_body(), "refresh_token")
    refresh.end_family(get_session(), raw, now=utcnow(), ip=client_ip())
    return "", 204
