"""Transactional outbox: a message exists if and only if the transaction that wrote it committed.

Services call `enqueue()` inside their transaction; the worker (jobs/) relays pending rows to
their handlers and marks them done, so a retry never repeats a delivered side effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.domain.base import Base, utcnow
from app.observability import logs


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "available_at", postgresql_where=text("processed_at IS NULL")),
        # A topic's latest messages (the admin's reconciliation runs).
        Index("ix_outbox_topic", "topic", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Handed to the job queue by the worker's relay (cleared again for a retry).
    relayed_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The request that queued it (X-Request-ID; a job's messages carry its request's), for
    # the worker's log lines. None from a schedule or a command.
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def enqueue(
    session: Session, topic: str, payload: dict[str, Any], *, available_at: datetime | None = None
) -> OutboxMessage:
    """Queue a side effect (mail, notification, job) as part of the caller's transaction."""
    message = OutboxMessage(
        topic=topic,
        payload=payload,
        available_at=available_at or utcnow(),
        request_id=logs.request_id.get(),
    )
    session.add(message)
    return message
