"""The Stripe adapter against a local stand-in for Stripe's API, through the real SDK."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.integrations.payments.base import (
    CheckoutRequest,
    EventKind,
    PaymentState,
    ProviderError,
    WebhookRejected,
)
from app.integrations.payments.stripe_provider import StripeProvider
from tests.integrations.fake_api import FakeAPI, serve

SECRET_KEY = "sk_test_eventhall"
WEBHOOK_SECRET = "whsec_test_eventhall"
SESSION = "cs_test_a1b2c3"
SESSIONS = "/v1/checkout/sessions"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    yield from serve()


@pytest.fixture
def provider(api: FakeAPI) -> StripeProvider:
    return StripeProvider(
        secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=api.base_url
    )


def session_json(**fields: Any) -> dict[str, Any]:
    return {
        "id": SESSION,
        "object": "checkout.session",
        "url": f"https://checkout.stripe.com/c/pay/{SESSION}",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": 1250,
        "currency": "usd",
        "payment_intent": None,
        **fields,
    }


def checkout_request(amount_minor: int = 1250, currency: str = "USD", **fields: Any):
    values: dict[str, Any] = {
        "payment_id": 42,
        "booking_reference": "BK-7QX2",
        "amount_minor": amount_minor,
        "currency": currency,
        "description": "2 tickets: Jazz night",
        "buyer_email": "ada@example.com",
        "return_url": "https://tickets.example.com/pay/return/42",
        "cancel_url": "https://tickets.example.com/pay/cancel/42",
        "idempotency_key": "checkout-42-1",
        **fields,
    }
    return CheckoutRequest(**values)


@pytest.mark.parametrize(
    ("currency", "amount_minor", "sent"),
    [("USD", 1250, "1250"), ("JPY", 1250, "1250"), ("KWD", 12340, "12340"), ("ISK", 500, "50000")],
)
def test_checkout_sends_the_amount_in_stripe_units(
    api: FakeAPI, provider: StripeProvider, currency: str, amount_minor: int, sent: str
) -> None:
    api.route("POST", SESSIONS, (200, session_json(currency=currency.lower())))

    checkout = provider.create_checkout(checkout_request(amount_minor, currency))

    assert checkout.provider_ref == SESSION
    assert checkout.redirect_url == f"https://checkout.stripe.com/c/pay/{SESSION}"
    (request,) = api.sent("POST", SESSIONS)
    form = request.form()
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == sent
    assert form["line_items[0][price_data][currency]"] == currency.lower()
    assert form["line_items[0][price_data][product_data][name]"] == "2 tickets: Jazz night"
    assert form["success_url"] == "https://tickets.example.com/pay/return/42"
    assert form["cancel_url"] == "https://tickets.example.com/pay/cancel/42"
    assert form["client_reference_id"] == "42"
    assert form["metadata[payment_id]"] == "42"
    assert form["metadata[booking_reference]"] == "BK-7QX2"
    assert form["payment_intent_data[metadata][payment_id]"] == "42"
    assert form["customer_email"] == "ada@example.com"
    assert request.header("Idempotency-Key") == "checkout-42-1"
    assert request.header("Authorization") == f"Bearer {SECRET_KEY}"


def test_a_retried_checkout_sends_the_same_idempotency_key(
    api: FakeAPI, provider: StripeProvider
) -> None:
    api.route("POST", SESSIONS, (200, session_json()))

    first = provider.create_checkout(checkout_request())
    again = provider.create_checkout(checkout_request())

    assert first == again
    keys = [r.header("Idempotency-Key") for r in api.sent("POST", SESSIONS)]
    assert keys == ["checkout-42-1", "checkout-42-1"]


def test_a_three_decimal_amount_stripe_cannot_take_is_refused_before_any_call(
    api: FakeAPI, provider: StripeProvider
) -> None:
    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(12345, "KWD"))

    assert refused.value.retryable is False
    assert api.requests == []


def test_a_refused_request_is_a_final_provider_error(
    api: FakeAPI, provider: StripeProvider
) -> None:
    api.route(
        "POST",
        SESSIONS,
        (400, {"error": {"type": "invalid_request_error", "message": "Invalid currency: xyz"}}),
    )

    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(currency="XYZ"))

    assert refused.value.retryable is False


# Webhooks -------------------------------------------------------------------------------------


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None):
    """The body and headers Stripe sends: `t=<time>,v1=<HMAC-SHA256 of "<t>.<body>">`."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={mac}"}


def signed(event: dict[str, Any], **options: Any):
    return sign(json.dumps(event).encode(), **options)


def event_json(event_type: str, obj: dict[str, Any], event_id: str = "evt_1") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "type": event_type,
        "data": {"object": obj},
    }


def test_a_paid_checkout_is_a_success(provider: StripeProvider) -> None:
    session = session_json(status="complete", payment_status="paid", amount_total=5000)
    event = provider.parse_webhook(*signed(event_json("checkout.session.completed", session)))

    assert event.event_id == "evt_1"
    assert event.kind == EventKind.SUCCEEDED
    assert event.provider_ref == SESSION
    assert (event.amount_minor, event.currency) == (5000, "USD")
    assert event.raw_type == "checkout.session.completed"


def test_amounts_come_back_in_minor_units(provider: StripeProvider) -> None:
    session = session_json(payment_status="paid", amount_total=50000, currency="isk")
    event = provider.parse_webhook(
        *signed(event_json("checkout.session.async_payment_succeeded", session))
    )

    assert (event.kind, event.amount_minor, event.currency) == (EventKind.SUCCEEDED, 500, "ISK")


@pytest.mark.parametrize(
    ("event_type", "payment_status", "kind"),
    [
        ("checkout.session.completed", "unpaid", EventKind.OTHER),
        ("checkout.session.async_payment_failed", "unpaid", EventKind.FAILED),
        ("checkout.session.expired", "unpaid", EventKind.FAILED),
        ("customer.created", "unpaid", EventKind.OTHER),
    ],
)
def test_other_checkout_events(
    provider: StripeProvider, event_type: str, payment_status: str, kind: EventKind
) -> None:
    session = session_json(payment_status=payment_status)
    event = provider.parse_webhook(*signed(event_json(event_type, session)))

    assert event.kind == kind


def refund_json(**fields: Any) -> dict[str, Any]:
    return {
        "id": "re_1",
        "object": "refund",
        "amount": 1250,
        "currency": "jpy",
        "status": "succeeded",
        "payment_intent": "pi_1",
        "metadata": {"checkout_session": SESSION},
        **fields,
    }


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("refund.created", "succeeded", EventKind.REFUNDED),
        ("refund.updated", "succeeded", EventKind.REFUNDED),
        ("refund.failed", "failed", EventKind.REFUND_FAILED),
        ("refund.updated", "canceled", EventKind.REFUND_FAILED),
        ("refund.created", "pending", EventKind.OTHER),
    ],
)
def test_refund_events_name_the_session_from_the_refunds_metadata(
    api: FakeAPI, provider: StripeProvider, event_type: str, status: str, kind: EventKind
) -> None:
    event = provider.parse_webhook(*signed(event_json(event_type, refund_json(status=status))))

    assert event.kind == kind
    assert (event.provider_ref, event.refund_ref) == (SESSION, "re_1")
    assert api.requests == []
    if kind != EventKind.OTHER:
        assert (event.amount_minor, event.currency) == (1250, "JPY")


def test_a_dashboard_refund_finds_its_session_by_payment_intent(
    api: FakeAPI, provider: StripeProvider
) -> None:
    api.route(
        "GET",
        SESSIONS,
        (200, {"object": "list", "data": [session_json()], "has_more": False, "url": SESSIONS}),
    )

    event = provider.parse_webhook(*signed(event_json("refund.created", refund_json(metadata={}))))

    assert (event.kind, event.provider_ref) == (EventKind.REFUNDED, SESSION)
    (request,) = api.sent("GET", SESSIONS)
    assert request.query["payment_intent"] == ["pi_1"]


def test_charge_refunded_is_not_acted_on(provider: StripeProvider) -> None:
    charge = {"id": "ch_1", "object": "charge", "amount_refunded": 1250, "currency": "usd"}
    event = provider.parse_webhook(*signed(event_json("charge.refunded", charge)))

    assert event.kind == EventKind.OTHER


def test_forged_missing_stale_and_malformed_webhooks_are_rejected(
    provider: StripeProvider,
) -> None:
    session = session_json(payment_status="paid")
    body, headers = signed(event_json("checkout.session.completed", session))
    forged, forged_headers = signed(
        event_json("checkout.session.completed", session), secret="whsec_someone_else"
    )
    stale = signed(event_json("checkout.session.completed", session), at=int(time.time()) - 301)
    tampered = body.replace(b'"amount_total": 1250', b'"amount_total": 1')

    attempts = [
        (forged, forged_headers),
        (body, {}),
        (body, {"Stripe-Signature": "nonsense"}),
        stale,
        (tampered, headers),
        sign(body[:-1]),  # signed, but not JSON
    ]
    for attempt_body, attempt_headers in attempts:
        with pytest.raises(WebhookRejected):
            provider.parse_webhook(attempt_body, attempt_headers)
    assert provider.parse_webhook(body, headers).kind == EventKind.SUCCEEDED


def test_a_signed_body_that_is_not_an_event_is_rejected(provider: StripeProvider) -> None:
    with pytest.raises(WebhookRejected):
        provider.parse_webhook(*signed({"id": "evt_1", "object": "event", "type": "x"}))


# Refunds and lookups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "amount_minor", "sent"), [("USD", 700, "700"), ("JPY", 700, "700")]
)
def test_refund_goes_to_the_sessions_payment_intent_with_the_idempotency_key(
    api: FakeAPI, provider: StripeProvider, currency: str, amount_minor: int, sent: str
) -> None:
    api.route("GET", f"{SESSIONS}/{SESSION}", (200, session_json(payment_intent="pi_1")))
    api.route("POST", "/v1/refunds", (200, refund_json(status="pending")))

    result = provider.refund(
        provider_ref=SESSION,
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key="refund-9",
    )

    assert (result.refund_ref, result.succeeded) == ("re_1", None)
    (request,) = api.sent("POST", "/v1/refunds")
    form = request.form()
    assert form["payment_intent"] == "pi_1"
    assert form["amount"] == sent
    assert form["metadata[checkout_session]"] == SESSION
    assert request.header("Idempotency-Key") == "refund-9"


def test_refund_of_an_unpaid_session_is_refused(api: FakeAPI, provider: StripeProvider) -> None:
    api.route("GET", f"{SESSIONS}/{SESSION}", (200, session_json()))

    with pytest.raises(ProviderError) as refused:
        provider.refund(
            provider_ref=SESSION, amount_minor=100, currency="USD", idempotency_key="refund-9"
        )
    assert refused.value.retryable is False
    assert api.sent("POST", "/v1/refunds") == []


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"status": "complete", "payment_status": "paid"}, PaymentState.SUCCEEDED),
        ({"status": "expired", "payment_status": "unpaid"}, PaymentState.FAILED),
        ({"status": "open", "payment_status": "unpaid"}, PaymentState.PENDING),
    ],
)
def test_lookup_reads_the_session(
    api: FakeAPI, provider: StripeProvider, fields: dict[str, Any], state: PaymentState
) -> None:
    api.route("GET", f"{SESSIONS}/{SESSION}", (200, session_json(**fields)))

    found = provider.lookup(SESSION)

    assert found.state == state
    assert (found.amount_minor, found.currency) == (1250, "USD")
