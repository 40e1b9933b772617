"""Forgot password: a single-use, expiring link by email, then a new password."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import tokens
from app.domain.accounts.address_proof import prove_address
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import User
from app.domain.accounts.password_policy import check_password
from app.domain.accounts.passwords import hash_password
from app.domain.accounts.sessions import revoke_user_sessions


def request_reset(
    session: Session, email: str, *, now: datetime, ttl: timedelta
) -> tuple[User, str] | None:
    """The user and a fresh reset token when the address has a live account, else None.

    The caller answers the same either way ("if an account exists, we sent a link"), and
    limits how often an address and a network may ask (rate_limit, "mail").
    """
    try:
        email = normalize_email(email)
    except AccountError:
        return None
    user = find_user_by_email(session, email)
    if user is None or user.deleted_at is not None:
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
) -> tuple[User, list[str]]:
    """Set the new password, spend every reset link of the account and end all its sessions.

    Reaching this link proves the email address: an unproven address becomes proven, and the
    sign-in links made before go (app/domain/accounts/address_proof.py). Returns the user and
    the providers whose links were removed.
    """
    user = check_reset_token(session, token, now=now)
    check_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    removed = prove_address(session, user, now=now, in_own_session=False, via="reset", ip=ip)
    tokens.spend_reset_tokens(session, user.id, now=now)
    revoke_user_sessions(session, user.id, now=now)
    audit.record(session, "password.reset", actor_id=user.id, target=user, ip=ip, now=now)
    session.flush()
    return user, removed
