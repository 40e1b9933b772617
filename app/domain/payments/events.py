"""What a provider's event does: the only way a paid booking gets confirmed.

Each event is recorded once by the provider's id (`payment_events`, unique): the insert that
records it is the first statement, so ten copies delivered at once queue on it and all but
one find it taken and change nothing. Then the payment is locked, and the event moves it only
forward: pending -> failed or succeeded, failed -> succeeded (the provider took the money after
all), succeeded -> refunded; never back. So events arriving out of order end in the same state
(a refund before its success leaves the payment refunded, and the late success does nothing).

A success confirms the booking (`confirm_booking`, which re-claims the units of a hold that
ran out if they are still free). When it cannot (the seats are gone, the booking was cancelled,
the event is off sale, another payment confirmed it already, or the booking's total is no
longer what this payment was for, since a coupon was applied or removed after it started) the
payment is refunded in full, automatically, and the buyer told: money is never kept for
tickets not issued.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload

from app.domain import audit
from app.domain.notifications.queue import email_user
from app.domain.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from app.domain.payments.refunds import refund_in_full, settle_refund
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import busy_on_lock_timeout
from app.domain.ticketing.models import Booking, BookingStatus
from app.integrations.payments.base import EventKind, Lookup, PaymentState, ProviderEvent
from app.observability import metrics

DUPLICATE = "duplicate"


def apply_event(session: Session, provider: str, event: ProviderEvent, *, now: datetime) -> str:
    """Record and act on a verified provider event; returns its outcome (also recorded).
    Raises `Busy` when a lock wait runs out (another copy of the event, or the booking, is
    being worked on): the caller rolls back and tries again."""
    with busy_on_lock_timeout():
        recorded = _record(session, provider, event, now)
    if recorded is None:
        return DUPLICATE
    payment = None
    if event.provider_ref:
        with busy_on_lock_timeout():
            # The booking comes along unlocked (a success confirms it, locking it after the
            # sale gate): one round trip fewer on the busiest path.
            payment = session.scalars(
                select(Payment)
                .where(Payment.provider == provider, Payment.provider_ref == event.provider_ref)
                .options(joinedload(Payment.booking, innerjoin=True))
                .with_for_update(of=Payment)
                .execution_options(populate_existing=True)
            ).first()
    if payment is None:
        outcome = "ignored: no payment of ours" if event.provider_ref else "ignored"
    elif event.kind == EventKind.SUCCEEDED:
        outcome = _succeeded(session, payment, event, now=now)
    elif event.kind == EventKind.FAILED:
        outcome = _failed(session, payment, event, now=now)
    elif event.kind in (EventKind.REFUNDED, EventKind.REFUND_FAILED):
        outcome = _refund_settled(session, payment, event, now=now)
    else:
        outcome = f"ignored: {event.raw_type or event.kind.value}"
    session.execute(
        update(PaymentEvent)
        .where(PaymentEvent.id == recorded)
        .values(outcome=outcome, payment_id=payment.id if payment else None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    metrics.count(session, metrics.PAYMENTS.labels(provider, outcome.partition(":")[0]))
    if payment is not None:
        # Pages waiting for this payment (the return page's stream) listen on the event. The
        # booking is the one loaded with the payment (no statement).
        booking = session.get(Booking, payment.booking_id)
        assert booking is not None
        publish_availability(session, booking.event_id)
    return outcome


def apply_lookup(session: Session, payment: Payment, found: Lookup, *, now: datetime) -> str | None:
    """What the provider said when asked about `payment` (webhooks get lost; a page's return
    hands us a reason to ask), applied like its event would be, once per answer. None while
    the provider still has it pending."""
    if found.state == PaymentState.PENDING or not payment.provider_ref:
        return None
    kind = EventKind.SUCCEEDED if found.state == PaymentState.SUCCEEDED else EventKind.FAILED
    event = ProviderEvent(
        event_id=f"lookup:{payment.provider_ref}:{found.state.value}",
        kind=kind,
        provider_ref=payment.provider_ref,
        amount_minor=found.amount_minor,
        currency=found.currency,
        raw_type="lookup",
    )
    return apply_event(session, payment.provider, event, now=now)


def _record(session: Session, provider: str, event: ProviderEvent, now: datetime) -> int | None:
    """The event's row id, or None when it was recorded before (a duplicate)."""
    return session.execute(
        insert(PaymentEvent)
        .values(
            provider=provider,
            provider_event_id=event.event_id,
            kind=event.kind.value,
            outcome="",
            payload=dict(event.payload),
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
        .returning(PaymentEvent.id)
    ).scalar()


def _succeeded(session: Session, payment: Payment, event: ProviderEvent, *, now: datetime) -> str:
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return f"ignored: payment already {payment.status.value}"
    if event.amount_minor is not None and (
        event.amount_minor != payment.amount_minor
        or (event.currency or "").upper() != payment.currency.upper()
    ):
        # Never confirm on a different amount; what was taken goes back.
        payment.status = PaymentStatus.SUCCEEDED
        payment.succeeded_at = now
        payment.amount_minor = event.amount_minor
        payment.currency = (event.currency or payment.currency).upper()
        refund_in_full(
            session, payment, cause="amount-mismatch", reason="The amount paid was wrong.", now=now
        )
        return "refunded: amount did not match"
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = now
    payment.failure_reason = None
    booking = session.get(Booking, payment.booking_id)  # loaded with the payment
    assert booking is not None
    try:
        with session.begin_nested():
            confirmed = confirm_booking(session, booking, now=now)
            # Written with the booking's entry by the next statement's flush (one INSERT), and
            # gone with the savepoint when the payment is refunded instead.
            audit.record(
                session,
                "payment.succeeded",
                actor_id=None,
                target=payment,
                now=now,
                event=event.event_id,
            )
            if _paid_by_another(session, payment):
                raise BookingError("booking_closed", "This booking was already paid.")
            if (confirmed.total_minor, confirmed.currency.upper()) != (
                payment.amount_minor,
                payment.currency.upper(),
            ):
                # Started before the buyer applied or removed a coupon: this payment was for
                # another price, and confirming on it would keep (or dodge) the discount.
                raise BookingError("price_changed")
    except BookingError as error:
        session.refresh(payment)
        refund_in_full(session, payment, cause="not-confirmed", reason=error.message, now=now)
        _tell_buyer_refunded(session, booking, payment, error.message, now=now)
        return f"refunded: {error.code}"
    return "confirmed" if confirmed.status == BookingStatus.CONFIRMED else "succeeded"


def _paid_by_another(session: Session, payment: Payment) -> bool:
    """Another payment of the booking succeeded before this one, and was not given back in
    full (one refunded because it could not confirm, e.g. for the price before a coupon
    changed it, paid nothing: the buyer's next payment confirms)."""
    return (
        session.scalar(
            select(Payment.id)
            .where(
                Payment.booking_id == payment.booking_id,
                Payment.id != payment.id,
                Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)),
                Payment.succeeded_at.is_not(None),
                Payment.refunded_minor < Payment.amount_minor,
            )
            .limit(1)
        )
        is not None
    )


def _failed(session: Session, payment: Payment, event: ProviderEvent, *, now: datetime) -> str:
    if payment.status != PaymentStatus.PENDING:
        return f"ignored: payment already {payment.status.value}"
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = str(event.payload.get("failure_message") or "Declined.")[:2000]
    email_user(
        session,
        kind="payment_failed",
        about=("payment", payment.id),
        user=payment.booking.user,
        now=now,
        payload={"payment_id": payment.id},
    )
    return "failed"


def _refund_settled(
    session: Session, payment: Payment, event: ProviderEvent, *, now: datetime
) -> str:
    succeeded = event.kind == EventKind.REFUNDED
    refund = None
    if event.refund_ref:
        refund = session.scalars(
            select(Refund)
            .where(Refund.payment_id == payment.id, Refund.provider_refund_ref == event.refund_ref)
            .with_for_update()
        ).first()
    if refund is None:
        refund = session.scalars(
            select(Refund)
            .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)
            .order_by(Refund.id)
            .with_for_update()
        ).first()
    if refund is not None:
        if refund.status != RefundStatus.PENDING:
            return f"ignored: refund already {refund.status.value}"
        settle_refund(session, refund, payment, succeeded=succeeded, now=now)
        return "refund " + ("succeeded" if succeeded else "failed")
    if not succeeded:
        return "ignored: no refund of ours"
    # Refunded at the provider (its dashboard), or before we heard of the success: record it,
    # and a payment refunded in full is over (a success arriving later does nothing).
    amount = event.amount_minor if event.amount_minor is not None else payment.amount_minor
    refund = Refund(
        payment_id=payment.id,
        amount_minor=amount,
        currency=payment.currency,
        status=RefundStatus.SUCCEEDED,
        reason="Refunded at the provider.",
        requested_by_id=None,
        ticket_ids=[],
        idempotency_key=f"refund-{payment.id}-provider-{event.event_id}"[:80],
        provider_refund_ref=event.refund_ref,
        created_at=now,
        completed_at=now,
    )
    session.add(refund)
    payment.refunded_minor += amount
    if payment.refunded_minor >= payment.amount_minor:
        payment.status = PaymentStatus.REFUNDED
    session.flush()
    return "refund recorded"


def _tell_buyer_refunded(
    session: Session, booking: Booking, payment: Payment, why: str, *, now: datetime
) -> None:
    email_user(
        session,
        kind="payment_refunded",
        about=("payment", payment.id),
        user=booking.user,
        now=now,
        payload={"payment_id": payment.id, "reason": why},
    )
