"""Razorpay: an Order per payment, paid on our own page with Razorpay's checkout.js, through the
`razorpay` SDK (`RAZORPAY_API_BASE` points its client elsewhere in tests).

Mapping decisions:
- `provider_ref` is the Order id (`order_...`). `create_checkout` returns no redirect but the
  fields checkout.js needs (`page_data`: key id, order id, amount, currency, name, description,
  the buyer's email to prefill).
- Idempotency: Razorpay's order and refund APIs take no idempotency key. An order's `receipt`
  is derived from our idempotency key, and a create first asks for orders with that receipt,
  so a retried create returns the order made the first time instead of a second one (two
  creates racing could still make two orders: only the one stored is ever paid, the other
  expires unpaid, charging nobody). A refund carries our key in its notes, and before
  refunding, the payment's refunds are listed and one with our key is returned instead of
  refunding again (the same race applies: the refund job runs one at a time per refund).
- Amounts are in the currency's minor unit, as ours (JPY 1250 is 1250). For three-decimal
  currencies (KWD, BHD, OMR) Razorpay wants the last digit 0 and rounds otherwise; such an
  amount is refused here rather than charged differently from the price.
- Webhooks are verified with the SDK's `verify_webhook_signature` (hex HMAC-SHA256 of the body
  with the webhook secret, header `X-Razorpay-Signature`); the event id is the
  `X-Razorpay-Event-Id` header (the same on every redelivery), else the body's hash.
  `payment.captured` and `order.paid` are successes, `payment.failed` a failure (of one
  attempt: the buyer may pay the order with another method after, and the payments domain lets a
  success follow a failure), `refund.processed` and `refund.failed` settle a refund. All of
  them name the order by `payload.payment.entity.order_id`. The account must capture payments
  automatically (Razorpay's default for orders): an authorized payment is still pending here.
- `verify_payment_signature` checks what checkout.js hands our page after paying; the site
  takes it only as a reason to `lookup`, never as the payment itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import razorpay
from razorpay.errors import (
    BadRequestError,
    GatewayError,
    ServerError,
    SignatureVerificationError,
)

from app.domain.money import exponent
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

DEFAULT_API_BASE = "https://api.razorpay.com"
SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
TIMEOUT_SECONDS = 30
KINDS = {
    "payment.captured": EventKind.SUCCEEDED,
    "order.paid": EventKind.SUCCEEDED,
    "payment.failed": EventKind.FAILED,
    "refund.processed": EventKind.REFUNDED,
    "refund.failed": EventKind.REFUND_FAILED,
}
REFUND_SUCCEEDED = {"processed": True, "failed": False}


def to_razorpay_amount(amount_minor: int, currency: str) -> int:
    code = currency.upper()
    if exponent(code) == 3 and amount_minor % 10:
        raise ProviderError(
            f"Razorpay takes {code} amounts in steps of 0.010 only.", retryable=False
        )
    return amount_minor


def receipt_for(idempotency_key: str) -> str:
    """Razorpay's `receipt` (at most 40 characters) for one of our idempotency keys."""
    return "eh_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class RazorpayProvider:
    name = "razorpay"
    label = "Razorpay (cards, UPI, netbanking)"
    checkout_origins: tuple[str, ...] = ()  # paid on our page

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        site_name: str,
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.key_id = key_id
        self.webhook_secret = webhook_secret
        self.site_name = site_name
        self.client = razorpay.Client(
            auth=(key_id, key_secret), base_url=(api_base or DEFAULT_API_BASE).rstrip("/")
        )

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """One SDK call, its failures as `ProviderError`s."""
        try:
            return method(*args, timeout=TIMEOUT_SECONDS)
        except BadRequestError as error:
            raise ProviderError(f"Razorpay: {error}", retryable=False) from error
        except (GatewayError, ServerError) as error:
            raise ProviderError(f"Razorpay: {error}") from error
        except (OSError, ValueError) as error:  # unreachable, or an answer that is not JSON
            raise ProviderError(f"Razorpay unreachable: {error}") from error

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        receipt = receipt_for(request.idempotency_key)
        found = self._call(self.client.order.all, {"receipt": receipt})
        order = next(iter(found.get("items") or []), None)
        if order is None:
            order = self._call(
                self.client.order.create,
                {
                    "amount": to_razorpay_amount(request.amount_minor, request.currency),
                    "currency": request.currency.upper(),
                    "receipt": receipt,
                    "notes": {
                        "payment_id": str(request.payment_id),
                        "booking_reference": request.booking_reference,
                        "idempotency_key": request.idempotency_key,
                    },
                },
            )
        page_data = {
            "key_id": self.key_id,
            "order_id": order["id"],
            "amount": order["amount"],
            "currency": order["currency"],
            "name": self.site_name,
            "description": request.description,
            "prefill": {"email": request.buyer_email} if request.buyer_email else {},
        }
        return Checkout(provider_ref=order["id"], redirect_url=None, page_data=page_data)

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Whether checkout.js's `razorpay_signature` is Razorpay's for this order and payment."""
        try:
            return bool(
                self.client.utility.verify_payment_signature(
                    {
                        "razorpay_order_id": order_id,
                        "razorpay_payment_id": payment_id,
                        "razorpay_signature": signature,
                    }
                )
            )
        except (SignatureVerificationError, TypeError):
            return False

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected("missing signature")
        try:
            self.client.utility.verify_webhook_signature(
                body.decode(), signature, self.webhook_secret
            )
        except (SignatureVerificationError, UnicodeDecodeError, TypeError):
            # TypeError: a signature that is not ASCII cannot even be compared.
            raise WebhookRejected("wrong signature") from None
        try:
            data = json.loads(body)
            return self._event(data, header(headers, EVENT_ID_HEADER), body)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("not an event") from None

    def _event(self, data: dict[str, Any], event_id: str, body: bytes) -> ProviderEvent:
        event_type = str(data["event"])
        kind = KINDS.get(event_type, EventKind.OTHER)
        payload = data["payload"]
        payment = (payload.get("payment") or {}).get("entity") or {}
        refund = (payload.get("refund") or {}).get("entity") or {}
        money = refund if refund else payment
        recorded = data
        if kind == EventKind.FAILED and payment.get("error_description"):
            recorded = {**data, "failure_message": payment["error_description"]}
        return ProviderEvent(
            event_id=event_id or "sha256:" + hashlib.sha256(body).hexdigest(),
            kind=kind,
            provider_ref=payment.get("order_id") or (refund.get("notes") or {}).get("order_id"),
            amount_minor=money.get("amount") if kind != EventKind.OTHER else None,
            currency=str(money["currency"]).upper() if money.get("currency") else None,
            refund_ref=refund.get("id"),
            raw_type=event_type,
            payload=recorded,
        )

    def _payments(self, order_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The order's payment attempts, and the one that took the money (if any)."""
        payments = self._call(self.client.order.payments, order_id).get("items") or []
        paid = next((p for p in payments if p.get("status") in ("captured", "refunded")), None)
        return payments, paid

    def refund(
        self, *, provider_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        _, payment = self._payments(provider_ref)
        if payment is None:
            raise ProviderError("Razorpay: this order was never paid.", retryable=False)
        existing = self._call(
            self.client.payment.fetch_multiple_refund, payment["id"], {"count": 100}
        )
        refund = next(
            (
                r
                for r in existing.get("items") or []
                if (r.get("notes") or {}).get("idempotency_key") == idempotency_key
            ),
            None,
        )
        if refund is None:
            refund = self._call(
                self.client.payment.refund,
                payment["id"],
                {
                    "amount": to_razorpay_amount(amount_minor, currency),
                    "receipt": receipt_for(idempotency_key),
                    "notes": {"idempotency_key": idempotency_key, "order_id": provider_ref},
                },
            )
        return RefundResult(
            refund_ref=refund["id"], succeeded=REFUND_SUCCEEDED.get(refund.get("status"))
        )

    def lookup(self, provider_ref: str) -> Lookup:
        payments, paid = self._payments(provider_ref)
        if paid is not None:
            return Lookup(
                state=PaymentState.SUCCEEDED,
                amount_minor=paid["amount"],
                currency=str(paid["currency"]).upper(),
            )
        if payments and all(p.get("status") == "failed" for p in payments):
            return Lookup(state=PaymentState.FAILED)
        return Lookup(state=PaymentState.PENDING)
