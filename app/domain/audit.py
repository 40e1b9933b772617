"""Append-only audit log of security events and state changes.

The table refuses UPDATE and DELETE by trigger (see the first migration), so an entry, once
committed, stays as written.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.domain.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_created_at", "created_at"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: entries outlive anything they mention.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(INET)
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: times as ISO 8601, enums as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    target: Any = None,
    ip: str | None = None,
    now: datetime | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (it commits with the change it records).

    A change of the target's fields names them in `before` and `after` (the same keys, the
    values on each side); they are stored as `data["before"]` and `data["after"]`, which the
    audit log shows as a table of what changed.
    """
    if before is not None or after is not None:
        data["before"] = {key: _plain(value) for key, value in (before or {}).items()}
        data["after"] = {key: _plain(value) for key, value in (after or {}).items()}
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        target_type=type(target).__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None),
        ip=ip,
        data=data,
        created_at=now or utcnow(),
    )
    session.add(entry)
    return entry
