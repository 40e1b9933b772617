"""Webhooks out: each cause queues one delivery per subscribed endpoint of the event's
organizer, in the cause's transaction, once; and the endpoints' own rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts import deletion
from app.domain.accounts.models import Role, User
from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.checkin.scans import scan
from app.domain.payments.refunds import refund_booking, send_refund
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.best_seats import hold_best_available
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.models import BookingStatus, Ticket
from app.domain.ticketing.seatmap import replace_layout
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.webhooks import endpoints
from app.domain.webhooks.delivery import body_bytes, signature
from app.domain.webhooks.endpoints import WebhookError
from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.factories.accounts import DEFAULT_PASSWORD

ALL = ["booking.confirmed", "booking.refunded", "ticket.checked_in"]
URL = "https://hooks.example.test/in"


def _endpoint(db: Session, owner: User, events: list[str], now: datetime) -> WebhookEndpoint:
    return endpoints.create(
        db, owner, url=URL, events=events, allow_private=False, now=now
    ).endpoint


def _queued(db: Session) -> list[tuple[int, str]]:
    return sorted(
        (row.endpoint_id, row.event_type)
        for row in db.execute(select(WebhookDelivery.endpoint_id, WebhookDelivery.event_type))
    )


@pytest.fixture
def hooks(db, now, make_user, make_tier):  # noqa: ANN001, ANN201
    """A priced and a free tier of one organizer's event; endpoints: `confirmed_in` takes
    bookings confirmed and check-ins, `refunds` refunds, a disabled one and another
    organizer's take everything."""
    organizer = make_user(role=Role.ORGANIZER)
    priced = make_tier(capacity=10, price_minor=2500)
    priced.event.organizer_id = organizer.id
    free = make_tier(event=priced.event, capacity=10, price_minor=0, name="Free")
    db.flush()
    confirmed_in = _endpoint(db, organizer, ["booking.confirmed", "ticket.checked_in"], now)
    refunds = _endpoint(db, organizer, ["booking.refunded"], now)
    disabled = _endpoint(db, organizer, ALL, now)
    endpoints.set_active(db, organizer, disabled.id, active=False, now=now)
    _endpoint(db, make_user(role=Role.ORGANIZER), ALL, now)
    return priced, free, confirmed_in, refunds


def test_a_free_claim_queues_booking_confirmed_once(db, now, make_user, hooks):  # noqa: ANN001
    _priced, free, confirmed_in, _refunds = hooks
    booking = hold_units(
        db, user=make_user(), event=free.event, tier=free, quantity=1, now=now, hold_minutes=10
    )
    assert booking.status == BookingStatus.CONFIRMED
    assert _queued(db) == [(confirmed_in.id, "booking.confirmed")]
    delivery = db.scalars(select(WebhookDelivery)).one()
    assert delivery.payload["type"] == "booking.confirmed"
    assert delivery.payload["data"]["reference"] == booking.reference
    assert delivery.payload["data"]["event_id"] == free.event_id
    assert delivery.message_id == f"booking.confirmed:{booking.id}"
    confirm_booking(db, booking, now=now)  # again: changes nothing
    assert len(_queued(db)) == 1


def test_a_paid_booking_then_its_refund_and_a_check_in(  # noqa: ANN001
    db, now, make_user, make_staff, ticket_code, pay_booking, hooks
):
    priced, _free, confirmed_in, refunds = hooks
    held = hold_units(
        db, user=make_user(), event=priced.event, tier=priced, quantity=2, now=now, hold_minutes=10
    )
    assert _queued(db) == []  # a hold is no confirmation
    booking = pay_booking(held)
    assert booking.status == BookingStatus.CONFIRMED
    assert _queued(db) == [(confirmed_in.id, "booking.confirmed")]

    ticket = db.scalars(select(Ticket).where(Ticket.booking_id == booking.id)).first()
    staff = make_staff(priced.event)
    code = ticket_code(ticket)
    for _ in range(2):  # the second scan admits nobody: nothing more is queued
        scan(db, priced.event, code=code, gate="A", staff=staff, scan_id=None, now=now)
    assert _queued(db) == [
        (confirmed_in.id, "booking.confirmed"),
        (confirmed_in.id, "ticket.checked_in"),
    ]

    (refund,) = refund_booking(
        db, booking, amount_minor=1000, reason="x", actor_id=None, now=now,
        offers=OfferSettings(),
    )  # fmt: skip
    assert len(_queued(db)) == 2  # asked for, not yet done
    assert send_refund(db, refund.id, lambda _p, _r: ("re_1", True), now=now) == "succeeded"
    refunded = db.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_type == "booking.refunded")
    ).one()
    assert refunded.endpoint_id == refunds.id
    assert refunded.payload["data"] == {
        "event_id": priced.event_id,
        "booking_id": booking.id,
        "reference": booking.reference,
        "refund_id": refund.id,
        "amount_minor": 1000,
        "currency": refund.currency,
        "fully_refunded": False,
    }


def test_nothing_is_queued_for_an_organizer_without_endpoints(db, now, make_user, make_tier):  # noqa: ANN001
    tier = make_tier(capacity=5, price_minor=0)
    hold_units(db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now,
               hold_minutes=10)  # fmt: skip
    assert _queued(db) == []


def test_the_signature_is_standard_webhooks():
    # The example of the Standard Webhooks specification, byte for byte.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    assert body_bytes({"b": 1, "a": [1]}) == b'{"a":[1],"b":1}'


def test_creating_shows_a_secret_and_audits(
    db: Session, now: datetime, make_user: Callable[..., User]
):
    owner = make_user(role=Role.ORGANIZER)
    created = endpoints.create(
        db, owner, url=f" {URL} ", events=["ticket.checked_in", "booking.confirmed"],
        allow_private=False, now=now,
    )  # fmt: skip
    assert created.secret.startswith("whsec_") and created.endpoint.secret == created.secret
    assert created.endpoint.url == URL
    assert created.endpoint.events == ["booking.confirmed", "ticket.checked_in"]
    rotated = endpoints.rotate_secret(db, owner, created.endpoint.id, now=now)
    assert rotated.secret != created.secret
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["webhook.created", "webhook.secret_rotated"]


@pytest.mark.parametrize(
    ("url", "events", "code"),
    [
        ("", ALL, "invalid_url"),
        ("not a url", ALL, "invalid_url"),
        ("javascript:alert(1)", ALL, "invalid_url"),
        ("ftp://hooks.example.test/", ALL, "invalid_url"),
        ("https://user:pw@hooks.example.test/", ALL, "invalid_url"),
        ("https://hooks.example.test/" + "x" * 500, ALL, "invalid_url"),
        ("http://127.0.0.1:8000/", ALL, "invalid_url"),
        ("http://localhost/", ALL, "invalid_url"),
        ("http://[::1]/", ALL, "invalid_url"),
        ("http://10.0.0.5/", ALL, "invalid_url"),
        ("http://169.254.169.254/latest/meta-data", ALL, "invalid_url"),
        (URL, [], "no_events"),
        (URL, ["booking.confirmed", "user.deleted"], "unknown_event"),
    ],
)
def test_bad_endpoints_are_refused_and_change_nothing(db, now, make_user, url, events, code):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    with pytest.raises(WebhookError) as refused:
        endpoints.create(db, owner, url=url, events=events, allow_private=False, now=now)
    assert refused.value.code == code and refused.value.message
    assert db.scalars(select(WebhookEndpoint)).all() == []


def test_private_addresses_are_accepted_when_the_settings_allow(db, now, make_user):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    endpoints.create(db, owner, url="http://127.0.0.1:9/", events=ALL, allow_private=True, now=now)


def test_another_organizers_endpoint_is_not_found(db, now, make_user):  # noqa: ANN001
    owner, stranger = make_user(role=Role.ORGANIZER), make_user(role=Role.ORGANIZER)
    endpoint = _endpoint(db, owner, ALL, now)
    for act in (
        lambda: endpoints.rotate_secret(db, stranger, endpoint.id, now=now),
        lambda: endpoints.set_active(db, stranger, endpoint.id, active=False, now=now),
        lambda: endpoints.delete(db, stranger, endpoint.id, now=now),
        lambda: endpoints.send_test(db, stranger, endpoint.id, now=now),
    ):
        with pytest.raises(NotFound):
            act()
    delivery = endpoints.send_test(db, owner, endpoint.id, now=now)
    delivery.status = DeliveryStatus.FAILED
    with pytest.raises(NotFound):
        endpoints.send_again(db, stranger, delivery.id, now=now)
    assert db.get(WebhookEndpoint, endpoint.id).active


def test_only_a_failed_delivery_is_sent_again(db, now, make_user):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    endpoint = _endpoint(db, owner, ALL, now)
    delivery = endpoints.send_test(db, owner, endpoint.id, now=now)
    with pytest.raises(WebhookError) as refused:
        endpoints.send_again(db, owner, delivery.id, now=now)
    assert refused.value.code == "not_failed"
    delivery.status, delivery.attempts = DeliveryStatus.FAILED, 8
    again = endpoints.send_again(db, owner, delivery.id, now=now)
    assert (again.status, again.attempts, again.next_try_at) == (DeliveryStatus.PENDING, 0, now)


def test_a_disabled_endpoint_gets_no_test_and_enabling_resets_its_failures(db, now, make_user):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    endpoint = _endpoint(db, owner, ALL, now)
    endpoint.failure_count = 5
    endpoints.set_active(db, owner, endpoint.id, active=False, now=now)
    assert endpoint.disabled_at == now
    with pytest.raises(WebhookError):
        endpoints.send_test(db, owner, endpoint.id, now=now)
    endpoints.set_active(db, owner, endpoint.id, active=True, now=now)
    assert (endpoint.active, endpoint.failure_count, endpoint.disabled_at) == (True, 0, None)


def test_deleting_removes_its_deliveries(db, now, make_user):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    endpoint = _endpoint(db, owner, ALL, now)
    endpoints.send_test(db, owner, endpoint.id, now=now)
    assert endpoints.delete(db, owner, endpoint.id, now=now) == URL
    db.expire_all()
    assert db.scalars(select(WebhookDelivery)).all() == []


def test_deleting_the_account_deletes_its_endpoints(db, now, make_user):  # noqa: ANN001
    owner, other = make_user(role=Role.ORGANIZER), make_user(role=Role.ORGANIZER)
    endpoints.send_test(db, owner, _endpoint(db, owner, ALL, now).id, now=now)
    kept = _endpoint(db, other, ALL, now)
    deletion.delete_account(db, owner, password=DEFAULT_PASSWORD, now=now)
    db.expire_all()
    assert db.scalars(select(WebhookEndpoint.id)).all() == [kept.id]
    assert db.scalars(select(WebhookDelivery)).all() == []


def test_free_best_seats_queue_booking_confirmed(db, now, make_user, make_event, make_tier):  # noqa: ANN001
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Free seats", price_minor=0, capacity=0)
    replace_layout(db, event=event, text="Row A: 1-6", new_seat_tier=tier, actor_id=None, now=now)
    endpoint = _endpoint(db, event.organizer, ["booking.confirmed"], now)
    booking = hold_best_available(
        db, user=make_user(), event=event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    assert booking.status == BookingStatus.CONFIRMED
    assert _queued(db) == [(endpoint.id, "booking.confirmed")]
