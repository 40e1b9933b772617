"""The Razorpay adapter against a local stand-in for Razorpay's API, through the real SDK."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from app.integrations.payments.razorpay_provider import RazorpayProvider, receipt_for
from tests.integrations.fake_api import FakeAPI, Recorded, serve

KEY_ID = "rzp_test_eventhall"
KEY_SECRET = "rzp_secret_eventhall"
WEBHOOK_SECRET = "rzp_whsec_eventhall"
ORDER = "order_Q1w2e3r4"
PAYMENT = "pay_A1s2d3f4"
ORDERS = "/v1/orders"
EMPTY = {"entity": "collection", "count": 0, "items": []}


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    yield from serve()


@pytest.fixture
def provider(api: FakeAPI) -> RazorpayProvider:
    return RazorpayProvider(
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        site_name="Eventhall",
        api_base=api.base_url,
    )


def checkout_request(amount_minor: int = 125000, currency: str = "INR", **fields: Any):
    values: dict[str, Any] = {
        "payment_id": 42,
        "booking_reference": "BK-7QX2",
        "amount_minor": amount_minor,
        "currency": currency,
        "description": "2 tickets: Jazz night",
        "buyer_email": "ada@example.com",
        "return_url": "https://tickets.example.com/pay/return/42",
        "cancel_url": "https://tickets.example.com/pay/cancel/42",
        "idempotency_key": "eventhall-payment-0123456789abcdef0123456789abcdef",
        **fields,
    }
    return CheckoutRequest(**values)


def order_answer(request: Recorded, _match: Any) -> tuple[int, Any]:
    """Razorpay's answer to an order create: the order, echoing what was asked."""
    asked = request.json()
    return 200, {
        "id": ORDER,
        "entity": "order",
        "amount": asked["amount"],
        "amount_paid": 0,
        "currency": asked["currency"],
        "receipt": asked["receipt"],
        "status": "created",
        "notes": asked["notes"],
    }


@pytest.mark.parametrize(
    ("currency", "amount_minor"), [("USD", 1250), ("JPY", 1250), ("KWD", 12340), ("INR", 125000)]
)
def test_checkout_creates_an_order_in_minor_units(
    api: FakeAPI, provider: RazorpayProvider, currency: str, amount_minor: int
) -> None:
    api.route("GET", ORDERS, (200, EMPTY))
    api.route("POST", ORDERS, order_answer)

    checkout = provider.create_checkout(checkout_request(amount_minor, currency))

    (request,) = api.sent("POST", ORDERS)
    sent = request.json()
    assert sent["amount"] == amount_minor
    assert sent["currency"] == currency
    receipt = receipt_for("eventhall-payment-0123456789abcdef0123456789abcdef")
    assert sent["receipt"] == receipt and len(receipt) <= 40
    assert sent["notes"] == {
        "payment_id": "42",
        "booking_reference": "BK-7QX2",
        "idempotency_key": "eventhall-payment-0123456789abcdef0123456789abcdef",
    }
    basic = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
    assert request.header("Authorization") == f"Basic {basic}"
    assert checkout.provider_ref == ORDER
    assert checkout.redirect_url is None
    assert checkout.page_data == {
        "key_id": KEY_ID,
        "order_id": ORDER,
        "amount": amount_minor,
        "currency": currency,
        "name": "Eventhall",
        "description": "2 tickets: Jazz night",
        "prefill": {"email": "ada@example.com"},
    }


def test_a_retried_checkout_finds_the_order_by_its_receipt(
    api: FakeAPI, provider: RazorpayProvider
) -> None:
    api.route("GET", ORDERS, (200, EMPTY))
    api.route("POST", ORDERS, order_answer)
    first = provider.create_checkout(checkout_request())
    made = order_answer(api.sent("POST", ORDERS)[0], None)[1]
    api.route("GET", ORDERS, (200, {"entity": "collection", "count": 1, "items": [made]}))

    again = provider.create_checkout(checkout_request())

    assert again == first
    assert len(api.sent("POST", ORDERS)) == 1
    receipts = [r.query["receipt"] for r in api.sent("GET", ORDERS)]
    assert receipts == [[receipt_for(checkout_request().idempotency_key)]] * 2


def test_a_three_decimal_amount_razorpay_would_round_is_refused(
    api: FakeAPI, provider: RazorpayProvider
) -> None:
    api.route("GET", ORDERS, (200, EMPTY))

    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(12345, "KWD"))

    assert refused.value.retryable is False
    assert api.sent("POST", ORDERS) == []


def test_errors_say_whether_to_retry(api: FakeAPI, provider: RazorpayProvider) -> None:
    api.route("GET", ORDERS, (200, EMPTY))
    bad = {"error": {"code": "BAD_REQUEST_ERROR", "description": "Currency is not supported"}}
    api.route("POST", ORDERS, (400, bad))
    with pytest.raises(ProviderError) as refused:
        provider.create_checkout(checkout_request(currency="XYZ"))
    assert refused.value.retryable is False

    down = {"error": {"code": "SERVER_ERROR", "description": "We are facing some trouble"}}
    api.route("POST", ORDERS, (500, down))
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(checkout_request())
    assert failed.value.retryable is True


def test_the_payment_signature_from_checkout_js(provider: RazorpayProvider) -> None:
    good = hmac.new(KEY_SECRET.encode(), f"{ORDER}|{PAYMENT}".encode(), hashlib.sha256)

    assert provider.verify_payment_signature(ORDER, PAYMENT, good.hexdigest()) is True
    assert provider.verify_payment_signature(ORDER, "pay_other", good.hexdigest()) is False
    assert provider.verify_payment_signature(ORDER, PAYMENT, "0" * 64) is False
    assert provider.verify_payment_signature(ORDER, PAYMENT, "é") is False


# Webhooks -------------------------------------------------------------------------------------


def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, event_id: str = "evt_R1"):
    """The body and headers Razorpay sends: the hex HMAC-SHA256 of the body."""
    body = json.dumps(event).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": event_id}


def payment_entity(**fields: Any) -> dict[str, Any]:
    return {
        "id": PAYMENT,
        "entity": "payment",
        "amount": 125000,
        "currency": "INR",
        "status": "captured",
        "order_id": ORDER,
        **fields,
    }


def event_json(event_type: str, **entities: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": "event",
        "account_id": "acc_1",
        "event": event_type,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": 1700000000,
    }


@pytest.mark.parametrize("event_type", ["payment.captured", "order.paid"])
def test_a_captured_payment_is_a_success(provider: RazorpayProvider, event_type: str) -> None:
    entities: dict[str, Any] = {"payment": payment_entity()}
    if event_type == "order.paid":
        entities["order"] = {"id": ORDER, "entity": "order", "status": "paid"}
    event = provider.parse_webhook(*signed(event_json(event_type, **entities)))

    assert event.event_id == "evt_R1"
    assert event.kind == EventKind.SUCCEEDED
    assert event.provider_ref == ORDER
    assert (event.amount_minor, event.currency) == (125000, "INR")


def test_a_failed_payment_is_a_failure_with_its_reason(provider: RazorpayProvider) -> None:
    payment = payment_entity(status="failed", error_description="The card was declined.")
    event = provider.parse_webhook(*signed(event_json("payment.failed", payment=payment)))

    assert (event.kind, event.provider_ref) == (EventKind.FAILED, ORDER)
    assert event.payload["failure_message"] == "The card was declined."


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [("refund.processed", EventKind.REFUNDED), ("refund.failed", EventKind.REFUND_FAILED)],
)
def test_refund_events(provider: RazorpayProvider, event_type: str, kind: EventKind) -> None:
    refund = {"id": "rfnd_1", "entity": "refund", "amount": 5000, "currency": "INR"}
    refund |= {"payment_id": PAYMENT, "status": event_type.split(".")[1]}
    event = provider.parse_webhook(
        *signed(event_json(event_type, refund=refund, payment=payment_entity()))
    )

    assert event.kind == kind
    assert (event.provider_ref, event.refund_ref) == (ORDER, "rfnd_1")
    assert (event.amount_minor, event.currency) == (5000, "INR")


def test_an_event_we_do_not_act_on(provider: RazorpayProvider) -> None:
    event = provider.parse_webhook(
        *signed(event_json("payment.authorized", payment=payment_entity(status="authorized")))
    )

    assert event.kind == EventKind.OTHER


def test_without_an_event_id_header_the_body_identifies_the_event(
    provider: RazorpayProvider,
) -> None:
    body, headers = signed(event_json("payment.captured", payment=payment_entity()))
    del headers["X-Razorpay-Event-Id"]

    first = provider.parse_webhook(body, headers)
    again = provider.parse_webhook(body, headers)

    assert first.event_id == again.event_id
    assert first.event_id.startswith("sha256:")


def test_forged_missing_and_malformed_webhooks_are_rejected(provider: RazorpayProvider) -> None:
    event = event_json("payment.captured", payment=payment_entity())
    body, headers = signed(event)
    forged = signed(event, secret="someone_else")
    tampered = body.replace(b"125000", b"1")
    not_json = body[:-1]
    not_json_signed = hmac.new(WEBHOOK_SECRET.encode(), not_json, hashlib.sha256).hexdigest()

    attempts = [
        forged,
        (body, {}),
        (body, {"X-Razorpay-Signature": "é"}),
        (tampered, headers),
        (not_json, {"X-Razorpay-Signature": not_json_signed}),
        (b"\xff" + body, headers),
    ]
    for attempt_body, attempt_headers in attempts:
        with pytest.raises(WebhookRejected):
            provider.parse_webhook(attempt_body, attempt_headers)
    assert provider.parse_webhook(body, headers).kind == EventKind.SUCCEEDED


# Refunds and lookups --------------------------------------------------------------------------


def payments_of_order(*payments: dict[str, Any]) -> tuple[int, Any]:
    return 200, {"entity": "collection", "count": len(payments), "items": list(payments)}


def test_refund_refunds_the_captured_payment_once(api: FakeAPI, provider: RazorpayProvider) -> None:
    failed = payment_entity(id="pay_failed", status="failed")
    api.route("GET", f"{ORDERS}/{ORDER}/payments", payments_of_order(failed, payment_entity()))
    api.route("GET", f"/v1/payments/{PAYMENT}/refunds", (200, EMPTY))
    refund = {"id": "rfnd_1", "entity": "refund", "amount": 5000, "status": "pending"}
    api.route("POST", f"/v1/payments/{PAYMENT}/refund", (200, refund))

    result = provider.refund(
        provider_ref=ORDER, amount_minor=5000, currency="INR", idempotency_key="refund-9"
    )

    assert (result.refund_ref, result.succeeded) == ("rfnd_1", None)
    (request,) = api.sent("POST", f"/v1/payments/{PAYMENT}/refund")
    sent = request.json()
    assert sent["amount"] == 5000
    assert sent["notes"] == {"idempotency_key": "refund-9", "order_id": ORDER}
    assert sent["receipt"] == receipt_for("refund-9")

    # Asked again with the same key: the refund made the first time is found, not repeated.
    made = refund | {"status": "processed", "notes": sent["notes"]}
    api.route("GET", f"/v1/payments/{PAYMENT}/refunds", payments_of_order(made))
    again = provider.refund(
        provider_ref=ORDER, amount_minor=5000, currency="INR", idempotency_key="refund-9"
    )
    assert (again.refund_ref, again.succeeded) == ("rfnd_1", True)
    assert len(api.sent("POST", f"/v1/payments/{PAYMENT}/refund")) == 1


def test_refund_of_an_unpaid_order_is_refused(api: FakeAPI, provider: RazorpayProvider) -> None:
    api.route("GET", f"{ORDERS}/{ORDER}/payments", payments_of_order())

    with pytest.raises(ProviderError) as refused:
        provider.refund(
            provider_ref=ORDER, amount_minor=5000, currency="INR", idempotency_key="refund-9"
        )
    assert refused.value.retryable is False


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        (["failed", "captured"], PaymentState.SUCCEEDED),
        (["failed"], PaymentState.FAILED),
        (["authorized"], PaymentState.PENDING),
        ([], PaymentState.PENDING),
    ],
)
def test_lookup_reads_the_orders_payments(
    api: FakeAPI, provider: RazorpayProvider, statuses: list[str], state: PaymentState
) -> None:
    payments = [payment_entity(id=f"pay_{i}", status=s) for i, s in enumerate(statuses)]
    api.route("GET", f"{ORDERS}/{ORDER}/payments", payments_of_order(*payments))

    found = provider.lookup(ORDER)

    assert found.state == state
    if state == PaymentState.SUCCEEDED:
        assert (found.amount_minor, found.currency) == (125000, "INR")
