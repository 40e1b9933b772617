"""Login rate limiting in PostgreSQL: failed attempts per account and per IP in a window.

Failures are written by `record_attempt` in their own transaction (the failed request itself
rolls back), so they count even though the login answered with an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import LoginAttempt


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_ip: int
    window: timedelta

    @classmethod
    def from_config(cls, config: dict) -> LoginLimits:
        return cls(
            per_account=int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
            per_ip=int(config["LOGIN_MAX_FAILURES_PER_IP"]),
            window=timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"])),
        )


def record_attempt(
    session: Session, *, email: str, ip: str | None, success: bool, now: datetime
) -> None:
    session.add(LoginAttempt(email=email.strip().lower(), ip=ip, success=success, created_at=now))
    session.flush()


def _blocked_until(
    session: Session, where: ColumnElement[bool], *, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When the `limit`-th most recent failure leaves the window, if that is still ahead."""
    nth_failure = session.scalar(
        select(LoginAttempt.created_at)
        .where(where, LoginAttempt.success.is_(False), LoginAttempt.created_at > now - window)
        .order_by(LoginAttempt.created_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if nth_failure is None:
        return None
    until = nth_failure + window
    return until if until > now else None


def check_login_allowed(
    session: Session, *, email: str, ip: str | None, limits: LoginLimits, now: datetime
) -> None:
    """Raise TooManyAttempts (with the seconds to wait) when the account or the IP is over."""
    email = email.strip().lower()
    last_success = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.success.is_(True)
        )
    )
    # A successful login clears the account's count; the IP's count is never reset by one,
    # or an attacker could interleave logins to their own account.
    account = LoginAttempt.email == email
    if last_success is not None:
        account = account & (LoginAttempt.created_at > last_success)
    blocks = [
        _blocked_until(session, account, limit=limits.per_account, window=limits.window, now=now)
    ]
    if ip:
        blocks.append(
            _blocked_until(
                session, LoginAttempt.ip == ip, limit=limits.per_ip, window=limits.window, now=now
            )
        )
    until = max((b for b in blocks if b is not None), default=None)
    if until is not None:
        raise TooManyAttempts(math.ceil((until - now).total_seconds()))


def prune_login_attempts(
    session: Session, *, now: datetime, keep: timedelta = timedelta(days=1)
) -> int:
    """Delete attempts older than `keep` (far beyond any window); return how many went."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - keep))
    return result.rowcount or 0
