"""Admin work on user accounts: finding them and changing their role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import Role, User
from app.domain.base import NotFound

PAGE_SIZE = 50


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_users(
    session: Session, *, query: str = "", role: Role | None = None, page: int = 1
) -> tuple[list[User], bool]:
    """Users whose name or email contains `query`, newest first; and whether more follow."""
    statement = select(User).where(User.deleted_at.is_(None))
    if query.strip():
        pattern = _like_pattern(query.strip())
        statement = statement.where(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if role is not None:
        statement = statement.where(User.role == role)
    offset = (max(page, 1) - 1) * PAGE_SIZE
    rows = list(
        session.scalars(
            statement.order_by(User.created_at.desc(), User.id.desc())
            .offset(offset)
            .limit(PAGE_SIZE + 1)
        )
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def change_role(
    session: Session,
    user_id: int,
    role: Role,
    *,
    admin: User,
    now: datetime,
    ip: str | None = None,
) -> User:
    """Give a user another role. An admin cannot change their own (no accidental lock-out)."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that user.")
    if user.id == admin.id:
        raise AccountError("You cannot change your own role.", code="own_role")
    if user.role == role:
        return user
    old = user.role
    user.role = role
    audit.record(
        session,
        "role.changed",
        actor_id=admin.id,
        target=user,
        ip=ip,
        now=now,
        before={"role": old},
        after={"role": role},
    )
    session.flush()
    return user
