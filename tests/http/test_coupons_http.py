"""Coupon codes on the booking page over HTTP: htmx swaps the booking fragment, a plain form post
gets the page; bad input, codes that do not apply and someone else's booking change nothing
(and the codes count as guesses, blocked past the limit); a code that makes the total zero
confirms with "Confirm these tickets", without a provider."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Attempt
from app.domain.accounts.rate_limit import COUPON
from app.domain.base import utcnow
from app.domain.payments.models import Payment
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.models import Booking, BookingStatus, Coupon, CouponKind, Ticket

HTMX = {"HX-Request": "true"}
NET = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(autouse=True)
def limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "COUPON_MAX_FAILURES_PER_USER", 2)
    monkeypatch.setitem(app.config, "COUPON_MAX_FAILURES_PER_NETWORK", 6)


@pytest.fixture
def held(db: Session, client: FlaskClient, make_user, make_tier, login_as):  # noqa: ANN001, ANN201
    """A signed-in buyer's hold of two tickets at 25.00, and the event's codes."""
    tier = make_tier(capacity=5, price_minor=2500, name="Stalls")
    for code, fields in {
        "SUMMER": {"kind": CouponKind.PERCENT, "percent_off": 15},
        "FIVER": {"kind": CouponKind.FIXED, "amount_off_minor": 500},
        "ALLFREE": {"kind": CouponKind.PERCENT, "percent_off": 100},
        "ONCE": {"kind": CouponKind.PERCENT, "percent_off": 10, "max_uses": 1},
    }.items():
        create_coupon(
            db, event=tier.event, data=CouponData(code=code, **fields), actor_id=None, now=utcnow()
        )
    buyer = make_user()
    login_as(client, buyer)
    db.commit()
    answer = client.post(f"/events/{tier.event_id}/book", data={"tier_id": tier.id, "quantity": 2})
    assert answer.status_code == 303
    return db.scalars(select(Booking).where(Booking.user_id == buyer.id)).one()


def apply(client: FlaskClient, booking: Booking, code, htmx: bool = False, **kwargs):  # noqa: ANN001, ANN201
    data = {} if code is None else {"code": code}
    return client.post(
        f"/account/bookings/{booking.reference}/coupon",
        data=data,
        headers=HTMX if htmx else {},
        environ_base=NET,
        **kwargs,
    )


def remove(client: FlaskClient, booking: Booking, htmx: bool = False):  # noqa: ANN201
    return client.post(
        f"/account/bookings/{booking.reference}/coupon/remove", headers=HTMX if htmx else {}
    )


def state(db: Session, booking: Booking) -> tuple:
    db.expire_all()
    fresh = db.get(Booking, booking.id)
    return fresh.coupon_id, fresh.discount_minor, fresh.total_minor


def guesses(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).where(Attempt.action == COUPON))


def test_htmx_swaps_the_booking_with_its_new_total(db: Session, client: FlaskClient, held) -> None:
    answer = apply(client, held, "summer", htmx=True)
    assert answer.status_code == 200
    assert "<html" not in answer.text and 'id="booking"' in answer.text
    assert "Code SUMMER applied." in answer.text
    assert "USD 50.00" in answer.text and "−USD 7.50" in answer.text and "USD 42.50" in answer.text
    assert "Pay USD 42.50" in answer.text and "Remove code SUMMER" in answer.text
    assert state(db, held)[1:] == (750, 4250)
    removed = remove(client, held, htmx=True)
    assert removed.status_code == 200 and "<html" not in removed.text
    assert "Pay USD 50.00" in removed.text and "Discount" not in removed.text
    assert state(db, held) == (None, 0, 5000)


def test_a_plain_post_lands_on_the_booking_page(db: Session, client: FlaskClient, held) -> None:
    answer = apply(client, held, "FIVER")
    assert answer.status_code == 303
    assert answer.location.endswith(f"/account/bookings/{held.reference}")
    page = client.get(answer.location)
    assert "Code FIVER applied." in page.text and "Pay USD 45.00" in page.text
    assert state(db, held)[1:] == (500, 4500)
    removed = remove(client, held)
    assert removed.status_code == 303
    assert "The code was removed." in client.get(removed.location).text
    assert state(db, held) == (None, 0, 5000)


@pytest.mark.parametrize(
    ("code", "message"),
    [(None, "Enter a code."), ("   ", "Enter a code."), ("X" * 300, "at most 40 characters")],
)
def test_bad_input_is_refused_and_changes_nothing(
    db: Session, client: FlaskClient, held, code, message: str
) -> None:  # noqa: ANN001
    for htmx in (False, True):
        answer = apply(client, held, code, htmx=htmx)
        assert answer.status_code == 422 and message in answer.text
        assert ("<html" in answer.text) is not htmx
    assert state(db, held) == (None, 0, 5000)
    assert guesses(db) == 0  # not a guess at any code


def test_a_file_where_the_code_goes_is_refused(db: Session, client: FlaskClient, held) -> None:
    answer = client.post(
        f"/account/bookings/{held.reference}/coupon",
        data={"code": (io.BytesIO(b"SUMMER"), "code.txt")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "Enter a code." in answer.text
    assert state(db, held) == (None, 0, 5000)


def test_codes_that_do_not_apply_say_why_and_count_as_guesses(
    db: Session, client: FlaskClient, app: Flask, held, make_user, login_as
) -> None:  # noqa: ANN001
    answer = apply(client, held, "WINTER", htmx=True)
    assert answer.status_code == 422 and "That code is not valid for this event." in answer.text
    assert 'value="WINTER"' in answer.text and 'aria-invalid="true"' in answer.text
    other = app.test_client()
    login_as(other, make_user())
    buyer_two = other.post(
        f"/events/{held.event_id}/book", data={"tier_id": held.lines[0].tier_id, "quantity": 1}
    )
    assert buyer_two.status_code == 303
    assert apply(client, held, "ONCE").status_code == 303
    second = db.scalars(select(Booking).where(Booking.id != held.id)).one()
    used = apply(other, second, "ONCE", htmx=True)
    assert used.status_code == 409 and "That code has been used up." in used.text
    assert apply(client, held, "NOPE").status_code == 422  # the page, not a redirect
    assert guesses(db) == 3  # two of this buyer's, one of the other's
    blocked = apply(client, held, "SUMMER", htmx=True)  # a right code, past the limit
    assert blocked.status_code == 429 and "Too many codes that did not work" in blocked.text
    assert state(db, held)[1:] == (500, 4500)  # still the ONCE code
    assert guesses(db) == 3


def test_someone_elses_booking_is_not_found_and_unchanged(
    db: Session, client: FlaskClient, app: Flask, held, make_user, login_as
) -> None:  # noqa: ANN001
    stranger = app.test_client()
    login_as(stranger, make_user())
    for htmx in (False, True):
        assert apply(stranger, held, "SUMMER", htmx=htmx).status_code == 404
        assert remove(stranger, held, htmx=htmx).status_code == 404
    assert state(db, held) == (None, 0, 5000)
    assert apply(stranger, held, "WRONG").status_code == 404
    assert guesses(db) == 0
    anonymous = app.test_client().post(
        f"/account/bookings/{held.reference}/coupon", data={"code": "SUMMER"}
    )
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.location


def test_a_zero_total_confirms_without_a_provider(db: Session, client: FlaskClient, held) -> None:
    page = client.get(apply(client, held, "ALLFREE").location)
    assert "Confirm these tickets" in page.text and "Pay " not in page.text
    assert state(db, held)[1:] == (5000, 0)
    assert (
        client.post(
            f"/account/bookings/{held.reference}/pay", data={"provider": "demo"}
        ).status_code
        == 422
    )
    claimed = client.post(f"/account/bookings/{held.reference}/claim")
    assert claimed.status_code == 303
    db.expire_all()
    booking = db.get(Booking, held.id)
    assert booking.status == BookingStatus.CONFIRMED
    assert db.scalar(select(func.count()).where(Ticket.booking_id == held.id)) == 2
    assert db.scalar(select(func.count()).select_from(Payment)) == 0
    after = apply(client, held, "SUMMER", htmx=True)  # a confirmed booking takes no code
    assert after.status_code == 409 and "can no longer be changed" in after.text
    assert "Have a coupon code?" not in client.get(f"/account/bookings/{held.reference}").text


# The organizer's pages.


def test_the_organizer_creates_edits_and_deactivates_codes(
    db: Session, app: Flask, make_event, make_tier, login_as
) -> None:  # noqa: ANN001
    event = make_event(title="Taiko night", currency="JPY")
    floor = make_tier(event=event, capacity=5, price_minor=3000, name="Floor")
    make_tier(event=event, capacity=5, price_minor=5000, name="Balcony")
    db.commit()
    client = app.test_client()
    login_as(client, event.organizer)
    base = f"/organizer/events/{event.id}/coupons"
    assert "Coupon codes" in client.get(f"/organizer/events/{event.id}/tiers").text
    form = client.get(f"{base}/new")
    assert form.status_code == 200 and "Floor" in form.text and "in JPY" in form.text
    fields = {
        "code": "taiko-500",
        "kind": "fixed",
        "amount_off": "500",
        "tier_ids": [str(floor.id)],
        "max_uses": "20",
        "min_quantity": "2",
        "active": "y",
    }
    assert client.post(f"{base}/new", data=fields).status_code == 303
    made = db.scalars(select(Coupon).where(Coupon.event_id == event.id)).one()
    assert (made.code, made.amount_off_minor, made.currency, made.tier_ids) == (
        "TAIKO-500",
        500,
        "JPY",
        [floor.id],
    )
    listed = client.get(base)
    assert "TAIKO-500" in listed.text and "JPY 500 off" in listed.text and "0 of 20" in listed.text
    again = client.post(f"{base}/new", data=fields)
    assert again.status_code == 409 and "already has a coupon with that code" in again.text
    yen_cents = client.post(f"{base}/new", data={**fields, "code": "CENTS", "amount_off": "1.50"})
    assert yen_cents.status_code == 422 and "JPY has at most 0 decimals" in yen_cents.text
    no_percent = client.post(
        f"{base}/new", data={"code": "PCT", "kind": "percent", "min_quantity": "1"}
    )
    assert no_percent.status_code == 422 and "Enter a percentage" in no_percent.text
    bad_tier = client.post(f"{base}/new", data={**fields, "code": "ODD", "tier_ids": ["999999"]})
    assert bad_tier.status_code == 422
    edit = client.get(f"{base}/{made.id}/edit")
    assert edit.status_code == 200 and 'value="500"' in edit.text
    changed = {"code": "TAIKO-10", "kind": "percent", "percent_off": "10", "min_quantity": "1"}
    assert client.post(f"{base}/{made.id}/edit", data=changed).status_code == 303
    db.expire_all()
    coupon = db.get(Coupon, made.id)
    assert (coupon.code, coupon.kind, coupon.percent_off, coupon.amount_off_minor) == (
        "TAIKO-10",
        CouponKind.PERCENT,
        10,
        None,
    )
    assert coupon.tier_ids is None and coupon.active is False  # the box was left unticked
    assert client.post(f"{base}/{made.id}/deactivate").status_code == 303
    assert "Deactivated" in client.get(base).text
    assert db.scalar(select(func.count()).select_from(Coupon)) == 1
