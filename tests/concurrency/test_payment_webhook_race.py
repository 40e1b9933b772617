"""Provider events delivered at once, really in parallel: the same success ten times confirms
the booking once; two payments of one booking succeeding together confirm it once and refund
the other; a success racing the hold's expiry and a rival buyer ends consistent (confirmed
with its units, or refunded and the units with the rival)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.payments import checkout
from app.domain.payments.events import DUPLICATE, apply_event
from app.domain.payments.models import Payment, PaymentEvent, Refund
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketTier, Unit
from app.integrations.payments.base import EventKind, ProviderEvent
from jobs.ticketing_tasks import expire_holds


def paid_hold(db, now, make_user, make_tier, *, capacity=2, quantity=2, payments=1):  # noqa: ANN001, ANN201
    tier = make_tier(capacity=capacity, price_minor=1200)
    booking = hold_units(
        db,
        user=make_user(),
        event=tier.event,
        tier=tier,
        quantity=quantity,
        now=now,
        hold_minutes=10,
    )
    made = []
    for n in range(payments):
        payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
        checkout.record_checkout(
            db, payment.id, provider_ref=f"demo_{booking.id}_{n}", checkout_url=None
        )
        made.append(payment)
    db.commit()
    return tier, booking, made


def success(payment: Payment, event_id: str) -> ProviderEvent:
    return ProviderEvent(
        event_id=event_id,
        kind=EventKind.SUCCEEDED,
        provider_ref=payment.provider_ref,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )


def count(db, *where) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).where(*where))


def test_the_same_success_ten_times_at_once_confirms_once(db, now, parallel, make_user, make_tier):
    _, booking, (payment,) = paid_hold(db, now, make_user, make_tier)
    same = success(payment, "evt_once")
    outcomes = parallel.run(10, lambda i, s: apply_event(s, "demo", same, now=now))
    assert sorted(outcomes, key=str) == ["confirmed"] + [DUPLICATE] * 9, outcomes
    assert count(db, Ticket.booking_id == booking.id) == 2
    assert count(db, PaymentEvent.provider_event_id == "evt_once") == 1
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_two_payments_of_one_booking_succeeding_at_once(db, now, parallel, make_user, make_tier):
    _, booking, payments = paid_hold(db, now, make_user, make_tier, payments=2)
    events = [success(p, f"evt_{p.id}") for p in payments]
    outcomes = parallel.run(2, lambda i, s: apply_event(s, "demo", events[i], now=now))
    assert sorted(outcomes) == ["confirmed", "refunded: booking_closed"], outcomes
    assert count(db, Ticket.booking_id == booking.id) == 2
    assert count(db, Refund.payment_id.in_([p.id for p in payments])) == 1


def test_a_late_success_racing_expiry_and_a_rival(db, now, parallel, make_user, make_tier):
    """The hold ran out; at once the sweep releases it, a rival holds the units, and the
    payment lands. Whoever wins, the two units are sold once, and money is kept only for
    issued tickets."""
    later = now + timedelta(minutes=10, seconds=1)
    for round_ in range(5):
        tier, booking, (payment,) = paid_hold(db, now, make_user, make_tier)
        rival = make_user()
        db.commit()
        event = success(payment, f"evt_late_{round_}")

        def act(index, session, tier_id=tier.id, rival_id=rival.id, event=event):  # noqa: ANN001, ANN202
            if index == 0:
                return expire_holds(session, later)
            if index == 1:
                return apply_event(session, "demo", event, now=later)
            tier_ = session.get(TicketTier, tier_id)
            return hold_units(
                session,
                user=session.get(User, rival_id),
                event=tier_.event,
                tier=tier_,
                quantity=2,
                now=later,
                hold_minutes=10,
            )

        results = parallel.run(3, act)
        outcome = results[1]
        assert isinstance(outcome, str), results
        sold = count(db, Unit.tier_id == tier.id, Unit.booking_id.is_not(None))
        assert sold <= 2
        mine = db.get(Booking, booking.id)
        refunds = count(db, Refund.payment_id == payment.id)
        if outcome == "confirmed":
            assert mine.status == BookingStatus.CONFIRMED and refunds == 0
            assert count(db, Unit.booking_id == booking.id) == 2
            assert isinstance(results[2], BookingError)  # the rival found nothing
        else:
            assert outcome.startswith("refunded"), outcome
            assert mine.status != BookingStatus.CONFIRMED and refunds == 1
            assert count(db, Ticket.booking_id == booking.id) == 0
