"""An event's bookings and money movements for its organizer's exports: "orders", one row per
booking, and "payments", one row per payment and per refund; read through server-side cursors
in batches, so an export of tens of thousands of bookings never sits in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, String, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.money import to_decimal
from app.domain.payments.models import Payment, Refund
from app.domain.ticketing.models import Booking, Coupon

STREAM_BATCH = 1_000

BOOKING_HEADER = (
    "Booking reference",
    "Buyer name",
    "Buyer email",
    "Status",
    "Tickets",
    "Subtotal",
    "Discount",
    "Total",
    "Currency",
    "Coupon",
    "Created (UTC)",
    "Confirmed (UTC)",
    "Refunded",
)
PAYMENT_HEADER = (
    "Booking reference",
    "Kind",
    "Provider",
    "Provider id",
    "Amount",
    "Currency",
    "Status",
    "Time (UTC)",
)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _stream(session: Session, statement: Select) -> Iterator[tuple]:
    result = session.execute(
        statement, execution_options={"stream_results": True, "yield_per": STREAM_BATCH}
    )
    try:
        yield from (tuple(row) for row in result)
    finally:
        result.close()


def _refunded() -> Select:
    """Given back or on its way, per booking: a payment's refunded amount counts pending
    refunds and drops failed ones (`payments.refunds`)."""
    return (
        select(func.coalesce(func.sum(Payment.refunded_minor), 0))
        .where(Payment.booking_id == Booking.id)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class BookingRow:
    reference: str
    buyer_name: str
    buyer_email: str
    status: str
    tickets: int
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    currency: str
    coupon: str
    created_at: datetime
    confirmed_at: datetime | None
    refunded: Decimal

    def cells(self) -> list[str | int | Decimal]:
        return [
            self.reference,
            self.buyer_name,
            self.buyer_email,
            self.status,
            self.tickets,
            self.subtotal,
            self.discount,
            self.total,
            self.currency,
            self.coupon,
            _when(self.created_at),
            _when(self.confirmed_at),
            self.refunded,
        ]


def all_bookings(session: Session, event_id: int) -> Iterator[BookingRow]:
    """Every booking of the event, oldest first."""
    statement = (
        select(
            Booking.reference,
            User.name,
            User.email,
            Booking.status,
            Booking.quantity,
            Booking.total_minor,
            Booking.discount_minor,
            Booking.currency,
            Coupon.code,
            Booking.created_at,
            Booking.confirmed_at,
            _refunded(),
        )
        .outerjoin(User, User.id == Booking.user_id)
        .outerjoin(Coupon, Coupon.id == Booking.coupon_id)
        .where(Booking.event_id == event_id)
        .order_by(Booking.id)
    )
    for row in _stream(session, statement):
        ref, name, email, status, quantity, total, discount, currency = row[:8]
        coupon, created, confirmed, refunded = row[8:]
        yield BookingRow(
            reference=ref,
            buyer_name=name or "(deleted account)",
            buyer_email=email or "",
            status=status.value,
            tickets=quantity,
            subtotal=to_decimal(total + discount, currency),
            discount=to_decimal(discount, currency),
            total=to_decimal(total, currency),
            currency=currency,
            coupon=coupon or "",
            created_at=created,
            confirmed_at=confirmed,
            refunded=to_decimal(refunded, currency),
        )


@dataclass(frozen=True)
class MoneyRow:
    """A payment or a refund: money in, or money back."""

    reference: str
    kind: str  # "payment" or "refund"
    provider: str
    provider_ref: str
    amount: Decimal
    currency: str
    status: str
    at: datetime

    def cells(self) -> list[str | int | Decimal]:
        return [
            self.reference,
            self.kind,
            self.provider,
            self.provider_ref,
            self.amount,
            self.currency,
            self.status,
            _when(self.at),
        ]


def all_money(session: Session, event_id: int) -> Iterator[MoneyRow]:
    """Every payment and refund of the event's bookings, in time order."""
    payments = (
        select(
            Booking.reference,
            literal("payment").label("kind"),
            Payment.provider,
            Payment.provider_ref.label("provider_ref"),
            Payment.amount_minor,
            Payment.currency,
            type_coerce(Payment.status, String).label("status"),
            Payment.created_at.label("at"),
            Payment.id.label("payment_id"),
            literal(0).label("refund_id"),
        )
        .join(Booking, Booking.id == Payment.booking_id)
        .where(Booking.event_id == event_id)
    )
    refunds = (
        select(
            Booking.reference,
            literal("refund"),
            Payment.provider,
            Refund.provider_refund_ref,
            Refund.amount_minor,
            Refund.currency,
            type_coerce(Refund.status, String),
            Refund.created_at,
            Payment.id,
            Refund.id,
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(Booking.event_id == event_id)
    )
    both = union_all(payments, refunds).subquery("money")
    statement = select(both).order_by(both.c.at, both.c.payment_id, both.c.refund_id)
    for ref, kind, provider, provider_ref, amount, currency, status, at, *_ in _stream(
        session, statement
    ):
        yield MoneyRow(
            reference=ref,
            kind=kind,
            provider=provider,
            provider_ref=provider_ref or "",
            amount=to_decimal(amount, currency),
            currency=currency,
            status=status,
            at=at,
        )
