"""Checking a password login, without telling anyone whether the email has an account.

The caller takes a rate-limited attempt first (app/domain/accounts/rate_limit.py, "login"):
it counts as a failure until the login succeeds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.emails import find_user_by_email
from app.domain.accounts.errors import AccountError, AccountSuspended, InvalidCredentials
from app.domain.accounts.models import AttemptOutcome, User
from app.domain.accounts.passwords import hash_password, needs_rehash, verify_password
from app.domain.accounts.rate_limit import LOGIN, network_of, record, settle

# Checked when the email is unknown, so both answers take the time of one argon2 verify.
_DUMMY_HASH = hash_password("no account has this password, it only burns the same time")


class EmailNotVerified(AccountError):
    """Only raised after the password matched, so it reveals nothing to a stranger."""

    code = "email_not_verified"

    def __init__(self, user: User) -> None:
        super().__init__("Confirm your email address first: open the link we sent you.")
        self.user = user


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
) -> User:
    """The user whose email and password match.

    Raises InvalidCredentials (unknown email, wrong password, deleted or password-less
    account: one answer for all), AccountSuspended or EmailNotVerified.
    """
    user = find_user_by_email(session, email)
    if user is None or user.deleted_at is not None or not user.password_hash:
        verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials()
    if user.is_suspended:
        raise AccountSuspended()
    if user.email_verified_at is None:
        raise EmailNotVerified(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def audit_login_failure(
    session: Session, *, email: str, ip: str | None, now: datetime, reason: str
) -> None:
    """Audit a failed attempt (it already counts); the caller commits this on its own
    transaction, since the failed request rolls back."""
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
    session: Session,
    user: User,
    *,
    ip: str | None,
    now: datetime,
    method: str,
    attempt_id: int | None = None,
) -> None:
    """The login's attempt (`attempt_id`, or a new one for a sign-in through a provider)
    succeeded: the account's earlier failures stop counting."""
    if attempt_id is None:
        record(
            session,
            LOGIN,
            subject=user.email,
            network=network_of(ip),
            outcome=AttemptOutcome.SUCCEEDED,
            now=now,
        )
    else:
        settle(session, attempt_id, AttemptOutcome.SUCCEEDED)
    audit.record(
        session, "login.success", actor_id=user.id, target=user, ip=ip, now=now, method=method
    )
