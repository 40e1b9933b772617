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
from sqlalchemy.orm import Session, selectinload

from app.domain import audit
from app.domain.base import NotFound
from app.domain.events.models import Event
from app.domain.payments.errors import PaymentError
from app.domain.payments.models import Payment, PaymentStatus
from app.domain.ticketing.locking import lock_booking
from app.domain.ticketing.models import Booking, BookingStatus


def accepted_providers(event_providers: list[str] | None, configured: Collection[str]) -> list[str]:
    """The providers a buyer may pay an event with: those the site has set up, narrowed to the
    event's choice when it made one (in the site's order)."""
    if event_providers is None:
        return list(configured)
    return [name for name in configured if name in event_providers]


def set_accepted_providers(
    session: Session, event: Event, chosen: Collection[str], *, configured: Collection[str]
) -> None:
    """The providers buyers may pay `event` with: a choice among those set up (all of them
    is stored as no choice, so a provider set up later is offered too)."""
    picked = [name for name in configured if name in chosen]
    if not picked or len(picked) != len(set(chosen)):
        raise PaymentError("invalid_providers")
    event.payment_providers = None if len(picked) == len(configured) else picked
    session.flush()


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
    locked = lock_booking(session, booking.id)
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
    """The booking's payments, oldest first, with their refunds."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.booking_id == booking_id)
            .options(selectinload(Payment.refunds))
            .order_by(Payment.id)
        )
    )


def user_payment(session: Session, *, user_id: int, payment_id: int) -> Payment:
    """The user's payment (one of their bookings'); anyone else's answers NotFound."""
    payment = session.scalars(
        select(Payment)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(Payment.id == payment_id, Booking.user_id == user_id)
        .options(selectinload(Payment.refunds))
    ).first()
    if payment is None:
        raise NotFound("We could not find that payment.")
    return payment


def payment_by_ref(session: Session, *, provider: str, provider_ref: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.provider == provider, Payment.provider_ref == provider_ref)
    ).first()
