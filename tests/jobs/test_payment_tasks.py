"""The worker's payment work, through the outbox as the worker runs it: refunds reach the
provider once and settle; cancelling an event refunds its paid bookings; reconciliation is
asked for when payments stay pending, once at a time."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app.domain.base import utcnow
from app.domain.events.lifecycle import cancel_event
from app.domain.outbox import OutboxMessage
from app.domain.payments import checkout
from app.domain.payments.events import apply_event
from app.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.domain.payments.reconciliation import RECONCILE_TOPIC
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.waitlist import OfferSettings
from app.integrations.payments import configured_providers
from app.integrations.payments.base import CheckoutRequest, EventKind, ProviderEvent
from jobs.payment_tasks import queue_reconciliation
from jobs.relay import deliver_pending


def paid_booking(app: Flask, db, now, make_user, make_tier, *, confirm=True):  # noqa: ANN001, ANN201
    tier = make_tier(capacity=3, price_minor=3000)
    booking = hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    made = configured_providers(app.config)["demo"].create_checkout(
        CheckoutRequest(
            payment_id=payment.id,
            booking_reference=booking.reference,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description="test",
            buyer_email=None,
            return_url="https://example.test/back",
            cancel_url="https://example.test/cancel",
            idempotency_key=payment.idempotency_key,
        )
    )
    checkout.record_checkout(
        db, payment.id, provider_ref=made.provider_ref, checkout_url=made.redirect_url
    )
    if confirm:
        apply_event(
            db,
            "demo",
            ProviderEvent(
                event_id=f"evt_{payment.id}",
                kind=EventKind.SUCCEEDED,
                provider_ref=made.provider_ref,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
            ),
            now=now,
        )
    db.commit()
    return tier, booking, payment


def test_a_refund_reaches_the_provider_once_and_settles(
    app: Flask, db, now, make_user, make_tier
) -> None:  # noqa: ANN001
    _, booking, payment = paid_booking(app, db, now, make_user, make_tier)
    (refund,) = refund_booking(
        db, booking, amount_minor=6000, reason="x", actor_id=None, now=now, offers=OfferSettings()
    )
    db.commit()
    assert deliver_pending(db, app.config, now=utcnow()) >= 1
    db.commit()
    assert deliver_pending(db, app.config, now=utcnow()) == 0
    db.expire_all()
    done = db.get(Refund, refund.id)
    assert done.status == RefundStatus.SUCCEEDED and done.provider_refund_ref.startswith("demo_re_")
    assert db.get(Payment, payment.id).status == PaymentStatus.REFUNDED


def test_cancelling_an_event_refunds_its_paid_bookings_in_the_worker(
    app: Flask, db, now, make_user, make_tier
) -> None:  # noqa: ANN001
    tier, _, payment = paid_booking(app, db, now, make_user, make_tier)
    cancel_event(db, tier.event, actor=tier.event.organizer, reason="Flooded", now=now)
    db.commit()
    for _ in range(3):  # the refund job, then the refund it started
        deliver_pending(db, app.config, now=utcnow())
        db.commit()
    db.expire_all()
    (refund,) = db.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
    assert (refund.amount_minor, refund.status) == (6000, RefundStatus.SUCCEEDED)
    assert db.get(Payment, payment.id).status == PaymentStatus.REFUNDED


def test_reconciliation_is_asked_for_once_while_payments_stay_pending(
    app: Flask, db, now, make_user, make_tier
) -> None:  # noqa: ANN001
    assert queue_reconciliation(db, now) == 0  # nothing pending
    paid_booking(app, db, now, make_user, make_tier, confirm=False)
    assert queue_reconciliation(db, now) == 1
    assert queue_reconciliation(db, now) == 0  # one request waits already
    db.commit()
    deliver_pending(db, app.config, now=utcnow() + timedelta(hours=1))
    db.commit()
    processed = db.scalars(select(OutboxMessage).where(OutboxMessage.topic == RECONCILE_TOPIC))
    assert [m.processed_at is not None for m in processed] == [True]
    # The demo provider never loses an event: its pending payment stays pending.
    assert db.scalar(select(Payment.status)) == PaymentStatus.PENDING
