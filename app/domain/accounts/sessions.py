"""Server-side login sessions.

The browser holds a random token; the database holds only its SHA-256 as the row id. Each
login creates a new row (the session id rotates), logout revokes it, and a password change
revokes every other row of the user.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.models import User, UserSession
from app.domain.api_tokens.opaque import digest as token_digest
from app.domain.api_tokens.refresh import SESSIONS_REVOKED, revoke_user_families
from app.domain.checkin.models import StaffGrant
from app.domain.notifications.unread import unread_count_of
from app.domain.teams.access import Permission, roles_with
from app.domain.teams.models import TeamMember

# last_seen_at is refreshed at most this often, so a busy session costs no write per request.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)


def start_session(
    session: Session,
    user: User,
    *,
    now: datetime,
    lifetime: timedelta,
    remember: bool = False,
    second_factor_done: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Create a session row for `user` and return the token the browser must keep."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            remember=remember,
            second_factor_done=second_factor_done,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    user.last_login_at = now
    user.login_session_token = token
    user.second_factor_done = second_factor_done
    user.authenticated_at = now
    session.flush()
    return token


# Built once: this runs on every request, and a prebuilt statement skips building it and
# computing its cache key each time.
_SESSION_USER = (
    select(
        User,
        UserSession.last_seen_at,
        UserSession.second_factor_done,
        func.greatest(UserSession.created_at, UserSession.reauthenticated_at),
        # For the navigation's "Check-in" and "Teams" links: asked here, the page needs no
        # query of its own.
        or_(
            exists().where(StaffGrant.user_id == User.id),
            exists().where(
                TeamMember.user_id == User.id,
                TeamMember.role.in_(roles_with(Permission.CHECK_IN)),
            ),
        ),
        exists().where(TeamMember.user_id == User.id),
        # For the navigation's bell, likewise.
        unread_count_of(User.id),
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.id == bindparam("digest"),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
        User.deleted_at.is_(None),
    )
)


def load_session_user(session: Session, token: str, *, now: datetime) -> User | None:
    """The live user behind a session token, or None (unknown, revoked, expired, deleted).

    One indexed query joining the session row to its user: this runs on every request.
    """
    row = session.execute(_SESSION_USER, {"digest": token_digest(token), "now": now}).one_or_none()
    if row is None:
        return None
    user, last_seen_at, second_factor_done, authenticated_at, has_staff_grant, in_team, unread = row
    if now - last_seen_at > LAST_SEEN_GRANULARITY:
        session.execute(
            update(UserSession)
            .where(UserSession.id == token_digest(token))
            .values(last_seen_at=now)
        )
    user.login_session_token = token
    user.second_factor_done = second_factor_done
    user.authenticated_at = authenticated_at
    user.has_staff_grant = has_staff_grant
    user.in_team = in_team
    user.unread_notifications = unread
    return user


def suspended_session(session: Session, token: str) -> bool:
    """True when `token` was a session of a now suspended user: asked only once the token
    no longer loads a user, so the page can say why."""
    return bool(
        session.scalar(
            select(User.suspended_at.is_not(None))
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.id == token_digest(token))
        )
    )


def end_session(
    session: Session, token: str, *, user: User | None, now: datetime, ip: str | None = None
) -> None:
    """Log out: the session row is revoked, so its cookie (and remember cookie) stop working."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if user is not None:
        audit.record(session, "logout", actor_id=user.id, target=user, ip=ip, now=now)


def mark_second_factor_done(session: Session, token: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == token_digest(token))
        .values(second_factor_done=True)
    )


def mark_reauthenticated(session: Session, user: User, *, now: datetime) -> None:
    """The user of this session (`user.login_session_token`) just proved who they are."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == token_digest(user.login_session_token or ""))
        .values(reauthenticated_at=now)
    )
    user.authenticated_at = now


def revoke_user_sessions(
    session: Session, user_id: int, *, now: datetime, keep_token: str | None = None
) -> int:
    """Revoke every live session of the user except the one holding `keep_token`, and all
    their API refresh families (an API sign-in is a session kept elsewhere)."""
    revoke_user_families(session, user_id, now=now, reason=SESSIONS_REVOKED)
    statement = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_token is not None:
        statement = statement.where(UserSession.id != token_digest(keep_token))
    return session.execute(statement.values(revoked_at=now)).rowcount


def active_sessions(session: Session, user_id: int, *, now: datetime) -> list[UserSession]:
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )
