"""Checking a password login, without telling anyone whether the email has an account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.emails import find_user_by_email
from app.domain.accounts.errors import AccountError, InvalidCredentials
from app.domain.accounts.models import User
from app.domain.accounts.passwords import hash_password, needs_rehash, verify_password
from app.domain.accounts.rate_limit import LoginLimits, check_login_allowed, record_attempt

# Checked when the email is unknown, so both answers take the time of one argon2 verify.
_DUMMY_HASH = hash_password("no account has this password, it only burns the same time")


class EmailNotVerified(AccountError):
    """Only raised after the password matched, so it reveals nothing to a stranger."""

    code = "email_not_verified"
    status = 403

    def __init__(self, user: User) -> None:
        super().__init__("Confirm your email address first: open the link we sent you.")
        self.user = user


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    limits: LoginLimits,
    now: datetime,
) -> User:
    """The user whose email and password match, if the rate limit allows the attempt.

    Raises TooManyAttempts, InvalidCredentials (unknown email, wrong password, deleted or
    password-less account: one answer for all) or EmailNotVerified.
    """
    check_login_allowed(session, email=email, ip=ip, limits=limits, now=now)
    user = find_user_by_email(session, email)
    if user is None or user.deleted_at is not None or not user.password_hash:
        verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials()
    if user.email_verified_at is None:
        raise EmailNotVerified(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login_failure(
    session: Session, *, email: str, ip: str | None, now: datetime, reason: str
) -> None:
    """Count a failed attempt and audit it; the caller commits this on its own transaction."""
    record_attempt(session, email=email, ip=ip, success=False, now=now)
    user = find_user_by_email(session, email)
    audit.record(
        session,
        "login.failure",
        actor_id=None,
        target=user,
        ip=ip,
        now=now,
        reason=reason,
        email=email.strip().lower()[:254],
    )


def record_login_success(
    session: Session, user: User, *, ip: str | None, now: datetime, method: str
) -> None:
    record_attempt(session, email=user.email, ip=ip, success=True, now=now)
    audit.record(
        session, "login.success", actor_id=user.id, target=user, ip=ip, now=now, method=method
    )
