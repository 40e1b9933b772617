"""Coupons: the money arithmetic (percentages rounded half up to the minor unit, fixed amounts
never below zero, JPY with no decimals and KWD with three), which codes apply to which held
bookings, uses in all and per person (a hold that runs out gives its use back), guessing
limited, a zero total confirmed without a provider, and what a payment does when the price
changed under it or the code was used up while its hold had run out."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.config import load_config
from app.domain.accounts.models import Attempt
from app.domain.accounts.rate_limit import COUPON, Policy, Rule, policy
from app.domain.money import format_money, to_minor
from app.domain.payments import checkout
from app.domain.payments.events import apply_event
from app.domain.payments.models import Payment, PaymentStatus, Refund
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import claim_free_booking
from app.domain.ticketing.coupon_settings import (
    CouponData,
    create_coupon,
    deactivate_coupon,
    update_coupon,
)
from app.domain.ticketing.coupons import (
    Line,
    apply_coupon,
    discount_of,
    paid_for,
    price,
    record_wrong_code,
    remove_coupon,
    uses,
)
from app.domain.ticketing.errors import BookingError, CouponError
from app.domain.ticketing.models import Booking, BookingStatus, Coupon, CouponKind
from app.domain.ticketing.waitlist import OfferSettings
from app.integrations.payments.base import EventKind, ProviderEvent
from jobs.ticketing_tasks import expire_holds

PERCENT, FIXED = CouponKind.PERCENT, CouponKind.FIXED
_ids = itertools.count(1)


def hold(db, now, user, tier, quantity=1, **kwargs):  # noqa: ANN001, ANN201
    return hold_units(
        db,
        user=user,
        event=tier.event,
        tier=tier,
        quantity=quantity,
        now=now,
        hold_minutes=10,
        **kwargs,
    )


def coupon(db, event, now, code="SAVE10", kind=PERCENT, **fields):  # noqa: ANN001, ANN201
    if kind == PERCENT:
        fields.setdefault("percent_off", 10)
    else:
        fields.setdefault("amount_off_minor", 500)
    return create_coupon(
        db, event=event, data=CouponData(code=code, kind=kind, **fields), actor_id=None, now=now
    )


def refused(expected: str, fn, *args, **kwargs):  # noqa: ANN001, ANN201
    with pytest.raises((CouponError, BookingError)) as error:
        fn(*args, **kwargs)
    assert error.value.code == expected, error.value.message
    return error.value


# The arithmetic, on minor units.


@pytest.mark.parametrize(
    ("eligible", "percent", "off"),
    [
        (1000, 10, 100),
        (1250, 15, 188),  # 187.5 rounds half up
        (1249, 15, 187),  # 187.35 rounds down
        (999, 50, 500),  # 499.5 rounds up
        (1, 50, 1),  # half a cent is a cent
        (1, 49, 0),
        (3333, 100, 3333),
        (0, 30, 0),
    ],
)
def test_a_percentage_is_rounded_half_up_to_the_minor_unit(eligible, percent, off) -> None:  # noqa: ANN001
    assert (
        discount_of(PERCENT, percent_off=percent, amount_off_minor=None, eligible_minor=eligible)
        == off
    )


@pytest.mark.parametrize(
    ("eligible", "amount", "off"), [(5000, 500, 500), (500, 500, 500), (300, 500, 300), (0, 1, 0)]
)
def test_a_fixed_discount_never_takes_the_total_below_zero(eligible, amount, off) -> None:  # noqa: ANN001
    assert (
        discount_of(FIXED, percent_off=None, amount_off_minor=amount, eligible_minor=eligible)
        == off
    )


def test_jpy_has_no_decimals_and_kwd_three() -> None:
    # 15 % of JPY 1,999 is 299.85 yen: 300 yen off (the yen is JPY's minor unit).
    yen = to_minor("1999", "JPY")
    off = discount_of(PERCENT, percent_off=15, amount_off_minor=None, eligible_minor=yen)
    assert (yen, off, format_money(yen - off, "JPY")) == (1999, 300, "JPY 1,699")
    # 10 % of KWD 12.345 is 1.2345 dinars: 1.235 off (rounded half up to the fils).
    fils = to_minor("12.345", "KWD")
    off = discount_of(PERCENT, percent_off=10, amount_off_minor=None, eligible_minor=fils)
    assert (fils, off, format_money(fils - off, "KWD")) == (12345, 1235, "KWD 11.110")
    # No float ever: the same amounts through Decimal by hand.
    assert Decimal(12345) * Decimal("0.10") == Decimal("1234.50")


def test_only_the_coupons_tiers_are_discounted() -> None:
    lines = [Line(1, 2, 1000), Line(2, 1, 4000)]
    only_two = Coupon(kind=PERCENT, percent_off=50, tier_ids=[2])
    priced = price(lines, only_two)
    assert (priced.subtotal_minor, priced.eligible_minor, priced.eligible_quantity) == (
        6000,
        4000,
        1,
    )
    assert (priced.discount_minor, priced.total_minor) == (2000, 4000)
    whole = price(lines, Coupon(kind=FIXED, amount_off_minor=10_000, tier_ids=None))
    assert (whole.discount_minor, whole.total_minor) == (6000, 0)


# Applying to held bookings.


def test_a_code_sets_the_discount_and_total_and_comes_off_again(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=2500)
    coupon(db, tier.event, now, code="Summer-15", percent_off=15)
    booking = hold(db, now, make_user(), tier, quantity=2)
    applied = apply_coupon(db, booking, "  summer-15 ", now=now)  # any case, spaces trimmed
    assert (applied.discount_minor, applied.total_minor) == (750, 4250)
    assert applied.coupon.code == "SUMMER-15"
    removed = remove_coupon(db, booking, now=now)
    assert (removed.coupon_id, removed.discount_minor, removed.total_minor) == (None, 0, 5000)


def test_another_code_replaces_the_first(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=2000)
    coupon(db, tier.event, now, code="TEN", percent_off=10)
    five = coupon(db, tier.event, now, code="FIVER", kind=FIXED, amount_off_minor=500)
    booking = hold(db, now, make_user(), tier)
    apply_coupon(db, booking, "TEN", now=now)
    applied = apply_coupon(db, booking, "FIVER", now=now)
    assert (applied.coupon_id, applied.total_minor) == (five.id, 1500)


@pytest.mark.parametrize(
    ("currency", "price_minor", "percent", "total"),
    [("JPY", 1999, 15, 1699), ("KWD", 12345, 10, 11110)],
)
def test_bookings_in_jpy_and_kwd(
    db, now, make_user, make_event, make_tier, currency, price_minor, percent, total
):  # noqa: ANN001, PLR0913
    tier = make_tier(event=make_event(currency=currency), capacity=3, price_minor=price_minor)
    coupon(db, tier.event, now, code="LOCAL", percent_off=percent)
    booking = apply_coupon(db, hold(db, now, make_user(), tier), "LOCAL", now=now)
    assert (booking.currency, booking.total_minor) == (currency, total)


def test_a_fixed_amount_in_another_currency_does_not_apply(
    db, now, make_user, make_event, make_tier
):
    event = make_event(currency="EUR")
    coupon(db, event, now, code="EURO5", kind=FIXED, amount_off_minor=500)
    tier = make_tier(event=event, capacity=3, price_minor=1000, currency="GBP")
    refused(
        "not_for_these_tickets",
        apply_coupon,
        db,
        hold(db, now, make_user(), tier),
        "EURO5",
        now=now,
    )


def test_unknown_and_other_events_codes_do_not_apply(db, now, make_user, make_tier):
    tier = make_tier(capacity=3, price_minor=1000)
    other = make_tier(capacity=3, price_minor=1000)
    coupon(db, other.event, now, code="ELSEWHERE")
    booking = hold(db, now, make_user(), tier)
    refused("unknown_code", apply_coupon, db, booking, "NOPE", now=now)
    refused("unknown_code", apply_coupon, db, booking, "ELSEWHERE", now=now)


def test_a_code_applies_within_its_window_while_active(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=1000)
    event = tier.event
    coupon(db, event, now, code="LATER", valid_from=now + timedelta(hours=1))
    coupon(db, event, now, code="GONE", valid_until=now)
    coupon(
        db,
        event,
        now,
        code="NOW",
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(minutes=1),
    )
    off = coupon(db, event, now, code="OFF")
    deactivate_coupon(db, coupon=off, actor_id=None, now=now)
    booking = hold(db, now, make_user(), tier)
    refused("not_yet_valid", apply_coupon, db, booking, "LATER", now=now)
    refused("expired", apply_coupon, db, booking, "GONE", now=now)
    refused("expired", apply_coupon, db, booking, "OFF", now=now)
    assert apply_coupon(db, booking, "NOW", now=now).total_minor == 900


def test_eligible_tiers_and_the_minimum_count_only_those_tickets(
    db, now, make_user, make_event, make_tier
):
    event = make_event()
    stalls = make_tier(event=event, capacity=10, price_minor=3000)
    balcony = make_tier(event=event, capacity=5, price_minor=2000)
    coupon(db, event, now, code="BALCONY", tier_ids=[balcony.id], percent_off=50)
    coupon(db, event, now, code="GROUP", min_quantity=3)
    buyer = make_user()
    refused(
        "not_for_these_tickets", apply_coupon, db, hold(db, now, buyer, stalls), "BALCONY", now=now
    )
    assert (
        apply_coupon(db, hold(db, now, buyer, balcony, 2), "BALCONY", now=now).total_minor == 2000
    )
    error = refused(
        "too_few_tickets", apply_coupon, db, hold(db, now, buyer, stalls, 2), "GROUP", now=now
    )
    assert "at least 3 tickets" in error.message
    assert (
        apply_coupon(db, hold(db, now, make_user(), stalls, 3), "GROUP", now=now).total_minor
        == 8100
    )


def test_only_a_running_hold_takes_a_code(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=1000)
    coupon(db, tier.event, now, code="LATE")
    booking = hold(db, now, make_user(), tier)
    refused("hold_expired", apply_coupon, db, booking, "LATE", now=now + timedelta(minutes=10))
    refused("hold_expired", remove_coupon, db, booking, now=now + timedelta(minutes=10))
    free = hold(db, now, make_user(), make_tier(event=tier.event, capacity=2))  # confirmed at once
    refused("booking_closed", apply_coupon, db, free, "LATE", now=now)


def test_total_uses_and_an_expired_hold_gives_its_use_back(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    once = coupon(db, tier.event, now, code="ONCE", max_uses=1)
    first = apply_coupon(db, hold(db, now, make_user(), tier), "ONCE", now=now)
    refused("used_up", apply_coupon, db, hold(db, now, make_user(), tier), "ONCE", now=now)
    assert uses(db, [once.id], now=now) == {once.id: (1, 0)}
    later = now + timedelta(minutes=10)  # the first hold ran out: nothing was written
    assert db.get(Booking, first.id).status == BookingStatus.PENDING
    assert uses(db, [once.id], now=later) == {}
    third = apply_coupon(db, hold(db, later, make_user(), tier), "ONCE", now=later)
    assert third.coupon_id == once.id


def test_a_confirmed_booking_keeps_its_use(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    coupon(db, tier.event, now, code="ALLFREE", percent_off=100, max_uses=1)
    booking = apply_coupon(db, hold(db, now, make_user(), tier), "ALLFREE", now=now)
    assert booking.total_minor == 0
    confirmed = claim_free_booking(db, booking, now=now)  # no provider, no payment
    assert confirmed.status == BookingStatus.CONFIRMED and confirmed.total_minor == 0
    assert db.scalar(select(func.count()).select_from(Payment)) == 0
    much_later = now + timedelta(days=1)
    refused(
        "used_up",
        apply_coupon,
        db,
        hold(db, much_later, make_user(), tier),
        "ALLFREE",
        now=much_later,
    )


def test_uses_per_person(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    coupon(db, tier.event, now, code="MINE", max_uses_per_user=1)
    buyer = make_user()
    booking = apply_coupon(db, hold(db, now, buyer, tier), "MINE", now=now)
    refused("used_up_by_you", apply_coupon, db, hold(db, now, buyer, tier), "MINE", now=now)
    assert apply_coupon(db, booking, "MINE", now=now).coupon_id is not None  # its own use
    assert apply_coupon(db, hold(db, now, make_user(), tier), "MINE", now=now).total_minor == 900


def test_guessing_codes_is_limited_even_for_a_right_one(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    coupon(db, tier.event, now, code="REAL")
    buyer = make_user()
    booking = hold(db, now, buyer, tier)
    limits = Policy(
        COUPON, timedelta(minutes=15), (Rule(2, by_subject=True), Rule(5, by_network=True))
    )
    for _ in range(2):
        record_wrong_code(db, user_id=buyer.id, network="198.51.100.7", now=now)
    error = refused("too_many_guesses", apply_coupon, db, booking, "REAL", now=now, policy=limits)
    assert "try again in 15 minutes" in error.message
    assert db.get(Booking, booking.id).coupon_id is None
    # Another buyer on the same network still has the network's budget.
    other = hold(db, now, make_user(), tier)
    assert apply_coupon(db, other, "REAL", now=now, policy=limits, network="198.51.100.7").coupon_id
    assert db.scalar(select(func.count()).where(Attempt.action == COUPON)) == 2


def test_coupon_limits_come_from_the_settings() -> None:
    limits = policy(COUPON, load_config({}))
    assert limits.window == timedelta(seconds=900)
    assert [(r.limit, r.by_subject, r.by_network) for r in limits.rules] == [
        (10, True, False),
        (50, False, True),
    ]


# Payments: the amount is the booking's total when the payment starts.


def start_payment(db, booking, now):  # noqa: ANN001, ANN201
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    checkout.record_checkout(
        db, payment.id, provider_ref=f"demo_c{next(_ids)}", checkout_url="https://x"
    )
    return payment


def succeeded(payment, **fields):  # noqa: ANN001, ANN201
    return ProviderEvent(
        event_id=f"evt_c{next(_ids)}",
        kind=EventKind.SUCCEEDED,
        provider_ref=payment.provider_ref,
        amount_minor=fields.get("amount_minor", payment.amount_minor),
        currency=payment.currency,
    )


def test_a_payment_is_for_the_discounted_total(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=2500)
    coupon(db, tier.event, now, code="FIVE", kind=FIXED, amount_off_minor=500)
    booking = apply_coupon(db, hold(db, now, make_user(), tier, 2), "FIVE", now=now)
    payment = start_payment(db, booking, now)
    assert payment.amount_minor == 4500
    assert apply_event(db, "demo", succeeded(payment), now=now) == "confirmed"


def test_a_payment_started_before_the_code_changed_is_refunded(db, now, make_user, make_tier):
    tier = make_tier(capacity=5, price_minor=2500)
    coupon(db, tier.event, now, code="HALF", percent_off=50)
    booking = hold(db, now, make_user(), tier, 2)
    stale = start_payment(db, booking, now)  # for 5000
    apply_coupon(db, booking, "HALF", now=now)  # now 2500
    assert apply_event(db, "demo", succeeded(stale), now=now) == "refunded: price_changed"
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING
    fresh = start_payment(db, booking, now)
    assert fresh.amount_minor == 2500
    assert apply_event(db, "demo", succeeded(fresh), now=now) == "confirmed"
    assert db.get(Payment, stale.id).status == PaymentStatus.SUCCEEDED
    assert [r.amount_minor for r in db.scalars(select(Refund))] == [5000]


def test_a_late_payment_keeps_the_code_only_if_a_use_is_left(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    coupon(db, tier.event, now, code="LAST", max_uses=1)
    late = apply_coupon(db, hold(db, now, make_user(), tier), "LAST", now=now)
    payment = start_payment(db, late, now)
    later = now + timedelta(minutes=11)
    expire_holds(db, now=later)  # its use went back with the hold
    taker = apply_coupon(db, hold(db, later, make_user(), tier), "LAST", now=later)
    outcome = apply_event(db, "demo", succeeded(payment), now=later)
    assert outcome == "refunded: coupon_used_up"
    db.expire_all()
    assert db.get(Booking, late.id).status == BookingStatus.EXPIRED
    # Had nobody taken it, the late payment would have kept the code.
    remove_coupon(db, taker, now=later)
    again = apply_event(db, "demo", succeeded(payment, amount_minor=900), now=later)
    assert again.startswith("ignored")  # the payment was settled (refunded) already


def test_a_late_payment_with_the_code_still_free_confirms(db, now, make_user, make_tier):
    tier = make_tier(capacity=10, price_minor=1000)
    coupon(db, tier.event, now, code="LAST", max_uses=1)
    late = apply_coupon(db, hold(db, now, make_user(), tier), "LAST", now=now)
    payment = start_payment(db, late, now)
    later = now + timedelta(minutes=11)
    expire_holds(db, now=later)
    assert apply_event(db, "demo", succeeded(payment), now=later) == "confirmed"
    refused("used_up", apply_coupon, db, hold(db, later, make_user(), tier), "LAST", now=later)


# The organizer's settings.


def test_settings_are_checked_and_codes_unique_per_event(db, now, make_event, make_tier):
    event = make_event()
    tier = make_tier(capacity=2, event=event)
    foreign = make_tier(capacity=2)
    bad = {
        "percent_off": CouponData(code="BIG", kind=PERCENT, percent_off=101),
        "amount": CouponData(code="NONE", kind=FIXED, amount_off_minor=0),
        "code": CouponData(code="a b", kind=PERCENT, percent_off=5),
        "short": CouponData(code="AB", kind=PERCENT, percent_off=5),
        "tiers": CouponData(code="THEIRS", kind=PERCENT, percent_off=5, tier_ids=[foreign.id]),
        "window": CouponData(
            code="BACKWARDS", kind=PERCENT, percent_off=5, valid_from=now, valid_until=now
        ),
        "uses": CouponData(code="ZERO", kind=PERCENT, percent_off=5, max_uses=0),
        "minimum": CouponData(code="MIN", kind=PERCENT, percent_off=5, min_quantity=0),
    }
    for name, data in bad.items():
        with pytest.raises(CouponError) as error:
            create_coupon(db, event=event, data=data, actor_id=None, now=now)
        assert error.value.code == "invalid_coupon", name
    made = coupon(db, event, now, code="vip-2026", tier_ids=[tier.id, tier.id])
    assert (made.code, made.tier_ids, made.currency, made.amount_off_minor) == (
        "VIP-2026",
        [tier.id],
        "USD",
        None,
    )
    refused("code_taken", coupon, db, event, now, code="VIP-2026")
    assert coupon(db, make_event(), now, code="VIP-2026").code == "VIP-2026"  # another event's
    other = coupon(db, event, now, code="OTHER")
    refused(
        "code_taken",
        update_coupon,
        db,
        coupon=other,
        data=CouponData(code="vip-2026", kind=FIXED, amount_off_minor=100),
        actor_id=None,
        now=now,
    )
    changed = update_coupon(
        db,
        coupon=other,
        data=CouponData(code="other", kind=FIXED, amount_off_minor=100),
        actor_id=None,
        now=now,
    )
    assert (changed.kind, changed.percent_off, changed.amount_off_minor) == (FIXED, None, 100)


def test_refunded_tickets_give_back_what_they_cost_after_the_discount(
    db, now, make_user, make_tier
):
    tier = make_tier(capacity=5, price_minor=1000)
    coupon(db, tier.event, now, code="TENOFF", kind=FIXED, amount_off_minor=1000)
    booking = apply_coupon(db, hold(db, now, make_user(), tier, 3), "TENOFF", now=now)
    payment = start_payment(db, booking, now)
    assert apply_event(db, "demo", succeeded(payment), now=now) == "confirmed"
    tickets = sorted(t.id for t in db.get(Booking, booking.id).tickets)
    amounts = [
        refund_booking(
            db,
            booking,
            ticket_ids=[ticket],
            reason="Cannot come",
            actor_id=None,
            now=now,
            offers=OfferSettings(),
        )[0].amount_minor
        for ticket in tickets
    ]
    assert amounts == [667, 667, 666]  # 2000 paid, 2000 back
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.REFUNDED


def test_a_discount_is_shared_among_the_tickets_it_applies_to() -> None:
    lines = [Line(1, 2, 1000), Line(2, 1, 4000)]
    only_one = Coupon(kind=PERCENT, percent_off=50, tier_ids=[1])  # 1000 off
    assert paid_for(lines, {2: 1}, discount_minor=1000, coupon=only_one) == 4000
    assert paid_for(lines, {1: 1}, discount_minor=1000, coupon=only_one) == 500
    assert paid_for(lines, {1: 1, 2: 1}, discount_minor=1000, coupon=None) == 5000 - 833
    assert paid_for(lines, {1: 2}, discount_minor=0, coupon=None) == 2000
