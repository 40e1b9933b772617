"""Where a user's push notifications go: browsers that opted in to Web Push, and phone-app
devices registered with Firebase Cloud Messaging.

An endpoint (a token) is unique: it names one browser (one app install), which belongs to
whoever subscribed on it last. Each row keeps how its last delivery went, and the latest
notification it took, so a retried message skips the devices that already have it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, utcnow


class _Target:
    """Delivery bookkeeping shared by both kinds of target."""

    label: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The latest notification this target took: a retry of that message passes it by.
    last_notification_id: Mapped[int | None] = mapped_column(BigInteger)


class PushSubscription(_Target, Base):
    """A browser's Web Push subscription (the PushSubscription the browser handed us)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the browser's P-256 key, base64url
    auth: Mapped[str] = mapped_column(String(50))  # its 16-byte auth secret, base64url


class DeviceToken(_Target, Base):
    """A phone app's Firebase Cloud Messaging registration token."""

    __tablename__ = "push_device_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(4096), unique=True)
