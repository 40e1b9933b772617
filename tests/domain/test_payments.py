"""Paying for a held booking: a payment starts only for a live paid hold; only a provider event
confirms; every event counts once and only moves a payment forward; a payment that cannot be
turned into tickets is refunded in full; refunds give back tickets or money, never more than
was paid."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.outbox import OutboxMessage
from app.domain.payments import checkout
from app.domain.payments.errors import PaymentError
from app.domain.payments.events import DUPLICATE, apply_event
from app.domain.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from app.domain.payments.refunds import (
    SEND_REFUND_TOPIC,
    refund_booking,
    refund_cancelled_event,
    send_refund,
)
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketStatus, Unit
from app.domain.ticketing.waitlist import OfferSettings
from app.integrations.payments.base import EventKind, ProviderEvent
from jobs.ticketing_tasks import expire_holds

OFFERS = OfferSettings()
_ids = itertools.count(1)


@pytest.fixture
def paid_tier(make_tier):  # noqa: ANN001, ANN201
    return make_tier(capacity=4, price_minor=2500)


def hold(db, now, user, tier, quantity=2):  # noqa: ANN001, ANN201
    return hold_units(
        db, user=user, event=tier.event, tier=tier, quantity=quantity, now=now, hold_minutes=10
    )


def start(db, booking, now, ref=None):  # noqa: ANN001, ANN201
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    checkout.record_checkout(
        db, payment.id, provider_ref=ref or f"demo_{next(_ids)}", checkout_url="https://x"
    )
    return payment


def event(kind, payment, **fields):  # noqa: ANN001, ANN201
    values = {
        "event_id": f"evt_{next(_ids)}",
        "kind": kind,
        "provider_ref": payment.provider_ref,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
    }
    values.update(fields)
    return ProviderEvent(**values)


def refunds_of(db, payment) -> list[Refund]:  # noqa: ANN001
    db.expire_all()
    return list(db.scalars(select(Refund).where(Refund.payment_id == payment.id)))


def test_a_payment_starts_only_for_a_live_paid_hold(db, now, make_user, paid_tier, make_tier):
    user = make_user()
    booking = hold(db, now, user, paid_tier)
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    assert (payment.amount_minor, payment.currency) == (5000, booking.currency)
    assert payment.status == PaymentStatus.PENDING and payment.idempotency_key
    with pytest.raises(PaymentError) as refused:
        checkout.begin_payment(db, booking, provider="stripe", accepted=["demo"], now=now)
    assert refused.value.code == "provider_not_accepted"
    with pytest.raises(PaymentError) as refused:
        checkout.begin_payment(
            db, booking, provider="demo", accepted=["demo"], now=now + timedelta(minutes=11)
        )
    assert refused.value.code == "hold_expired"
    free = hold(db, now, user, make_tier(capacity=2), quantity=1)  # confirmed at once
    with pytest.raises(PaymentError) as refused:
        checkout.begin_payment(db, free, provider="demo", accepted=["demo"], now=now)
    assert refused.value.code == "not_payable"


def test_accepted_providers_follow_the_events_choice():
    assert checkout.accepted_providers(None, ["stripe", "demo"]) == ["stripe", "demo"]
    assert checkout.accepted_providers(["demo", "paypal"], ["stripe", "demo"]) == ["demo"]
    assert checkout.accepted_providers([], ["stripe"]) == []


def test_a_success_confirms_once_and_issues_the_tickets(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    payment = start(db, booking, now)
    success = event(EventKind.SUCCEEDED, payment)
    assert apply_event(db, "demo", success, now=now) == "confirmed"
    for _ in range(10):
        assert apply_event(db, "demo", success, now=now) == DUPLICATE
    again = event(EventKind.SUCCEEDED, payment)  # the same news under another event id
    assert apply_event(db, "demo", again, now=now).startswith("ignored")
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert db.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED
    tickets = db.scalar(select(func.count()).where(Ticket.booking_id == booking.id))
    assert tickets == 2
    assert db.scalar(select(func.count()).select_from(PaymentEvent)) == 2
    assert refunds_of(db, payment) == []


def test_a_failure_leaves_the_hold_and_a_retry_can_pay(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    first = start(db, booking, now)
    assert apply_event(db, "demo", event(EventKind.FAILED, first), now=now) == "failed"
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING
    second = start(db, booking, now)
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, second), now=now) == "confirmed"
    # The failure arriving again, or late for the second payment, changes nothing.
    assert apply_event(db, "demo", event(EventKind.FAILED, second), now=now).startswith("ignored")
    db.expire_all()
    assert db.get(Payment, second.id).status == PaymentStatus.SUCCEEDED


def test_a_success_after_a_failure_still_confirms(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    payment = start(db, booking, now)
    apply_event(db, "demo", event(EventKind.FAILED, payment), now=now)
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=now) == "confirmed"


def test_a_refund_before_its_success_leaves_the_payment_refunded(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    payment = start(db, booking, now)
    refunded = event(EventKind.REFUNDED, payment, refund_ref="re_1")
    assert apply_event(db, "demo", refunded, now=now) == "refund recorded"
    late = apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=now)
    assert late.startswith("ignored")
    db.expire_all()
    assert db.get(Payment, payment.id).status == PaymentStatus.REFUNDED
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING  # it will expire


def test_a_late_payment_takes_its_units_again_when_free(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    payment = start(db, booking, now)
    later = now + timedelta(minutes=15)
    expire_holds(db, later)
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.EXPIRED
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=later) == "confirmed"
    db.expire_all()
    assert db.scalar(select(func.count()).where(Unit.booking_id == booking.id)) == 2


def test_a_late_payment_whose_units_sold_is_refunded_and_the_buyer_told(
    db, now, make_user, paid_tier, notification_mail
):
    buyer = make_user()
    booking = hold(db, now, buyer, paid_tier, quantity=4)
    payment = start(db, booking, now)
    later = now + timedelta(minutes=15)
    expire_holds(db, later)
    hold(db, later, make_user(), paid_tier, quantity=3)  # most of them went to someone else
    outcome = apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=later)
    assert outcome == "refunded: hold_expired"
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.EXPIRED
    (refund,) = refunds_of(db, payment)
    assert (refund.amount_minor, refund.status) == (10000, RefundStatus.PENDING)
    assert db.get(Payment, payment.id).refunded_minor == 10000
    topics = db.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.topic == SEND_REFUND_TOPIC)
    )
    assert list(topics) == [{"refund_id": refund.id}]
    (told,) = notification_mail(buyer.email, kind="payment_refunded")
    assert "being refunded" in told["subject"] and "could not issue the tickets" in told["text"]
    # Delivered again: still one refund.
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=later).startswith(
        "ignored"
    )
    assert len(refunds_of(db, payment)) == 1


def test_a_payment_for_a_cancelled_booking_is_refunded(db, now, make_user, paid_tier):
    user = make_user()
    booking = hold(db, now, user, paid_tier)
    payment = start(db, booking, now)
    cancel_booking(db, booking, actor_id=user.id, now=now, offers=OFFERS)
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=now) == (
        "refunded: booking_closed"
    )


def test_a_second_payment_for_one_booking_is_refunded(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    first, second = start(db, booking, now), start(db, booking, now)
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, first), now=now) == "confirmed"
    assert apply_event(db, "demo", event(EventKind.SUCCEEDED, second), now=now) == (
        "refunded: booking_closed"
    )
    assert [r.amount_minor for r in refunds_of(db, second)] == [5000]
    assert refunds_of(db, first) == []
    db.expire_all()
    assert db.scalar(select(func.count()).where(Ticket.booking_id == booking.id)) == 2


def test_a_different_amount_never_confirms(db, now, make_user, paid_tier):
    booking = hold(db, now, make_user(), paid_tier)
    payment = start(db, booking, now)
    short = event(EventKind.SUCCEEDED, payment, amount_minor=100)
    assert apply_event(db, "demo", short, now=now) == "refunded: amount did not match"
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING
    assert [r.amount_minor for r in refunds_of(db, payment)] == [100]


def test_an_event_for_no_payment_of_ours_is_recorded_and_ignored(db, now):
    stray = ProviderEvent(event_id="evt_x", kind=EventKind.SUCCEEDED, provider_ref="cs_unknown")
    assert apply_event(db, "demo", stray, now=now) == "ignored: no payment of ours"
    assert apply_event(db, "demo", stray, now=now) == DUPLICATE


def confirmed_paid_booking(db, now, user, tier, quantity=2):  # noqa: ANN001, ANN201
    booking = hold(db, now, user, tier, quantity)
    payment = start(db, booking, now)
    apply_event(db, "demo", event(EventKind.SUCCEEDED, payment), now=now)
    db.expire_all()
    return db.get(Booking, booking.id), db.get(Payment, payment.id)


def test_refunding_one_ticket_voids_it_and_puts_its_unit_back(db, now, make_user, paid_tier):
    organizer = paid_tier.event.organizer
    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    first, second = db.scalars(
        select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id)
    ).all()
    (refund,) = refund_booking(
        db,
        booking,
        ticket_ids=[first.id],
        reason="Could not come",
        actor_id=organizer.id,
        now=now,
        offers=OFFERS,
    )
    assert refund.amount_minor == 2500 and refund.ticket_ids == [first.id]
    db.expire_all()
    assert db.get(Ticket, first.id).status == TicketStatus.VOID
    assert db.get(Ticket, second.id).status == TicketStatus.VALID
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert db.scalar(select(func.count()).where(Unit.booking_id == booking.id)) == 1
    with pytest.raises(PaymentError):  # a voided ticket cannot be refunded again
        refund_booking(
            db, booking, ticket_ids=[first.id], reason="x", actor_id=None, now=now, offers=OFFERS
        )
    refund_booking(
        db, booking, ticket_ids=[second.id], reason="x", actor_id=None, now=now, offers=OFFERS
    )
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.REFUNDED
    assert db.get(Payment, payment.id).refunded_minor == 5000


def test_a_refund_never_exceeds_what_is_left(db, now, make_user, paid_tier, make_tier):
    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    refund_booking(
        db, booking, amount_minor=4000, reason="goodwill", actor_id=None, now=now, offers=OFFERS
    )
    for wrong in ({"amount_minor": 1001}, {"amount_minor": 0}, {}):
        with pytest.raises(PaymentError):
            refund_booking(db, booking, reason="x", actor_id=None, now=now, offers=OFFERS, **wrong)
    other_booking, _ = confirmed_paid_booking(db, now, make_user(), make_tier(price_minor=900))
    stranger_ticket = db.scalar(select(Ticket.id).where(Ticket.booking_id == other_booking.id))
    with pytest.raises(PaymentError):
        refund_booking(
            db,
            booking,
            ticket_ids=[stranger_ticket],
            reason="x",
            actor_id=None,
            now=now,
            offers=OFFERS,
        )
    assert db.get(Payment, payment.id).refunded_minor == 4000


def test_sending_a_refund_settles_it_once(db, now, make_user, paid_tier):
    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    (refund,) = refund_booking(
        db, booking, amount_minor=5000, reason="x", actor_id=None, now=now, offers=OFFERS
    )
    calls = []

    def provider_refunds(payment, refund):  # noqa: ANN001, ANN202
        calls.append(refund.idempotency_key)
        return "re_123", True

    assert send_refund(db, refund.id, provider_refunds, now=now) == "succeeded"
    assert send_refund(db, refund.id, provider_refunds, now=now) == "nothing to do"
    assert len(calls) == 1
    db.expire_all()
    assert db.get(Payment, payment.id).status == PaymentStatus.REFUNDED
    assert db.get(Refund, refund.id).provider_refund_ref == "re_123"


def test_a_refused_refund_gives_its_amount_back_to_refund(db, now, make_user, paid_tier):
    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    (refund,) = refund_booking(
        db, booking, amount_minor=2000, reason="x", actor_id=None, now=now, offers=OFFERS
    )
    assert send_refund(db, refund.id, lambda p, r: ("re_9", False), now=now) == "failed"
    db.expire_all()
    assert db.get(Payment, payment.id).refunded_minor == 0
    assert db.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED


def test_a_refund_confirmed_later_by_the_provider(db, now, make_user, paid_tier):
    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    (refund,) = refund_booking(
        db, booking, amount_minor=5000, reason="x", actor_id=None, now=now, offers=OFFERS
    )
    assert send_refund(db, refund.id, lambda p, r: ("re_7", None), now=now) == "sent"
    confirmed = event(EventKind.REFUNDED, payment, refund_ref="re_7", amount_minor=5000)
    assert apply_event(db, "demo", confirmed, now=now) == "refund succeeded"
    db.expire_all()
    assert db.get(Refund, refund.id).status == RefundStatus.SUCCEEDED
    assert db.get(Payment, payment.id).status == PaymentStatus.REFUNDED


def test_a_cancelled_events_payments_are_refunded_once_each(db, now, make_user, paid_tier):
    from app.domain.events.lifecycle import cancel_event

    booking, payment = confirmed_paid_booking(db, now, make_user(), paid_tier)
    event_ = paid_tier.event
    cancel_event(db, event_, actor=event_.organizer, reason="Storm", now=now)
    assert refund_cancelled_event(db, event_.id, now=now) == 1
    assert refund_cancelled_event(db, event_.id, now=now) == 0  # resumed: nothing twice
    assert [r.amount_minor for r in refunds_of(db, payment)] == [5000]
    assert booking.id
