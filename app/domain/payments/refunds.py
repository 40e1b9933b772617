"""Giving money back: refunds asked for by organizers and admins, and the automatic ones.

A refund is written as a pending row in the asking transaction, together with what it takes
back (voided tickets, units back on sale and to the waitlist), and an outbox message sends it
to the provider after the commit (`send_refund`, run by the worker). The provider call carries
the refund's idempotency key, so a retried job never refunds twice; the automatic refunds have
keys derived from their cause (a payment is refunded for a late arrival, or for a cancelled
event, at most once), held unique by the table.

Locks: a booking's payments first (by id), then the booking, the order a webhook takes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.notifications.queue import email_user
from app.domain.outbox import enqueue
from app.domain.payments.errors import PaymentError
from app.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.domain.ticketing import coupons
from app.domain.ticketing.holds import after_release
from app.domain.ticketing.locking import busy_on_lock_timeout, lock_booking
from app.domain.ticketing.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Coupon,
    Ticket,
    TicketStatus,
    Unit,
)
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.webhooks import emit as webhooks

SEND_REFUND_TOPIC = "payments.send_refund"
REFUND_CANCELLED_EVENT_TOPIC = "payments.refund_cancelled_event"


def _lock_payments(session: Session, booking_id: int) -> list[Payment]:
    with busy_on_lock_timeout():
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.booking_id == booking_id, Payment.status == PaymentStatus.SUCCEEDED)
                .order_by(Payment.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )


def refundable(session: Session, booking_id: int) -> int:
    """What is left to refund of the booking's payments, in minor units."""
    payments = session.scalars(
        select(Payment).where(
            Payment.booking_id == booking_id, Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    return sum(p.refundable_minor for p in payments)


def refund_booking(
    session: Session,
    booking: Booking,
    *,
    ticket_ids: Sequence[int] = (),
    amount_minor: int | None = None,
    reason: str,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings,
) -> list[Refund]:
    """Refund the chosen tickets of a paid booking (their price; they are voided and their
    units go back on sale and to the waitlist), or an amount of money alone. Refunding every
    ticket refunds the booking (status `refunded`)."""
    if bool(ticket_ids) == (amount_minor is not None):
        raise PaymentError("invalid_refund")
    payments = _lock_payments(session, booking.id)
    locked = lock_booking(session, booking.id)
    if locked.status != BookingStatus.CONFIRMED or not payments:
        raise PaymentError("not_refundable")
    left = sum(p.refundable_minor for p in payments)
    if ticket_ids:
        # What the tickets cost after the booking's discount; the shares of a discount are
        # rounded, so the last tickets refunded get what is left at most.
        taken_back = _take_back_tickets(session, locked, ticket_ids, now=now, offers=offers)
        amount_minor = min(taken_back, left)
    assert amount_minor is not None
    if amount_minor <= 0 or amount_minor > left:
        raise PaymentError("refund_too_large" if amount_minor > 0 else "invalid_refund")
    refunds = []
    for payment in payments:
        share = min(amount_minor, payment.refundable_minor)
        if share <= 0:
            continue
        refund = _new_refund(
            session,
            payment,
            share,
            reason=reason,
            actor_id=actor_id,
            ticket_ids=list(ticket_ids),
            key=f"refund-{uuid.uuid4().hex}",  # a new key never meets an earlier refund's
            now=now,
        )
        assert refund is not None
        refunds.append(refund)
        amount_minor -= share
        if amount_minor == 0:
            break
    _tell_buyer(session, locked, refunds, now=now)
    return refunds


def _tell_buyer(
    session: Session, booking: Booking, refunds: list[Refund], *, now: datetime
) -> None:
    if refunds:
        email_user(
            session,
            kind="refund_issued",
            about=("refund", refunds[0].id),
            user=booking.user,
            now=now,
            payload={"refund_ids": [refund.id for refund in refunds]},
        )


def _take_back_tickets(
    session: Session,
    booking: Booking,
    ticket_ids: Sequence[int],
    *,
    now: datetime,
    offers: OfferSettings,
) -> int:
    """Void these valid tickets of the booking and release their units; return their price."""
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ticket_ids), Ticket.booking_id == booking.id)
            .with_for_update()
        )
    )
    if len(tickets) != len(set(ticket_ids)) or any(t.status != TicketStatus.VALID for t in tickets):
        raise PaymentError("invalid_refund", "Choose valid tickets of this booking to refund.")
    lines = [
        coupons.Line(tier_id, quantity, unit_price)
        for tier_id, quantity, unit_price in session.execute(
            select(BookingLine.tier_id, BookingLine.quantity, BookingLine.unit_price_minor).where(
                BookingLine.booking_id == booking.id
            )
        )
    ]
    taken: dict[int, int] = {}
    for ticket in tickets:
        taken[ticket.tier_id] = taken.get(ticket.tier_id, 0) + 1
    for ticket in tickets:
        ticket.status = TicketStatus.VOID
    freed = session.execute(
        update(Unit)
        .where(Unit.id.in_([t.unit_id for t in tickets]), Unit.booking_id == booking.id)
        .values(booking_id=None)
        .returning(Unit.event_id, Unit.tier_id)
    ).all()
    still_valid = session.scalar(
        select(Ticket.id)
        .where(Ticket.booking_id == booking.id, Ticket.status == TicketStatus.VALID)
        .limit(1)
    )
    if still_valid is None:
        booking.status = BookingStatus.REFUNDED
        booking.cancelled_at = now
    session.flush()
    by_event: dict[int, set[int]] = {}
    for event_id, tier_id in freed:
        by_event.setdefault(event_id, set()).add(tier_id)
    after_release(session, by_event, now=now, offers=offers)
    coupon = session.get(Coupon, booking.coupon_id) if booking.coupon_id else None
    return coupons.paid_for(lines, taken, discount_minor=booking.discount_minor, coupon=coupon)


def _new_refund(
    session: Session,
    payment: Payment,
    amount_minor: int,
    *,
    reason: str,
    actor_id: int | None,
    ticket_ids: list[int],
    key: str,
    now: datetime,
) -> Refund | None:
    """A pending refund of a locked payment, sent by the worker after the commit; None when a
    refund with the idempotency key `key` was made before."""
    inserted = session.execute(
        insert(Refund)
        .values(
            payment_id=payment.id,
            amount_minor=amount_minor,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            reason=reason,
            requested_by_id=actor_id,
            ticket_ids=ticket_ids,
            idempotency_key=key,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Refund.id)
    ).scalar()
    if inserted is None:
        return None
    payment.refunded_minor += amount_minor
    session.flush()
    enqueue(session, SEND_REFUND_TOPIC, {"refund_id": inserted})
    audit.record(
        session,
        "payment.refund_requested",
        actor_id=actor_id,
        target=payment,
        now=now,
        refund_id=inserted,
        amount_minor=amount_minor,
        reason=reason,
    )
    return session.get(Refund, inserted)


def refund_in_full(
    session: Session, payment: Payment, *, cause: str, reason: str, now: datetime
) -> Refund | None:
    """An automatic refund of all that is left of a locked, succeeded payment, at most once
    per `cause` (its key): a payment that came too late, a second payment for one booking,
    a cancelled event. None when nothing is left or it was already made."""
    left = payment.refundable_minor
    if left <= 0:
        return None
    return _new_refund(
        session,
        payment,
        left,
        reason=reason,
        actor_id=None,
        ticket_ids=[],
        key=f"refund-{payment.id}-{cause}",
        now=now,
    )


def refund_cancelled_event(session: Session, event_id: int, *, now: datetime) -> int:
    """Refund every succeeded payment of the event's bookings cancelled with it (resumable:
    each payment at most once, by its key). Returns how many refunds it started."""
    payments = session.scalars(
        select(Payment)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(
            Booking.event_id == event_id,
            Booking.cancellation_reason == "event_cancelled",
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.refunded_minor < Payment.amount_minor,
        )
        .order_by(Payment.id)
        .with_for_update(of=Payment, skip_locked=True)
    ).all()
    started = 0
    for payment in payments:
        if refund_in_full(
            session,
            payment,
            cause="event-cancelled",
            reason="The organizer cancelled the event.",
            now=now,
        ):
            started += 1
    return started


RefundCall = Callable[[Payment, Refund], tuple[str, bool | None]]


def send_refund(session: Session, refund_id: int, call: RefundCall, *, now: datetime) -> str:
    """Ask the provider for a pending refund (`call` does: it returns the provider's refund id
    and True/False/None for done/refused/confirmed later; it raises to be retried). Returns
    what happened."""
    refund = session.get(Refund, refund_id, with_for_update=True)
    if refund is None or refund.status != RefundStatus.PENDING or refund.provider_refund_ref:
        return "nothing to do"
    payment = session.get(Payment, refund.payment_id, with_for_update=True)
    assert payment is not None
    refund_ref, succeeded = call(payment, refund)
    refund.provider_refund_ref = refund_ref
    if succeeded is not None:
        settle_refund(session, refund, payment, succeeded=succeeded, now=now)
    session.flush()
    return {True: "succeeded", False: "failed", None: "sent"}[succeeded]


def settle_refund(
    session: Session,
    refund: Refund,
    payment: Payment,
    *,
    succeeded: bool,
    now: datetime,
    failure: str | None = None,
) -> None:
    """The provider says how a refund ended (both locked)."""
    if refund.status != RefundStatus.PENDING:
        return
    refund.completed_at = now
    if succeeded:
        refund.status = RefundStatus.SUCCEEDED
        if payment.refunded_minor >= payment.amount_minor:
            payment.status = PaymentStatus.REFUNDED
        booking = session.get(Booking, payment.booking_id)
        assert booking is not None
        webhooks.booking_refunded(session, booking, refund, payment, now=now)
    else:
        refund.status = RefundStatus.FAILED
        refund.failure_reason = failure or "The provider refused the refund."
        payment.refunded_minor -= refund.amount_minor
    audit.record(
        session,
        "payment.refunded" if succeeded else "payment.refund_failed",
        actor_id=None,
        target=payment,
        now=now,
        refund_id=refund.id,
        amount_minor=refund.amount_minor,
    )
    session.flush()
