"""Starting a payment for a held booking.

The view runs it in three steps, because the provider is called outside any transaction:
`begin_payment` writes a pending payment (commit), the provider creates its checkout with the
payment's idempotency key, and `record_checkout` (or `record_checkout_failure`) keeps what it
answered (commit). Nothing here confirms a booking: only a verified provider event does
(`events.apply_event`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.payments.errors import PaymentError
from app.domain.payments.models import Payment, PaymentStatus
from app.domain.ticketing.locking import busy_on_lock_timeout
from app.domain.ticketing.models import Booking, BookingStatus


def accepted_providers(event_providers: list[str] | None, configured: Collection[str]) -> list[str]:
    """The providers a buyer may pay an event with: those the site has set up, narrowed to the
    event's choice when it made one (in the site's order)."""
    if event_providers is None:
        return list(configured)
    return [name for name in configured if name in event_providers]


def begin_payment(
    session: Session,
    booking: Booking,
    *,
    provider: str,
    accepted: Collection[str],
    now: datetime,
) -> Payment:
    """A new pending payment of the booking's total with `provider` (one of `accepted`)."""
    if provider not in accepted:
        raise PaymentError("provider_not_accepted")
    with busy_on_lock_timeout():
        locked = session.scalars(
            select(Booking)
            .where(Booking.id == booking.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    if locked.status != BookingStatus.PENDING:
        raise PaymentError("not_payable")
    if locked.hold_expires_at is None or locked.hold_expires_at <= now:
        raise PaymentError("hold_expired")
    if locked.total_minor <= 0:
        raise PaymentError("nothing_to_pay")
    payment = Payment(
        booking_id=locked.id,
        provider=provider,
        amount_minor=locked.total_minor,
        currency=locked.currency,
        status=PaymentStatus.PENDING,
        idempotency_key=f"eventhall-payment-{uuid.uuid4().hex}",
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    audit.record(
        session,
        "payment.started",
        actor_id=locked.user_id,
        target=payment,
        now=now,
        provider=provider,
        booking=locked.reference,
    )
    return payment


def record_checkout(
    session: Session, payment_id: int, *, provider_ref: str, checkout_url: str | None
) -> Payment:
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise PaymentError("unknown_payment")
    payment.provider_ref = provider_ref
    payment.checkout_url = checkout_url
    session.flush()
    return payment


def record_checkout_failure(session: Session, payment_id: int, reason: str) -> None:
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is not None and payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = reason[:2000]
        session.flush()


def booking_payments(session: Session, booking_id: int) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.booking_id == booking_id).order_by(Payment.id)
        )
    )
