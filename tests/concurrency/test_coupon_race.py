"""Twenty buyers, each with a hold of their own, apply a code with one use left at the same
moment: it is used exactly once. The control shows the race is real: without the coupon's
row lock every buyer counts no use before any commits, and all twenty get the discount."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.domain.ticketing import coupons
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.errors import CouponError
from app.domain.ticketing.models import Booking, Coupon, CouponKind

BUYERS = 20


@pytest.fixture
def race(db, now, make_user, make_tier):  # noqa: ANN001, ANN201
    """(coupon id, the buyers' booking ids): a one-use code and twenty running holds."""
    tier = make_tier(capacity=BUYERS, price_minor=2000)
    coupon = create_coupon(
        db,
        event=tier.event,
        data=CouponData(code="LASTONE", kind=CouponKind.PERCENT, percent_off=25, max_uses=1),
        actor_id=None,
        now=now,
    )
    bookings = [
        hold_units(
            db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
        )
        for _ in range(BUYERS)
    ]
    db.commit()
    return coupon.id, [b.id for b in bookings]


def apply_all(parallel, now, booking_ids):  # noqa: ANN001, ANN201
    def apply_one(index, session):  # noqa: ANN001, ANN202
        booking = session.get(Booking, booking_ids[index])
        return coupons.apply_coupon(session, booking, "lastone", now=now).id

    return parallel.run(BUYERS, apply_one)


def used(db, coupon_id) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).where(Booking.coupon_id == coupon_id))


def test_a_code_with_one_use_left_is_used_exactly_once(db, now, parallel, race) -> None:  # noqa: ANN001
    coupon_id, booking_ids = race
    results = apply_all(parallel, now, booking_ids)
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1, results
    assert all(isinstance(e, CouponError) and e.code == "used_up" for e in lost), lost
    assert used(db, coupon_id) == 1
    winner = db.get(Booking, won[0])
    assert (winner.discount_minor, winner.total_minor) == (500, 1500)


def test_control_without_the_lock_every_buyer_gets_the_last_use(
    db, now, parallel, race, monkeypatch
) -> None:  # noqa: ANN001
    """Every buyer counts the uses before any of them commits (a barrier makes that certain):
    with the row lock off, all twenty see none and take the one use."""
    coupon_id, booking_ids = race
    counted = threading.Barrier(BUYERS)
    real_count = coupons._other_uses

    def unlocked(session, query):  # noqa: ANN001, ANN202
        return session.scalars(query).first()

    def count_then_wait(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = real_count(*args, **kwargs)
        counted.wait(timeout=30)
        return result

    monkeypatch.setattr(coupons, "_lock_coupon", unlocked)
    monkeypatch.setattr(coupons, "_other_uses", count_then_wait)
    results = apply_all(parallel, now, booking_ids)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert used(db, coupon_id) == BUYERS > db.get(Coupon, coupon_id).max_uses
