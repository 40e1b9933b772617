"""Proving again who you are inside a signed-in session, before a sensitive change.

A stolen session must not be enough to take an account over for good. So a new email address,
a password set for the first time, deleting the account, turning on a second factor and
linking a sign-in provider need a recent proof: the login itself, or a confirmation within
RECENT_AUTH. Accounts with a password may also type it in the form that makes the change.
The confirmation is a password, a sign-in through a provider linked to the account
(app/domain/accounts/oauth_linking.py), or a code mailed to the account's address. Every
guess is rate limited by the caller (app/domain/accounts/rate_limit.py, "reauth").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.address_proof import prove_address
from app.domain.accounts.errors import ReauthRequired, WrongSecret
from app.domain.accounts.models import User, UserSession
from app.domain.accounts.passwords import verify_password
from app.domain.accounts.sessions import mark_reauthenticated, token_digest

RECENT_AUTH = timedelta(minutes=10)
CODE_TTL = timedelta(minutes=10)
WRONG_CODE = "That code is not right or has expired. Ask for a new one."


def recently_authenticated(user: User, now: datetime) -> bool:
    """Whether the user's session logged in or confirmed who they are within RECENT_AUTH."""
    at = user.authenticated_at
    return at is not None and now - at <= RECENT_AUTH


def require_recent_auth(user: User, now: datetime) -> None:
    if not recently_authenticated(user, now):
        raise ReauthRequired()


def check_password(user: User, password: str, field: str = "password") -> None:
    """Raise WrongSecret unless `password` is the account's (accounts without one never match)."""
    if not user.password_hash or not verify_password(user.password_hash, password):
        raise WrongSecret("That password is not right.", code="password_wrong", field=field)


def require(user: User, password: str, *, now: datetime, field: str = "password") -> None:
    """Let a sensitive change through: the password typed again with it, or, for an account
    without one (it signs in through a provider), a recent proof of who is asking."""
    if user.password_hash:
        check_password(user, password, field=field)
    else:
        require_recent_auth(user, now)


def confirm_with_password(
    session: Session, user: User, password: str, *, now: datetime, ip: str | None = None
) -> None:
    check_password(user, password)
    _confirmed(session, user, now=now, ip=ip, via="password")


def _code_hash(session_token: str, code: str) -> str:
    # Bound to the session: a code mailed for one session proves nothing in another.
    return hmac.new(session_token.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code(session: Session, user: User, *, now: datetime) -> str:
    """A new 6-digit code for this session (it replaces an earlier one); mail it to the user."""
    code = f"{secrets.randbelow(10**6):06d}"
    row = session.get(UserSession, token_digest(user.login_session_token or ""))
    if row is None:
        raise ReauthRequired()
    row.reauth_code_hash = _code_hash(user.login_session_token or "", code)
    row.reauth_code_expires_at = now + CODE_TTL
    session.flush()
    return code


def _session_row(session: Session, token: str) -> UserSession | None:
    # Locked: two requests with the same code must not both spend it.
    return session.get(UserSession, token_digest(token), with_for_update=True)


def confirm_with_code(
    session: Session, user: User, code: str, *, now: datetime, ip: str | None = None
) -> None:
    """Accept the code mailed for this session, once. It also proves the address, from the
    account's own session (app/domain/accounts/address_proof.py)."""
    token = user.login_session_token or ""
    row = _session_row(session, token)
    code = "".join(code.split())
    if (
        row is None
        or row.reauth_code_hash is None
        or row.reauth_code_expires_at is None
        or row.reauth_code_expires_at <= now
        or not hmac.compare_digest(row.reauth_code_hash, _code_hash(token, code))
    ):
        raise WrongSecret(WRONG_CODE, code="reauth_code_wrong", field="code")
    row.reauth_code_hash = None
    row.reauth_code_expires_at = None
    prove_address(session, user, now=now, in_own_session=True, via="code", ip=ip)
    _confirmed(session, user, now=now, ip=ip, via="code")


def confirm_with_provider(
    session: Session, user: User, provider: str, *, now: datetime, ip: str | None = None
) -> None:
    """Record a confirmation through a sign-in provider; the caller checked that the identity
    the provider returned is linked to this user."""
    _confirmed(session, user, now=now, ip=ip, via=provider)


def _confirmed(session: Session, user: User, *, now: datetime, ip: str | None, via: str) -> None:
    mark_reauthenticated(session, user, now=now)
    audit.record(session, "reauth", actor_id=user.id, target=user, ip=ip, now=now, via=via)
    session.flush()
