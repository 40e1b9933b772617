"""Notifications: one row per message to one recipient on one channel.

A row is written in the transaction of its cause, so it exists if and only if the cause
committed. Its `key` (for example "booking:42:booking_confirmed:email") is unique: whatever
enqueues the same message again, a retried job, a second worker or a replayed webhook, finds
it there and adds nothing, and a row is sent at most once by whichever worker claims it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, str_enum, utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"
    PUSH = "push"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its `due_at`, or for a retry
    SENT = "sent"
    FAILED = "failed"  # out of tries, or refused for good: shown to admins
    SKIPPED = "skipped"  # nothing to send any more (preference off, cause undone)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_notifications_in_app",
            "user_id",
            text("created_at DESC"),
            postgresql_where=text("channel = 'in_app'"),
        ),
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("channel = 'in_app' AND read_at IS NULL"),
        ),
        Index("ix_notifications_failed", "created_at", postgresql_where=text("status = 'failed'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "notification_channel"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The address or number it goes to (None for in-app and push: they go to the user).
    recipient: Mapped[str | None] = mapped_column(String(254))
    # Ids of what it is about (booking, event, ...): the message is rendered when it is sent.
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    """A user's choice for one optional kind of message (reminders, digests) on one channel.
    No row means the default: on. Transactional messages always go by email."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[Channel] = mapped_column(
        str_enum(Channel, "notification_channel"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FailingAddress(Base):
    """An address or number that failed for good (a bounce, an invalid number): messages to it
    stop, and its owner sees why on their profile until they change or re-confirm it."""

    __tablename__ = "failing_addresses"

    channel: Mapped[Channel] = mapped_column(
        str_enum(Channel, "notification_channel"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    notification_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("notifications.id", ondelete="SET NULL")
    )
