"""Paying over HTTP with the demo provider: "Pay" goes to the checkout, the payer's choice
comes back as a signed webhook through /webhooks/demo (the path of every provider), which
alone confirms; bad signatures, replays and other people's bookings change nothing; the
organizer refunds one ticket and the buyer sees it."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.outbox import OutboxMessage
from app.domain.payments.models import Payment, PaymentEvent, PaymentStatus, Refund
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketStatus
from app.integrations.payments import configured_providers
from app.integrations.payments.base import EventKind
from app.integrations.payments.demo import SIGNATURE_HEADER, WEBHOOK_TOPIC, body, new_event, sign


@pytest.fixture
def secret(app: Flask) -> str:
    return configured_providers(app.config)["demo"].secret


@pytest.fixture
def held(db: Session, client: FlaskClient, make_user, make_tier, login_as):  # noqa: ANN001, ANN201
    """A signed-in buyer's hold of two paid tickets: (buyer, booking)."""
    tier = make_tier(capacity=5, price_minor=2500, name="Stalls")
    buyer = make_user()
    login_as(client, buyer)
    db.commit()
    answer = client.post(f"/events/{tier.event_id}/book", data={"tier_id": tier.id, "quantity": 2})
    assert answer.status_code == 303
    booking = db.scalars(select(Booking).where(Booking.user_id == buyer.id)).one()
    return buyer, booking


def pay(client: FlaskClient, booking: Booking, provider: str = "demo"):  # noqa: ANN201
    """Press "Pay"; the answer's `location` is the checkout's path (BASE_URL is another host)."""
    answer = client.post(f"/account/bookings/{booking.reference}/pay", data={"provider": provider})
    if answer.location:
        answer.location = urlsplit(answer.location).path
    return answer


def deliver_demo_events(db: Session, client: FlaskClient, secret: str) -> list:
    """What the worker does with the demo's queued events, through the test client."""
    db.expire_all()
    answers = []
    for message in db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.topic == WEBHOOK_TOPIC, OutboxMessage.processed_at.is_(None)
        )
    ):
        data = body(message.payload["event"])
        answers.append(post_event(client, data, sign(secret, data)))
        message.processed_at = message.created_at
    db.commit()
    return answers


def post_event(client: FlaskClient, data: bytes, signature: str | None):  # noqa: ANN201
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    return client.post(
        "/webhooks/demo", data=data, headers=headers, content_type="application/json"
    )


def count(db: Session, *where) -> int:  # noqa: ANN002
    db.expire_all()
    return db.scalar(select(func.count()).where(*where))


def test_paying_through_the_demo_checkout_confirms_by_webhook_only(
    db: Session, client: FlaskClient, held, secret: str
) -> None:
    _, booking = held
    page = client.get(f"/account/bookings/{booking.reference}")
    assert "Pay" in page.text and "Demo card" in page.text
    started = pay(client, booking)
    assert started.status_code == 303 and "/pay/demo/demo_" in started.location
    checkout_page = client.get(started.location)
    assert checkout_page.status_code == 200 and "50.00" in checkout_page.text
    back = client.post(started.location, data={"choice": "succeed"})
    assert back.status_code == 303
    assert back.location.endswith(f"/account/bookings/{booking.reference}/payment")
    waiting = client.get(back.location)
    assert "Confirming your payment" in waiting.text
    assert 'class="countdown"' in waiting.text  # the hold's time left stays in sight
    assert count(db, Ticket.booking_id == booking.id) == 0  # the return page confirms nothing
    (answer,) = deliver_demo_events(db, client, secret)
    assert answer.status_code == 200 and answer.json["outcome"] == "confirmed"
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert count(db, Ticket.booking_id == booking.id) == 2
    assert "you are in" in client.get(back.location).text
    payment = db.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    receipt = client.get(f"/account/payments/{payment.id}/receipt")
    assert receipt.status_code == 200 and "50.00" in receipt.text


def test_a_declined_card_leaves_the_hold_and_the_buyer_retries(
    db: Session, client: FlaskClient, held, secret: str
) -> None:
    _, booking = held
    first = pay(client, booking)
    client.post(first.location, data={"choice": "fail"})
    deliver_demo_events(db, client, secret)
    retry = client.get(f"/account/bookings/{booking.reference}/payment")
    assert "did not go through" in retry.text and 'class="countdown"' in retry.text
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING
    second = pay(client, booking)
    assert second.location != first.location  # a new payment, a new checkout
    client.post(second.location, data={"choice": "succeed"})
    deliver_demo_events(db, client, secret)
    assert db.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_abandoning_goes_back_to_the_booking(db: Session, client: FlaskClient, held) -> None:
    _, booking = held
    started = pay(client, booking)
    back = client.post(started.location, data={"choice": "abandon"})
    assert back.location.endswith(f"/account/bookings/{booking.reference}")
    assert count(db, OutboxMessage.topic == WEBHOOK_TOPIC) == 0


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,v1=00", "garbage", "stale", "wrong-secret", "other-body"],
)
def test_a_bad_signature_answers_400_and_changes_nothing(
    db: Session, client: FlaskClient, held, secret: str, signature: str | None
) -> None:
    _, booking = held
    pay(client, booking)
    payment = db.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    data = body(
        new_event(
            EventKind.SUCCEEDED,
            provider_ref=payment.provider_ref,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        )
    )
    forged = {
        "stale": sign(secret, data, int(time.time()) - 3600),
        "wrong-secret": sign("not-the-secret", data),
        "other-body": sign(secret, data + b" "),
    }.get(signature or "", signature)
    answer = post_event(client, data, forged)
    assert answer.status_code == 400
    assert count(db, PaymentEvent.id.is_not(None)) == 0
    assert db.get(Booking, booking.id).status == BookingStatus.PENDING


def test_an_unknown_provider_is_404(client: FlaskClient) -> None:
    assert client.post("/webhooks/nowhere", data=b"{}").status_code == 404


def test_one_event_replayed_ten_times_confirms_once(
    db: Session, client: FlaskClient, held, secret: str
) -> None:
    _, booking = held
    pay(client, booking)
    payment = db.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    data = body(
        new_event(
            EventKind.SUCCEEDED,
            provider_ref=payment.provider_ref,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        )
    )
    outcomes = [post_event(client, data, sign(secret, data)).json["outcome"] for _ in range(10)]
    assert outcomes == ["confirmed"] + ["duplicate"] * 9
    assert count(db, Ticket.booking_id == booking.id) == 2


def test_an_event_that_is_not_json_is_refused(client: FlaskClient, secret: str) -> None:
    data = b"not json"
    assert post_event(client, data, sign(secret, data)).status_code == 400
    data = json.dumps({"type": "payment.succeeded"}).encode()  # no id
    assert post_event(client, data, sign(secret, data)).status_code == 400


def test_someone_elses_booking_cannot_be_paid_or_its_checkout_opened(
    db: Session, app: Flask, client: FlaskClient, held, make_user, login_as
) -> None:
    _, booking = held
    started = pay(client, booking)
    stranger = app.test_client()
    login_as(stranger, make_user())
    assert pay(stranger, booking).status_code == 404
    assert stranger.get(started.location).status_code == 404
    assert stranger.post(started.location, data={"choice": "succeed"}).status_code == 404
    payment = db.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    assert stranger.get(f"/account/payments/{payment.id}/receipt").status_code == 404
    assert count(db, Payment.booking_id == booking.id) == 1
    assert count(db, OutboxMessage.topic == WEBHOOK_TOPIC) == 0


def test_a_provider_not_on_offer_is_refused(db: Session, client: FlaskClient, held) -> None:
    _, booking = held
    answer = pay(client, booking, provider="stripe")
    assert answer.status_code == 422 and "not available" in answer.text
    assert count(db, Payment.booking_id == booking.id) == 0


def test_the_organizer_refunds_one_ticket_and_the_buyer_sees_it(
    db: Session, app: Flask, client: FlaskClient, held, secret: str, login_as, notification_mail
) -> None:
    buyer, booking = held
    started = pay(client, booking)
    client.post(started.location, data={"choice": "succeed"})
    deliver_demo_events(db, client, secret)
    booking = db.get(Booking, booking.id)
    organizer = booking.event.organizer
    desk = app.test_client()
    login_as(desk, organizer)
    found = desk.get(f"/organizer/events/{booking.event_id}/payments?reference={booking.reference}")
    assert found.status_code == 302
    page = desk.get(found.location)
    assert page.status_code == 200 and "Left to refund" in page.text
    first = db.scalars(select(Ticket).where(Ticket.booking_id == booking.id)).first()
    url = f"/organizer/events/{booking.event_id}/bookings/{booking.reference}/refund"
    refused = desk.post(url, data={"ticket": first.id, "reason": ""})
    assert refused.status_code == 422
    done = desk.post(url, data={"ticket": first.id, "reason": "Could not come"})
    assert done.status_code == 303
    db.expire_all()
    assert db.get(Ticket, first.id).status == TicketStatus.VOID
    (refund,) = db.scalars(select(Refund)).all()
    assert refund.amount_minor == 2500
    (told,) = notification_mail(buyer.email, kind="refund_issued")
    assert "refunded" in told["text"] and "Could not come" in told["text"]
    mine = client.get(f"/account/bookings/{booking.reference}")
    assert "Refund" in mine.text and "25.00" in mine.text
    # Another organizer finds nothing, and changes nothing.
    assert db.get(Payment, refund.payment_id).status == PaymentStatus.SUCCEEDED


def test_the_organizer_chooses_the_ways_of_paying(
    db: Session, app: Flask, client: FlaskClient, held, login_as
) -> None:
    _, booking = held
    event = db.get(Booking, booking.id).event
    desk = app.test_client()
    login_as(desk, event.organizer)
    url = f"/organizer/events/{event.id}/payments"
    assert desk.post(url, data={}).status_code == 422  # none at all
    assert desk.post(url, data={"provider": "paypal"}).status_code == 422  # not set up
    assert desk.post(url, data={"provider": "demo"}).status_code == 303
    db.expire_all()
    assert db.get(type(event), event.id).payment_providers is None  # all there is


def test_an_admin_finds_any_booking_and_refunds_money_only(
    db: Session, app: Flask, client: FlaskClient, held, secret: str, make_user, login_as
) -> None:
    from app.domain.accounts.models import Role

    _, booking = held
    started = pay(client, booking)
    client.post(started.location, data={"choice": "succeed"})
    deliver_demo_events(db, client, secret)
    admin = app.test_client()
    login_as(admin, make_user(role=Role.ADMIN))
    assert admin.get("/admin/bookings?reference=NOPE0000").status_code == 404
    found = admin.get(f"/admin/bookings?reference={booking.reference.lower()}")
    assert found.status_code == 302
    url = f"/admin/bookings/{booking.reference}/refund"
    assert admin.post(url, data={"amount": "12.345", "reason": "x"}).status_code == 422
    assert admin.post(url, data={"amount": "60.00", "reason": "x"}).status_code == 422
    assert admin.post(url, data={"amount": "10.00", "reason": "Late start"}).status_code == 303
    (refund,) = db.scalars(select(Refund)).all()
    assert (refund.amount_minor, refund.ticket_ids) == (1000, [])
    assert count(db, Ticket.booking_id == booking.id, Ticket.status == TicketStatus.VALID) == 2


def test_the_pay_form_may_lead_to_the_providers_checkout(
    app: Flask, client: FlaskClient, held, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browsers hold a form's redirects to the page's CSP `form-action`: the booking page lets
    "Pay" reach the hosted checkouts on offer, and nothing else."""
    _, booking = held
    csp = client.get(f"/account/bookings/{booking.reference}").headers["Content-Security-Policy"]
    assert csp.endswith("form-action 'self'")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "whsec_x")
    page = client.get(f"/account/bookings/{booking.reference}")
    assert "Card (Stripe)" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert csp.endswith("form-action 'self' https://checkout.stripe.com")
