"""Who an API request comes from: a `Bearer` value is a personal token or an access token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.errors import AccountSuspended
from app.domain.accounts.models import User
from app.domain.api_tokens import opaque
from app.domain.api_tokens.access import read_access_token
from app.domain.api_tokens.errors import (
    ApiAuthError,
    InsufficientScope,
    expired_token,
    revoked_token,
)
from app.domain.api_tokens.models import PersonalToken, RefreshFamily
from app.domain.api_tokens.personal import SCOPES, note_use

# An access token is its user signing in with their password (and code): every scope. What
# they may touch is still decided by their role and ownership, as on the pages.
ALL_SCOPES = frozenset(SCOPES)


@dataclass(frozen=True)
class ApiCaller:
    user: User
    scopes: frozenset[str]
    kind: str  # "personal" or "access"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise InsufficientScope(scope)


def _live(user: User | None) -> User:
    if user is None or user.deleted_at is not None:
        raise ApiAuthError()
    if user.is_suspended:
        raise AccountSuspended()
    return user


def _personal(session: Session, raw: str, now: datetime) -> ApiCaller:
    row = session.execute(
        select(PersonalToken, User)
        .join(User, User.id == PersonalToken.user_id)
        .where(PersonalToken.token_hash == opaque.digest(raw))
    ).one_or_none()
    if row is None:
        raise ApiAuthError()
    token, user = row
    if token.revoked_at is not None:
        raise revoked_token()
    if token.expires_at is not None and token.expires_at <= now:
        raise expired_token()
    user = _live(user)
    note_use(session, token, now=now)
    return ApiCaller(user=user, scopes=frozenset(token.scopes), kind="personal")


def _access(session: Session, raw: str, secret_key: str, now: datetime) -> ApiCaller:
    claims = read_access_token(secret_key, raw, now=now)
    row = session.execute(
        select(User, RefreshFamily.revoked_at)
        .join(RefreshFamily, RefreshFamily.user_id == User.id)
        .where(User.id == claims.user_id, RefreshFamily.id == claims.family_id)
    ).one_or_none()
    if row is None:
        raise ApiAuthError()
    user, revoked_at = row
    if revoked_at is not None:
        raise revoked_token()
    return ApiCaller(user=_live(user), scopes=ALL_SCOPES, kind="access")


def authenticate_bearer(session: Session, raw: str, *, secret_key: str, now: datetime) -> ApiCaller:
    """The caller behind a bearer token; ApiAuthError (401) or AccountSuspended (403)."""
    if raw.startswith(opaque.PERSONAL_PREFIX):
        return _personal(session, raw, now)
    return _access(session, raw, secret_key, now)
