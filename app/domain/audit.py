"""Append-only audit log of security events and state changes.

The table refuses UPDATE and DELETE by trigger (see the first migration), so an entry, once
committed, stays as written.
"""

from __future__ import annotations

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


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    target: Any = None,
    ip: str | None = None,
    now: datetime | None = None,
    **data: Any,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (it commits with the change it records)."""
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
