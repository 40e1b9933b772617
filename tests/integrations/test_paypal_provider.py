"""The PayPal adapter against a local stand-in for PayPal's API, through the real SDK."""

from __future__ import annotations

import base64
import json
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
from app.integrations.payments.paypal_provider import PayPalProvider
from tests.integrations.fake_api import FakeAPI, Recorded, serve

CLIENT_ID = "paypal_client_eventhall"
CLIENT_SECRET = "paypal_secret_eventhall"
WEBHOOK_ID = "WH-4EVENTHALL"
TOKEN = "A21AAtest-token"
ORDER = "5O190127TN364715T"
CAPTURE = "3C679366HH908993F"
ORDERS = "/v2/checkout/orders"
VERIFY = "/v1/notifications/verify-webhook-signature"
GOOD_SIGNATURE = "paypal-signed-this"


def verify_answer(request: Recorded, _match: Any) -> tuple[int, Any]:
    """PayPal's verification: SUCCESS for its own signature on our webhook id."""
    sent = request.json()
    genuine = sent["transmission_sig"] == GOOD_SIGNATURE and sent["webhook_id"] == WEBHOOK_ID
    return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    for fake in serve():
        fake.route(
            "POST",
            "/v1/oauth2/token",
            (200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 32400}),
        )
        fake.route("POST", VERIFY, verify_answer)
        yield fake


@pytest.fixture
def provider(api: FakeAPI) -> PayPalProvider:
    return PayPalProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_id=WEBHOOK_ID,
        api_base=api.base_url,
    )


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


def created_order(*_: Any) -> tuple[int, Any]:
    return 200, {
        "id": ORDER,
        "status": "PAYER_ACTION_REQUIRED",
        "links": [
            {"href": f"https://api-m.paypal.com{ORDERS}/{ORDER}", "rel": "self", "method": "GET"},
            {
                "href": f"https://www.paypal.com/checkoutnow?token={ORDER}",
                "rel": "payer-action",
                "method": "GET",
            },
        ],
    }


def order_json(status: str = "COMPLETED", capture_status: str = "COMPLETED", **amount: str):
    money = {"currency_code": "USD", "value": "12.50", **amount}
    captures = [{"id": CAPTURE, "status": capture_status, "amount": money}]
    return {
        "id": ORDER,
        "status": status,
        "purchase_units": [
            {
                "reference_id": "BK-7QX2",
                "payments": {"captures": captures} if capture_status else {},
            }
        ],
    }


@pytest.mark.parametrize(
    ("currency", "amount_minor", "value"),
    [
        ("USD", 1250, "12.50"),
        ("JPY", 1250, "1250"),
        ("KWD", 12345, "12.345"),
        ("HUF", 150000, "1500"),
    ],
)
def test_checkout_creates_an_order_with_a_decimal_amount(
    api: FakeAPI, provider: PayPalProvider, currency: str, amount_minor: int, value: str
) -> None:
    api.route("POST", ORDERS, created_order)

    checkout = provider.create_checkout(checkout_request(amount_minor, currency))

    assert checkout.provider_ref == ORDER
    assert checkout.redirect_url == f"https://www.paypal.com/checkoutnow?token={ORDER}"
    (request,) = api.sent("POST", ORDERS)
    sent = request.json()
    assert sent["intent"] == "CAPTURE"
    (unit,) = sent["purchase_units"]
    assert unit["amount"] == {"currency_code": currency, "value": value}
    assert unit["custom_id"] == "42"
    assert unit["reference_id"] == "BK-7QX2"
    paypal = sent["payment_source"]["paypal"]
    assert paypal["experience_context"]["return_url"] == "https://tickets.example.com/pay/return/42"
    assert paypal["experience_context"]["cancel_url"] == "https://tickets.example.com/pay/cancel/42"
    assert paypal["email_address"] == "ada@example.com"
    assert request.header("PayPal-Request-Id") == "checkout-42-1"
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    (token_request,) = api.sent("POST", "/v1/oauth2/token")
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.header("Authorization") == f"Basic {basic}"


def test_a_retried_checkout_sends_the_same_request_id_and_reuses_the_token(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    api.route("POST", ORDERS, created_order)

    first = provider.create_checkout(checkout_request())
    again = provider.create_checkout(checkout_request())

    assert first == again
    assert [r.header("PayPal-Request-Id") for r in api.sent("POST", ORDERS)] == [
        "checkout-42-1",
        "checkout-42-1",
    ]
    assert len(api.sent("POST", "/v1/oauth2/token")) == 1


def test_cents_in_a_whole_unit_currency_are_refused(api: FakeAPI, provider: PayPalProvider) -> None:
    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(150050, "HUF"))

    assert refused.value.retryable is False
    assert api.sent("POST", ORDERS) == []


def test_errors_say_whether_to_retry(api: FakeAPI, provider: PayPalProvider) -> None:
    unsupported = {
        "name": "UNPROCESSABLE_ENTITY",
        "message": "The requested action could not be performed.",
        "details": [{"issue": "CURRENCY_NOT_SUPPORTED"}],
    }
    api.route("POST", ORDERS, (422, unsupported))
    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(12345, "KWD"))
    assert refused.value.retryable is False

    api.route("POST", ORDERS, (503, {"name": "SERVICE_UNAVAILABLE", "message": "Try later"}))
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(checkout_request())
    assert failed.value.retryable is True


# Webhooks -------------------------------------------------------------------------------------


def delivered(event: dict[str, Any], *, signature: str = GOOD_SIGNATURE):
    """The body and transmission headers PayPal sends with a webhook."""
    body = json.dumps(event, indent=1).encode()  # spacing our own re-encoding would not keep
    return body, {
        "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "PAYPAL-TRANSMISSION-TIME": "2026-01-15T10:00:00Z",
        "PAYPAL-TRANSMISSION-SIG": signature,
        "PAYPAL-CERT-URL": "https://api-m.paypal.com/v1/notifications/certs/CERT-360caa42",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


def event_json(event_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "WH-7Y7254563A4550640-06E46",
        "event_version": "1.0",
        "resource_type": "capture",
        "event_type": event_type,
        "resource": resource,
    }


def capture_json(status: str = "COMPLETED", **fields: Any) -> dict[str, Any]:
    return {
        "id": CAPTURE,
        "status": status,
        "amount": {"currency_code": "JPY", "value": "1250"},
        "custom_id": "42",
        "supplementary_data": {"related_ids": {"order_id": ORDER}},
        **fields,
    }


def test_the_verification_call_sends_the_headers_and_the_event_as_received(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    body, headers = delivered(event_json("PAYMENT.CAPTURE.COMPLETED", capture_json()))

    provider.parse_webhook(body, headers)

    (request,) = api.sent("POST", VERIFY)
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.body.endswith(b'"webhook_event":' + body + b"}")
    sent = request.json()
    assert sent["webhook_id"] == WEBHOOK_ID
    assert sent["auth_algo"] == "SHA256withRSA"
    assert sent["transmission_id"] == "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
    assert sent["transmission_time"] == "2026-01-15T10:00:00Z"
    assert sent["cert_url"] == headers["PAYPAL-CERT-URL"]
    assert sent["transmission_sig"] == GOOD_SIGNATURE


def test_a_completed_capture_is_a_success(provider: PayPalProvider) -> None:
    event = provider.parse_webhook(
        *delivered(event_json("PAYMENT.CAPTURE.COMPLETED", capture_json()))
    )

    assert event.event_id == "WH-7Y7254563A4550640-06E46"
    assert event.kind == EventKind.SUCCEEDED
    assert event.provider_ref == ORDER
    assert (event.amount_minor, event.currency) == (1250, "JPY")


def test_a_denied_capture_is_a_failure(provider: PayPalProvider) -> None:
    capture = capture_json("DECLINED", status_details={"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"})
    event = provider.parse_webhook(*delivered(event_json("PAYMENT.CAPTURE.DENIED", capture)))

    assert (event.kind, event.provider_ref) == (EventKind.FAILED, ORDER)
    assert event.payload["failure_message"] == "DECLINED_BY_RISK_FRAUD_FILTERS"


def test_an_approved_order_is_captured_once_and_then_a_success(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    capture_path = f"{ORDERS}/{ORDER}/capture"
    api.route("POST", capture_path, (201, order_json(value="12.50")))
    approved = event_json("CHECKOUT.ORDER.APPROVED", {"id": ORDER, "status": "APPROVED"})

    event = provider.parse_webhook(*delivered(approved))

    assert event.kind == EventKind.SUCCEEDED
    assert (event.provider_ref, event.amount_minor, event.currency) == (ORDER, 1250, "USD")
    (capture,) = api.sent("POST", capture_path)
    assert capture.header("PayPal-Request-Id") == f"capture-{ORDER}"

    # Delivered again after the capture: PayPal says it is captured already; nothing to do.
    already = {
        "name": "UNPROCESSABLE_ENTITY",
        "details": [{"issue": "ORDER_ALREADY_CAPTURED"}],
    }
    api.route("POST", capture_path, (422, already))
    again = provider.parse_webhook(*delivered(approved))
    assert (again.kind, again.provider_ref) == (EventKind.OTHER, ORDER)
    assert [r.header("PayPal-Request-Id") for r in api.sent("POST", capture_path)] == [
        f"capture-{ORDER}"
    ] * 2


def test_an_approved_order_whose_capture_is_pending_is_nothing_yet(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    api.route("POST", f"{ORDERS}/{ORDER}/capture", (201, order_json(capture_status="PENDING")))

    event = provider.parse_webhook(
        *delivered(event_json("CHECKOUT.ORDER.APPROVED", {"id": ORDER, "status": "APPROVED"}))
    )

    assert event.kind == EventKind.OTHER


def refund_resource(status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "id": "1JU08902781691411",
        "status": status,
        "amount": {"currency_code": "USD", "value": "5.00"},
        "links": [
            {
                "rel": "self",
                "href": "https://api-m.paypal.com/v2/payments/refunds/1JU08902781691411",
            },
            {"rel": "up", "href": f"https://api-m.paypal.com/v2/payments/captures/{CAPTURE}"},
        ],
    }


def test_a_refund_event_finds_its_order_through_the_capture(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    api.route("GET", f"/v2/payments/captures/{CAPTURE}", (200, capture_json()))

    event = provider.parse_webhook(
        *delivered(event_json("PAYMENT.CAPTURE.REFUNDED", refund_resource()))
    )

    assert event.kind == EventKind.REFUNDED
    assert (event.provider_ref, event.refund_ref) == (ORDER, "1JU08902781691411")
    assert (event.amount_minor, event.currency) == (500, "USD")


def test_a_refund_event_naming_its_order_needs_no_call(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    resource = refund_resource("FAILED") | {
        "supplementary_data": {"related_ids": {"order_id": ORDER}}
    }
    event = provider.parse_webhook(*delivered(event_json("PAYMENT.REFUND.FAILED", resource)))

    assert (event.kind, event.provider_ref) == (EventKind.REFUND_FAILED, ORDER)
    assert api.sent("GET", "/v2/payments/captures/.*") == []


def test_forged_missing_and_malformed_webhooks_are_rejected(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    body, headers = delivered(event_json("PAYMENT.CAPTURE.COMPLETED", capture_json()))
    forged = delivered(event_json("PAYMENT.CAPTURE.COMPLETED", capture_json()), signature="forged")
    without_sig = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}

    for attempt_body, attempt_headers in [forged, (body, {}), (body, without_sig)]:
        with pytest.raises(WebhookRejected):
            provider.parse_webhook(attempt_body, attempt_headers)
    for not_an_event in [body[:-1], b'{"id": "WH-1"}']:
        with pytest.raises(WebhookRejected):
            provider.parse_webhook(not_an_event, headers)
    # Only the forged one was worth asking PayPal about.
    assert len(api.sent("POST", VERIFY)) == 1

    api.route("POST", VERIFY, (400, {"name": "VALIDATION_ERROR"}))
    with pytest.raises(WebhookRejected):
        provider.parse_webhook(body, headers)


def test_verification_paypal_cannot_answer_is_retried_not_rejected(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    api.route("POST", VERIFY, (503, {"name": "SERVICE_UNAVAILABLE"}))

    with pytest.raises(ProviderError) as failed:
        provider.parse_webhook(*delivered(event_json("PAYMENT.CAPTURE.COMPLETED", capture_json())))
    assert failed.value.retryable is True


# Refunds and lookups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "amount_minor", "value"),
    [("USD", 500, "5.00"), ("JPY", 500, "500"), ("KWD", 5005, "5.005")],
)
def test_refund_goes_to_the_orders_capture_with_the_request_id(
    api: FakeAPI, provider: PayPalProvider, currency: str, amount_minor: int, value: str
) -> None:
    api.route("GET", f"{ORDERS}/{ORDER}", (200, order_json()))
    refund_path = f"/v2/payments/captures/{CAPTURE}/refund"
    api.route("POST", refund_path, (201, refund_resource("PENDING")))

    result = provider.refund(
        provider_ref=ORDER, amount_minor=amount_minor, currency=currency, idempotency_key="r-9"
    )

    assert (result.refund_ref, result.succeeded) == ("1JU08902781691411", None)
    (request,) = api.sent("POST", refund_path)
    assert request.json()["amount"] == {"currency_code": currency, "value": value}
    assert request.header("PayPal-Request-Id") == "r-9"


def test_refund_of_an_uncaptured_order_is_refused(api: FakeAPI, provider: PayPalProvider) -> None:
    api.route("GET", f"{ORDERS}/{ORDER}", (200, order_json("APPROVED", capture_status="")))

    with pytest.raises(ProviderError) as refused:
        provider.refund(provider_ref=ORDER, amount_minor=500, currency="USD", idempotency_key="r")
    assert refused.value.retryable is False


@pytest.mark.parametrize(
    ("order", "state"),
    [
        (order_json(), PaymentState.SUCCEEDED),
        (order_json("PAYER_ACTION_REQUIRED", capture_status=""), PaymentState.PENDING),
        (order_json("COMPLETED", capture_status="DECLINED"), PaymentState.FAILED),
        (order_json("VOIDED", capture_status=""), PaymentState.FAILED),
    ],
)
def test_lookup_reads_the_order(
    api: FakeAPI, provider: PayPalProvider, order: dict[str, Any], state: PaymentState
) -> None:
    api.route("GET", f"{ORDERS}/{ORDER}", (200, order))

    found = provider.lookup(ORDER)

    assert found.state == state
    if state == PaymentState.SUCCEEDED:
        assert (found.amount_minor, found.currency) == (1250, "USD")


def test_lookup_captures_an_order_approved_but_never_captured(
    api: FakeAPI, provider: PayPalProvider
) -> None:
    """Its APPROVED webhook was lost: asking captures it (once), and then it is a success."""
    api.route("GET", f"{ORDERS}/{ORDER}", (200, order_json("APPROVED", capture_status="")))
    api.route("POST", f"{ORDERS}/{ORDER}/capture", (201, order_json(value="12.50")))

    found = provider.lookup(ORDER)

    assert (found.state, found.amount_minor, found.currency) == (
        PaymentState.SUCCEEDED,
        1250,
        "USD",
    )
    (capture,) = api.sent("POST", f"{ORDERS}/{ORDER}/capture")
    assert capture.header("PayPal-Request-Id") == f"capture-{ORDER}"
