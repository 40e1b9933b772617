"""Forgot password: a single-use, expiring link by email, then a new password."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import tokens
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import PasswordResetToken, User
from app.domain.accounts.password_policy import check_password
from app.domain.accounts.passwords import hash_password
from app.domain.accounts.sessions import revoke_user_sessions

MAX_RESETS_PER_WINDOW = 3
RESET_WINDOW = timedelta(hours=1)


def request_reset(
    session: Session, email: str, *, now: datetime, ttl: timedelta
) -> tuple[User, str] | None:
    """The user and a fresh reset token when the address has a live account, else None.

    The caller answers the same either way ("if an account exists, we sent a link").
    """
    try:
        email = normalize_email(email)
    except AccountError:
        return None
    user = find_user_by_email(session, email)
    if user is None or user.deleted_at is not None:
        return None
    recent = session.scalar(
        select(func.count()).where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.created_at > now - RESET_WINDOW,
        )
    )
    if recent and recent >= MAX_RESETS_PER_WINDOW:
        # Someone is flooding this mailbox; the links already sent still work.
        return None
    return user, tokens.issue_reset_token(session, user, now=now, ttl=ttl)


def check_reset_token(session: Session, token: str, *, now: datetime) -> User:
    """The account a still-usable reset link belongs to (InvalidToken otherwise)."""
    row = tokens.usable_reset_token(session, token, now=now)
    user = session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        raise InvalidToken("That reset link has already been used or is not valid.")
    return user


def reset_password(
    session: Session, token: str, new_password: str, *, now: datetime, ip: str | None = None
) -> User:
    """Set the new password, spend every reset link of the account and end all its sessions.

    Reaching this link proves the email address, so an unverified address becomes verified.
    """
    user = check_reset_token(session, token, now=now)
    check_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = now
    tokens.spend_reset_tokens(session, user.id, now=now)
    revoke_user_sessions(session, user.id, now=now)
    audit.record(session, "password.reset", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()
    return user
