"""Payments: what a buyer paid (or tried to) through a provider, its refunds, and every event
a provider told us about.

A booking may have several payments: each "Pay" starts one (a failed or abandoned checkout
leaves its payment pending or failed, and the buyer tries again while the hold lasts). At most
one of them confirms the booking; another that succeeds too is refunded automatically.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.base import Base, str_enum, utcnow
from app.domain.ticketing.models import Booking


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # a checkout was started; nothing is known yet
    SUCCEEDED = "succeeded"  # the provider took the money (partial refunds keep this status)
    FAILED = "failed"  # declined or abandoned, as the provider told us
    REFUNDED = "refunded"  # all of it was given back


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        # One payment per provider-side id: how a webhook finds its payment.
        Index(
            "uq_payments_provider_ref",
            "provider",
            "provider_ref",
            unique=True,
            postgresql_where=text("provider_ref IS NOT NULL"),
        ),
        # The reconciliation sweep's question: which payments are still pending, oldest first.
        Index("ix_payments_pending", "created_at", postgresql_where=text("status = 'pending'")),
        # The admin's search by the provider's id alone (`backoffice.payment_search`).
        Index(
            "ix_payments_provider_ref_alone",
            "provider_ref",
            postgresql_where=text("provider_ref IS NOT NULL"),
        ),
        # Money taken by day, week and range (`backoffice.admin_dashboard`, migration 0023).
        Index(
            "ix_payments_succeeded_at",
            "succeeded_at",
            postgresql_include=["booking_id", "amount_minor", "currency"],
            postgresql_where=text("succeeded_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bookings.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    # The provider's id for this payment (a Checkout Session, an order): set once the checkout
    # exists at the provider.
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    # Sent with every create call, so a retried call never makes a second checkout.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    refunded_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def refundable_minor(self) -> int:
        return self.amount_minor - self.refunded_minor if self.status == "succeeded" else 0


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # asked of the provider (or about to be); not confirmed yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(Base):
    """Money given back on a payment: all of it, or part (each part its own row)."""

    __tablename__ = "refunds"
    __table_args__ = (
        Index(
            "ix_refunds_provider_refund_ref",
            "provider_refund_ref",
            postgresql_where=text("provider_refund_ref IS NOT NULL"),
        ),
        # Money given back by day, week and range (`backoffice.admin_dashboard`, 0023).
        Index(
            "ix_refunds_succeeded",
            "completed_at",
            postgresql_include=["payment_id", "amount_minor", "currency"],
            postgresql_where=text("status = 'succeeded'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payments.id"), index=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus, "refund_status"), default=RefundStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(Text)
    # Who asked (an organizer, an admin); None when the system did (late payment, cancelled
    # event, a second payment for one booking).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The tickets whose units went back on sale with this refund (none: money only).
    ticket_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    provider_refund_ref: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class PaymentEvent(Base):
    """One event a provider sent (or a lookup found), recorded once by the provider's id."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "provider_event_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("payments.id"), index=True
    )
    # What applying it did: "confirmed", "refunded_late", "ignored: ...", "unknown_payment".
    outcome: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
