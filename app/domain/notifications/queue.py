"""Enqueue a notification in the caller's transaction (see `models` for the guarantees)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain.notifications.models import Channel, Notification


def notification_key(kind: str, channel: Channel, *parts: object) -> str:
    """The idempotency key of one message: what it is about, its kind and its channel."""
    return ":".join([*(str(part) for part in parts), kind, channel.value])


def notify(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: Channel,
    now: datetime,
    due_at: datetime | None = None,
    user_id: int | None = None,
    recipient: str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Queue the message, to go at `due_at` (at once by default), unless one with `key` exists
    already; True when this call added it."""
    added = session.execute(
        insert(Notification)
        .values(
            key=key,
            kind=kind,
            channel=channel,
            user_id=user_id,
            recipient=recipient,
            payload=payload or {},
            due_at=due_at or now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Notification.id)
    ).scalar_one_or_none()
    return added is not None
