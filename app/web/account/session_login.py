"""The web side of signing in: cookie session, pending second factor, safe redirects.

The Flask cookie session carries only flask-login's `_user_id`, which here is the random
token of a server-side UserSession row (see app/domain/accounts/sessions.py).
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, request
from flask import session as cookie_session
from flask_login import login_user, logout_user

from app.db import get_session
from app.domain.accounts.errors import AccountSuspended
from app.domain.accounts.login import record_login_success
from app.domain.accounts.models import User
from app.domain.accounts.sessions import (
    end_session,
    load_session_user,
    start_session,
    suspended_session,
)
from app.domain.base import utcnow
from app.extensions import login_manager
from app.observability import logs
from app.web.network import client_ip

PENDING_KEY = "pending_2fa"
PENDING_SECONDS = 300
SUSPENDED_MESSAGE = AccountSuspended().message


FORWARDING_WARNED = "eventhall.forwarding_warned"


def warn_about_untrusted_forwarding() -> None:
    """Log once per process when a request names more forwarding hops than TRUSTED_PROXIES
    trusts. Behind proxies the setting does not count, every client seems to come from the
    nearest proxy: the per-network limits on logins and mails would then hold them all as one.
    (A client may send the header itself, so this is a hint to check, not proof.)"""
    app = current_app
    if app.extensions.get(FORWARDING_WARNED):
        return
    header = request.headers.get("X-Forwarded-For", "")
    hops = [hop for hop in header.split(",") if hop.strip()]
    trusted = int(app.config["TRUSTED_PROXIES"])
    if len(hops) > trusted:
        app.extensions[FORWARDING_WARNED] = True
        app.logger.warning(
            "Requests arrive through %d forwarding hop(s) (X-Forwarded-For, seen from %s) but "
            "TRUSTED_PROXIES=%d. If proxies the setting does not count are in front of the "
            "app, set TRUSTED_PROXIES to their number: otherwise all clients behind them share "
            "one network in the login and mail rate limits.",
            len(hops),
            request.remote_addr,
            trusted,
        )


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our name."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def load_user(token: str) -> User | None:
    """flask-login's user loader: one indexed query per request."""
    db = get_session()
    user = load_session_user(db, token, now=utcnow())
    if user is not None:
        logs.user_id.set(user.id)  # the request's log lines name it (reset after the request)
    if user is None and suspended_session(db, token):
        # Said once: the dead token leaves the cookie, so later requests are plain visitors.
        cookie_session.pop("_user_id", None)
        flash(SUSPENDED_MESSAGE, "error")
    return user


def configure_login_manager() -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"


def finish_login(
    user: User,
    *,
    remember: bool,
    second_factor_done: bool,
    method: str,
    attempt_id: int | None = None,
) -> None:
    """Start a fresh server-side session for `user` (the old cookie session is discarded);
    `attempt_id` is the login's rate-limited attempt, which succeeded."""
    config = current_app.config
    now = utcnow()
    remember_seconds = int(config["REMEMBER_COOKIE_DURATION"])
    lifetime = (
        timedelta(seconds=remember_seconds)
        if remember
        else timedelta(hours=int(config["SESSION_TTL_HOURS"]))
    )
    db = get_session()
    start_session(
        db,
        user,
        now=now,
        lifetime=lifetime,
        remember=remember,
        second_factor_done=second_factor_done,
        ip=client_ip(),
        user_agent=request.user_agent.string,
    )
    cookie_session.clear()
    if not remember:
        # Drop a remember cookie left by an earlier login on this browser.
        cookie_session["_remember"] = "clear"
    login_user(user, remember=remember, duration=timedelta(seconds=remember_seconds))
    record_login_success(db, user, ip=client_ip(), now=now, method=method, attempt_id=attempt_id)


def end_login(user: User | None) -> None:
    token = cookie_session.get("_user_id")
    if isinstance(token, str):
        end_session(get_session(), token, user=user, now=utcnow(), ip=client_ip())
    cookie_session.clear()
    logout_user()


def begin_second_factor(user: User, *, remember: bool, next_url: str, method: str) -> None:
    cookie_session.clear()
    cookie_session[PENDING_KEY] = {
        "uid": user.id,
        "until": int(time.time()) + PENDING_SECONDS,
        "remember": remember,
        "next": next_url,
        "method": method,
    }


def pending_second_factor() -> dict | None:
    pending = cookie_session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return pending


def clear_pending_second_factor() -> None:
    cookie_session.pop(PENDING_KEY, None)
