"""Webhook endpoints and the deliveries queued for them.

A delivery is written in the transaction of its cause (`emit.py`), so it exists if and only if
the cause committed. Its `key` (the event's id and the endpoint's) is unique: confirming the
same booking again, or a replayed provider webhook, adds nothing.

The signing secret is stored as it is. HMAC needs the secret itself on every send, so a hash
cannot do; encrypting it with a key from the settings would only help against a reader of the
database who cannot read the settings, and the worker needs both anyway. It is shown to the
organizer once, when made or rotated, and never rendered again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, str_enum


class EventType(enum.StrEnum):
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_REFUNDED = "booking.refunded"
    TICKET_CHECKED_IN = "ticket.checked_in"


# Sent only by the "send test event" button, to whichever events the endpoint takes.
TEST_EVENT = "webhook.test"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for `next_try_at`: new, or a retry
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # out of tries, refused for good, or its endpoint is gone or disabled


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        # What `emit` reads in a rush's transaction: the owner's active endpoints.
        Index("ix_webhook_endpoints_active", "organizer_id", postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # Why it was disabled: by its owner, or by the endpoint answering 410 Gone.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due", "next_try_at", postgresql_where=text("status = 'pending'")
        ),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # "<event id>:<endpoint id>"; the event id is the message's `Webhook-Id`.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    @property
    def message_id(self) -> str:
        return message_id_of(self.key)


def message_id_of(key: str) -> str:
    """The event's id (the `Webhook-Id` header) in a delivery's key."""
    return key.rpartition(":")[0]
