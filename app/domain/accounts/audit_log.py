"""Reading the audit log for the admin pages (newest first, keyset pagination by id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import AuditEntry


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    emails: dict[int, str]
    next_before: int | None


def browse(
    session: Session,
    *,
    action_prefix: str = "",
    user_id: int | None = None,
    before: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """Entries whose action starts with `action_prefix` and that `user_id` did or underwent."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if action_prefix:
        escaped = action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(AuditEntry.action.like(f"{escaped}%", escape="\\"))
    if user_id:
        statement = statement.where(
            (AuditEntry.actor_id == user_id)
            | ((AuditEntry.target_type == User.__tablename__) & (AuditEntry.target_id == user_id))
        )
    if before:
        statement = statement.where(AuditEntry.id < before)
    entries = list(session.scalars(statement))
    more = len(entries) > limit
    entries = entries[:limit]
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    emails = (
        {
            row.id: row.email
            for row in session.execute(select(User.id, User.email).where(User.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    return AuditPage(entries, emails, entries[-1].id if more and entries else None)
