"""Rotating refresh tokens, in families.

Signing in through the API starts a family with one refresh token. Exchanging a token spends
it and issues the next one of the same family. A spent token presented again means two
parties hold the same chain (a copy was stolen, or a client raced itself): the whole family is
revoked, so whichever of them holds the newest token loses it too, and the owner signs in
again. Logout revokes the family; anything that ends all of a user's login sessions (a
password change or reset, a suspension, a new second factor) revokes all their families
(`accounts.sessions.revoke_user_sessions`).

The spending is serialised by a row lock on the presented token: of two parallel exchanges of
one token, the first spends it and the second, once the lock is free, finds it spent and
revokes the family. So exactly one succeeds, and its new token dies with the family.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.models import User
from app.domain.api_tokens import opaque
from app.domain.api_tokens.errors import (
    ApiAuthError,
    RefreshReused,
    expired_token,
    revoked_token,
)
from app.domain.api_tokens.models import RefreshFamily, RefreshToken

LOGOUT, REUSED, SESSIONS_REVOKED = "logout", "reused", "sessions_revoked"


def _issue(session: Session, family: RefreshFamily, *, now: datetime, ttl: timedelta) -> str:
    raw = opaque.new_token(opaque.REFRESH_PREFIX)
    session.add(
        RefreshToken(
            family_id=family.id, token_hash=opaque.digest(raw), created_at=now, expires_at=now + ttl
        )
    )
    session.flush()
    return raw


def start_family(
    session: Session, user: User, *, now: datetime, ttl: timedelta
) -> tuple[RefreshFamily, str]:
    """A new family for a sign-in, and its first refresh token."""
    family = RefreshFamily(user_id=user.id, created_at=now)
    session.add(family)
    session.flush()
    return family, _issue(session, family, now=now, ttl=ttl)


def rotate(
    session: Session, raw: str, *, now: datetime, ttl: timedelta
) -> tuple[RefreshFamily, str]:
    """Spend the refresh token `raw` and return its family and the next token.

    Raises ApiAuthError when the token is unknown, expired, or its family revoked, and
    RefreshReused when it was spent already.
    """
    # The family's and the user's state read as columns, not through objects the session may
    # hold from before a revocation in the same transaction.
    row = session.execute(
        select(RefreshToken, RefreshFamily.revoked_at, User.deleted_at, User.suspended_at)
        .join(RefreshFamily, RefreshFamily.id == RefreshToken.family_id)
        .join(User, User.id == RefreshFamily.user_id)
        .where(RefreshToken.token_hash == opaque.digest(raw))
        .with_for_update(of=RefreshToken)
    ).one_or_none()
    if row is None:
        raise ApiAuthError("That refresh token is not valid.")
    token, family_revoked_at, deleted_at, suspended_at = row
    family = token.family
    if family_revoked_at is not None or deleted_at is not None or suspended_at is not None:
        raise revoked_token()
    if token.spent_at is not None:
        raise RefreshReused(family.id, family.user_id)
    if token.expires_at <= now:
        raise expired_token()
    token.spent_at = now
    return family, _issue(session, family, now=now, ttl=ttl)


def revoke_family(session: Session, family_id: int, *, now: datetime, reason: str) -> bool:
    """Revoke one family; False when it was revoked already."""
    result = session.execute(
        update(RefreshFamily)
        .where(RefreshFamily.id == family_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(result.rowcount)


def revoke_reused(
    session: Session, error: RefreshReused, *, now: datetime, ip: str | None = None
) -> None:
    """Revoke the family of a reused token and audit it (on a transaction that commits: the
    request that presented the token fails)."""
    if revoke_family(session, error.family_id, now=now, reason=REUSED):
        audit.record(
            session,
            "api.refresh_reused",
            actor_id=None,
            target=session.get(User, error.user_id),
            ip=ip,
            now=now,
            family_id=error.family_id,
        )


def revoke_user_families(session: Session, user_id: int, *, now: datetime, reason: str) -> int:
    """Revoke every live family of the user; return how many."""
    result = session.execute(
        update(RefreshFamily)
        .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return result.rowcount or 0


def end_family(session: Session, raw: str, *, now: datetime, ip: str | None = None) -> None:
    """Logout: revoke the family of the refresh token `raw` (spent or not)."""
    token = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == opaque.digest(raw))
    )
    if token is None:
        raise ApiAuthError("That refresh token is not valid.")
    if revoke_family(session, token.family_id, now=now, reason=LOGOUT):
        family = token.family
        audit.record(
            session, "api.logout", actor_id=family.user_id, target=family.user, ip=ip, now=now
        )
