"""PayPal: an Orders v2 order per payment (intent CAPTURE), through `paypal-server-sdk`, whose
client fetches and renews its own OAuth token; `PAYPAL_API_BASE` (default: the sandbox) points it
at live PayPal, or elsewhere in tests.

Mapping decisions:
- `provider_ref` is the order id; the buyer approves on the order's `payer-action` (or legacy
  `approve`) link. The purchase unit carries our payment id (`custom_id`) and the booking
  reference (`reference_id`); the create carries our idempotency key as `PayPal-Request-Id`.
- Amounts are decimal strings (`money.format_amount`: USD "12.50", JPY "1250"), except that
  PayPal takes HUF and TWD in whole units only: an amount with cents in those is refused here
  rather than rounded. PayPal does not take some currencies at all (KWD, for one): it answers
  422, a `ProviderError` that is not retried.
- An approved order is not paid until captured: `CHECKOUT.ORDER.APPROVED` captures it at once
  (`PayPal-Request-Id` "capture-<order id>", so repeated webhooks capture once) and is a success
  if the capture completed, else nothing yet (an order captured already is nothing too: its
  `PAYMENT.CAPTURE.COMPLETED` says so). `PAYMENT.CAPTURE.COMPLETED` is a success and
  `PAYMENT.CAPTURE.DENIED` a failure, naming the order by
  `supplementary_data.related_ids.order_id`. A refund event (`PAYMENT.CAPTURE.REFUNDED`,
  `PAYMENT.REFUND.*`) carries the refund: it settles by the refund's status, and names the order
  by its related ids or, lacking them, through the capture its `up` link names (an API call that
  may fail with a retryable `ProviderError`, so PayPal delivers the webhook again).
- Webhooks are verified by PayPal itself: its SDK does not wrap the
  `/v1/notifications/verify-webhook-signature` call, so it is made here with urllib and the
  SDK's OAuth token, sending the five `PAYPAL-*` transmission headers, `PAYPAL_WEBHOOK_ID` and
  the event exactly as received (spliced in as bytes, never re-serialized: a re-encoded event
  fails verification). Only `verification_status` "SUCCESS" is accepted.
- Refunds go to the order's capture with our key as `PayPal-Request-Id`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from app.domain.money import MoneyError, format_amount, to_minor
from app.integrations.payments.base import (
    Checkout,
    CheckoutRequest,
    EventKind,
    Lookup,
    PaymentState,
    ProviderError,
    ProviderEvent,
    RefundResult,
    WebhookRejected,
    header,
)

DEFAULT_API_BASE = "https://api-m.sandbox.paypal.com"
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
TIMEOUT_SECONDS = 30
# The verification call's fields, from the headers of the webhook.
TRANSMISSION = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}
WHOLE_UNITS = {"HUF", "TWD"}  # two decimals in ISO 4217, none at PayPal
REFUND_KINDS = {
    "COMPLETED": EventKind.REFUNDED,
    "FAILED": EventKind.REFUND_FAILED,
    "CANCELLED": EventKind.REFUND_FAILED,
}
REFUND_SUCCEEDED = {"COMPLETED": True, "FAILED": False, "CANCELLED": False}


def to_paypal_value(amount_minor: int, currency: str) -> str:
    code = currency.upper()
    if code in WHOLE_UNITS:
        if amount_minor % 100:
            raise ProviderError(f"PayPal takes {code} in whole units only.", retryable=False)
        return str(amount_minor // 100)
    return format_amount(amount_minor, code)


def from_paypal_amount(amount: Mapping[str, Any]) -> tuple[int, str]:
    code = str(amount["currency_code"]).upper()
    return to_minor(str(amount["value"]), code), code


def _issue(error: ApiException) -> str:
    """PayPal's name for what went wrong (`ORDER_ALREADY_CAPTURED`), if it gave one."""
    try:
        return str(json.loads(error.response.text)["details"][0]["issue"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def _captures(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        capture
        for unit in order.get("purchase_units") or []
        for capture in (unit.get("payments") or {}).get("captures") or []
    ]


class _Configuration(Configuration):
    """The SDK's configuration with the API base of our choosing instead of its two fixed ones."""

    def __init__(self, api_base: str, **options: Any) -> None:
        self.api_base = api_base
        super().__init__(**options)

    def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
        return self.api_base


class _Headers(dict[str, str]):
    """Collects the headers the SDK's auth manager adds to a request."""

    def add_header(self, name: str, value: str) -> None:
        self[name] = value


class PayPalProvider:
    name = "paypal"
    label = "PayPal"
    # Where "Pay" sends the buyer (the booking page's CSP lets its form go there).
    checkout_origins = ("https://www.paypal.com", "https://www.sandbox.paypal.com")

    def __init__(
        self, *, client_id: str, client_secret: str, webhook_id: str, api_base: str = ""
    ) -> None:
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        if not self.api_base.startswith(("https://", "http://")):
            raise ValueError(f"PAYPAL_API_BASE must be an http(s) URL, not {self.api_base!r}")
        self.webhook_id = webhook_id
        self.client = PaypalServersdkClient(
            config=_Configuration(
                self.api_base,
                timeout=TIMEOUT_SECONDS,
                client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                    o_auth_client_id=client_id, o_auth_client_secret=client_secret
                ),
            )
        )

    def _call(
        self,
        method: Callable[[dict[str, Any]], Any],
        options: dict[str, Any],
        *,
        tolerated: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """One SDK call, its JSON answer as received; an error whose issue is `tolerated` is
        None, any other a `ProviderError`."""
        try:
            response = method(options)
        except ApiException as error:
            if _issue(error) in tolerated:
                return None
            status = error.response_code or 0
            retryable = status >= 500 or status in (408, 429)
            raise ProviderError(f"PayPal: {error}", retryable=retryable) from error
        except OSError as error:
            raise ProviderError(f"PayPal unreachable: {error}") from error
        return json.loads(response.text)

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        currency = request.currency.upper()
        experience = {
            "return_url": request.return_url,
            "cancel_url": request.cancel_url,
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        }
        payer: dict[str, Any] = {"experience_context": experience}
        if request.buyer_email:
            payer["email_address"] = request.buyer_email
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.booking_reference,
                    "custom_id": str(request.payment_id),
                    "description": request.description[:127],
                    "amount": {
                        "currency_code": currency,
                        "value": to_paypal_value(request.amount_minor, currency),
                    },
                }
            ],
            "payment_source": {"paypal": payer},
        }
        order = self._call(
            self.client.orders.create_order,
            {"body": body, "paypal_request_id": request.idempotency_key},
        )
        assert order is not None
        links = {link.get("rel"): link.get("href") for link in order.get("links") or []}
        return Checkout(
            provider_ref=order["id"], redirect_url=links.get("payer-action") or links.get("approve")
        )

    def capture(self, order_id: str) -> dict[str, Any] | None:
        """Capture an approved order (once, whoever asks how often); None if it was already."""
        return self._call(
            self.client.orders.capture_order,
            {"id": order_id, "paypal_request_id": f"capture-{order_id}", "body": {}},
            tolerated=frozenset({"ORDER_ALREADY_CAPTURED"}),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        fields = {name: header(headers, key) for name, key in TRANSMISSION.items()}
        if not all(fields.values()):
            raise WebhookRejected("missing transmission headers")
        try:
            data = json.loads(body)
            event_type = str(data["event_type"])
            resource = data["resource"]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("not an event") from None
        self._verify(body, fields)
        try:
            return self._event(data, event_type, resource)
        except (KeyError, TypeError, AttributeError, MoneyError):
            raise WebhookRejected("not an event") from None

    def _verify(self, body: bytes, fields: dict[str, str]) -> None:
        """Ask PayPal whether it sent `body` with these transmission headers."""
        request_fields = json.dumps({**fields, "webhook_id": self.webhook_id})
        payload = request_fields[:-1].encode() + b',"webhook_event":' + body + b"}"
        auth = self.client.oauth_2
        try:
            if not auth.is_valid():
                raise ProviderError("PayPal refused our credentials for its OAuth token.")
        except OSError as error:
            raise ProviderError(f"PayPal unreachable: {error}") from error
        request_headers = _Headers({"Content-Type": "application/json"})
        auth.apply(request_headers)
        request = urllib.request.Request(  # noqa: S310 (api_base is checked to be http(s))
            self.api_base + VERIFY_PATH, data=payload, headers=request_headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 400:  # PayPal could not make sense of the headers or the event
                raise WebhookRejected("PayPal could not verify it") from None
            raise ProviderError(f"PayPal verification: HTTP {error.code}") from error
        except (OSError, ValueError) as error:
            raise ProviderError(f"PayPal verification unreachable: {error}") from error
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookRejected("PayPal did not verify it")

    def _event(
        self, data: dict[str, Any], event_type: str, resource: dict[str, Any]
    ) -> ProviderEvent:
        kind = EventKind.OTHER
        order_id = refund_ref = None
        money: Mapping[str, Any] | None = None
        recorded = data
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        if event_type == "CHECKOUT.ORDER.APPROVED":
            order_id = resource["id"]
            captured = self.capture(order_id)
            completed = [c for c in _captures(captured or {}) if c.get("status") == "COMPLETED"]
            if completed:
                kind, money = EventKind.SUCCEEDED, completed[0]["amount"]
        elif event_type in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED"):
            order_id = related.get("order_id")
            money = resource["amount"]
            if event_type.endswith("COMPLETED"):
                kind = EventKind.SUCCEEDED
            else:
                kind = EventKind.FAILED
                reason = (resource.get("status_details") or {}).get("reason")
                recorded = {**data, "failure_message": reason} if reason else data
        elif event_type == "PAYMENT.CAPTURE.REFUNDED" or event_type.startswith("PAYMENT.REFUND."):
            kind = REFUND_KINDS.get(str(resource.get("status")), EventKind.OTHER)
            refund_ref, money = resource["id"], resource.get("amount")
            order_id = related.get("order_id")
            if order_id is None and kind != EventKind.OTHER:
                order_id = self._order_of_refund(resource)
        amount = currency = None
        if money is not None and kind != EventKind.OTHER:
            amount, currency = from_paypal_amount(money)
        return ProviderEvent(
            event_id=str(data["id"]),
            kind=kind,
            provider_ref=order_id,
            amount_minor=amount,
            currency=currency,
            refund_ref=refund_ref,
            raw_type=event_type,
            payload=recorded,
        )

    def _order_of_refund(self, refund: Mapping[str, Any]) -> str | None:
        """The order whose capture `refund` gave back, through its `up` link."""
        up = next((link["href"] for link in refund.get("links") or [] if link["rel"] == "up"), "")
        if "/captures/" not in up:
            return None
        capture_id = up.rstrip("/").rsplit("/", 1)[1]
        capture = self._call(self.client.payments.get_captured_payment, {"capture_id": capture_id})
        related = ((capture or {}).get("supplementary_data") or {}).get("related_ids") or {}
        return related.get("order_id")

    def refund(
        self, *, provider_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        order = self._call(self.client.orders.get_order, {"id": provider_ref}) or {}
        captures = [
            c
            for c in _captures(order)
            if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
        ]
        if not captures:
            raise ProviderError("PayPal: this order was never captured.", retryable=False)
        refund = self._call(
            self.client.payments.refund_captured_payment,
            {
                "capture_id": captures[0]["id"],
                "paypal_request_id": idempotency_key,
                "prefer": "return=representation",
                "body": {
                    "amount": {
                        "currency_code": currency.upper(),
                        "value": to_paypal_value(amount_minor, currency),
                    }
                },
            },
        )
        assert refund is not None
        return RefundResult(
            refund_ref=refund["id"], succeeded=REFUND_SUCCEEDED.get(refund.get("status"))
        )

    def lookup(self, provider_ref: str) -> Lookup:
        """What PayPal says of the order. An order the buyer approved but nobody captured (its
        CHECKOUT.ORDER.APPROVED webhook was lost) is captured here: the money moves only then,
        and the capture is idempotent (`capture`)."""
        order = self._call(self.client.orders.get_order, {"id": provider_ref}) or {}
        captures = _captures(order)
        if order.get("status") == "APPROVED" and not captures:
            order = self.capture(provider_ref) or order
            captures = _captures(order)
        completed = [c for c in captures if c.get("status") in ("COMPLETED", "REFUNDED")]
        if completed:
            amount, currency = from_paypal_amount(completed[0]["amount"])
            return Lookup(state=PaymentState.SUCCEEDED, amount_minor=amount, currency=currency)
        if order.get("status") == "VOIDED" or any(
            c.get("status") in ("DECLINED", "FAILED") for c in captures
        ):
            return Lookup(state=PaymentState.FAILED)
        return Lookup(state=PaymentState.PENDING)
