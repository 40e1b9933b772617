"""Paying on our own page (Razorpay's checkout.js), against a local stand-in for Razorpay's
API through the real SDK: the page carries the order for the script; what the script hands
back is believed only after the signature checks and Razorpay itself says the order is paid."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.payments.models import Payment, PaymentStatus
from app.domain.ticketing.models import Booking, BookingStatus
from tests.integrations.fake_api import FakeAPI, Recorded, serve

KEY_SECRET = "rzp_secret_eventhall"
ORDER = "order_OnPage1"
PAID = "pay_OnPage1"


@pytest.fixture
def razorpay(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    for name, value in {
        "RAZORPAY_KEY_ID": "rzp_test_eventhall",
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": "rzp_whsec_eventhall",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    for api in serve():
        monkeypatch.setitem(app.config, "RAZORPAY_API_BASE", api.base_url)
        api.route("GET", "/v1/orders", (200, {"entity": "collection", "count": 0, "items": []}))
        api.route("POST", "/v1/orders", _order)
        yield api


def _order(request: Recorded, _match: object) -> tuple[int, object]:
    asked = request.json()
    return 200, {"id": ORDER, "entity": "order", "status": "created", **asked}


def _paid(status: str) -> tuple[int, object]:
    entity = {"id": PAID, "entity": "payment", "status": status, "order_id": ORDER}
    return 200, {
        "entity": "collection",
        "count": 1,
        "items": [{**entity, "amount": 5000, "currency": "USD"}],
    }


@pytest.fixture
def held(db: Session, client: FlaskClient, make_user, make_tier, login_as):  # noqa: ANN001, ANN201
    tier = make_tier(capacity=5, price_minor=2500)
    buyer = make_user()
    login_as(client, buyer)
    db.commit()
    client.post(f"/events/{tier.event_id}/book", data={"tier_id": tier.id, "quantity": 2})
    return db.scalars(select(Booking).where(Booking.user_id == buyer.id)).one()


def signature(order_id: str, payment_id: str) -> str:
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def open_checkout(client: FlaskClient, booking: Booking):  # noqa: ANN201
    page = client.post(f"/account/bookings/{booking.reference}/pay", data={"provider": "razorpay"})
    assert page.status_code == 200
    assert "checkout.razorpay.com" in page.headers["Content-Security-Policy"]
    options = re.search(r'id="checkout-options">(.*?)</script>', page.text).group(1)
    done = re.search(r'action="([^"]+/paid-on-page)"', page.text).group(1)
    return json.loads(options), done


def test_paying_on_the_page_confirms_once_razorpay_says_so(
    db: Session, client: FlaskClient, held: Booking, razorpay: FakeAPI
) -> None:
    options, done = open_checkout(client, held)
    assert (options["order_id"], options["amount"], options["currency"]) == (ORDER, 5000, "USD")
    razorpay.route("GET", f"/v1/orders/{ORDER}/payments", _paid("captured"))
    answer = client.post(
        done,
        data={
            "razorpay_order_id": ORDER,
            "razorpay_payment_id": PAID,
            "razorpay_signature": signature(ORDER, PAID),
        },
    )
    assert answer.status_code == 303 and answer.location.endswith("/payment")
    db.expire_all()
    assert db.get(Booking, held.id).status == BookingStatus.CONFIRMED
    assert len(razorpay.sent("GET", f"/v1/orders/{ORDER}/payments")) == 1


def test_a_forged_confirmation_is_refused_and_changes_nothing(
    db: Session, client: FlaskClient, held: Booking, razorpay: FakeAPI
) -> None:
    _, done = open_checkout(client, held)
    for fields in (
        {"razorpay_order_id": ORDER, "razorpay_payment_id": PAID, "razorpay_signature": "0" * 64},
        {"razorpay_order_id": "order_other", "razorpay_payment_id": PAID},
        {},
    ):
        fields.setdefault("razorpay_signature", signature(ORDER, PAID))
        assert client.post(done, data=fields).status_code == 400
    assert razorpay.sent("GET", f"/v1/orders/{ORDER}/payments") == []
    db.expire_all()
    assert db.get(Booking, held.id).status == BookingStatus.PENDING


def test_a_valid_confirmation_razorpay_has_not_captured_yet_waits(
    db: Session, client: FlaskClient, held: Booking, razorpay: FakeAPI
) -> None:
    _, done = open_checkout(client, held)
    razorpay.route("GET", f"/v1/orders/{ORDER}/payments", _paid("authorized"))
    fields = {
        "razorpay_order_id": ORDER,
        "razorpay_payment_id": PAID,
        "razorpay_signature": signature(ORDER, PAID),
    }
    assert client.post(done, data=fields).status_code == 303
    db.expire_all()
    assert db.get(Booking, held.id).status == BookingStatus.PENDING
    payment = db.scalars(select(Payment)).one()
    assert payment.status == PaymentStatus.PENDING  # the webhook (or the sweep) settles it
