"""Sales written straight into the tables at chosen moments, for the figures of the back
office: `sell(db, event, quantity, at, paid=...)`, `pay(...)`, `refund(...)`. The payment and
refund services stamp the real time; these put a sale just before midnight when a test needs
it there."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.domain.ticketing.models import Booking, BookingStatus

_ids = itertools.count(1)


def sell(
    db: Session,
    event: Event,
    quantity: int,
    at: datetime,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    paid: int = 0,
) -> Booking:
    """A booking of the event confirmed at `at` (now in `status`), paid `paid` at the same
    moment when that is not 0."""
    booking = Booking(
        reference=f"SALE{next(_ids):08d}",
        event_id=event.id,
        status=status,
        quantity=quantity,
        total_minor=paid,
        currency=event.currency,
        confirmed_at=at,
        created_at=at - timedelta(minutes=5),
    )
    db.add(booking)
    db.flush()
    if paid:
        pay(db, booking, paid, at)
    return booking


def pay(
    db: Session,
    booking: Booking,
    amount: int,
    at: datetime,
    *,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
) -> Payment:
    """A payment of the booking, taken at `at` unless it is pending or failed."""
    taken = status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)
    payment = Payment(
        booking_id=booking.id,
        provider="demo",
        amount_minor=amount,
        currency=booking.currency,
        status=status,
        idempotency_key=f"sale-pay-{next(_ids)}",
        succeeded_at=at if taken else None,
        created_at=at,
    )
    db.add(payment)
    db.flush()
    return payment


def refund(
    db: Session,
    payment: Payment,
    amount: int,
    at: datetime,
    *,
    status: RefundStatus = RefundStatus.SUCCEEDED,
) -> Refund:
    """A refund of the payment that ended at `at` (or is still pending)."""
    row = Refund(
        payment_id=payment.id,
        amount_minor=amount,
        currency=payment.currency,
        status=status,
        reason="test",
        idempotency_key=f"sale-refund-{next(_ids)}",
        created_at=at,
        completed_at=None if status == RefundStatus.PENDING else at,
    )
    db.add(row)
    db.flush()
    return row
