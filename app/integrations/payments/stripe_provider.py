"""Stripe: a hosted Checkout Session per payment, through the `stripe` SDK's `StripeClient`
(one per provider, so no global module state; `STRIPE_API_BASE` points it elsewhere in tests).

Mapping decisions:
- `provider_ref` is the Checkout Session id (`cs_...`): the buyer pays on `session.url`, the
  session's events name it, and `lookup` retrieves it. The session carries our payment id
  (`client_reference_id`, metadata) and the booking reference (metadata) for people reading
  Stripe's dashboard.
- Amounts: Stripe counts in the currency's minor unit like ISO 4217 (1250 USD cents, 1250 JPY),
  with two exceptions handled here. ISK and UGX, zero-decimal in ISO, are still sent in
  hundredths (a multiple of 100), for Stripe's backwards compatibility. Three-decimal currencies
  (KWD, BHD, ...) are sent in minor units, but Stripe requires the last digit to be 0: an amount
  that is not a multiple of 10 (KWD 12.345) is refused here rather than rounded, since a buyer
  must never be charged something other than the price.
- Idempotency: creating the session and the refund carry our idempotency key (Stripe's
  `Idempotency-Key`), so a retry returns the first result instead of doing it again.
- Webhooks are verified with `construct_event` (signature and a 300 s tolerance).
  `checkout.session.completed` with `payment_status` "paid" and
  `checkout.session.async_payment_succeeded` are successes (`amount_total`, the currency upper
  cased); `async_payment_failed` and `expired` are failures; a completed session not yet paid
  (a bank debit on its way) is nothing yet.
- Refunds are made on the session's PaymentIntent (retrieved from the session) with the session
  id in the refund's metadata (`checkout_session`). A refund's events (`refund.created`,
  `refund.updated`, `refund.failed`, `charge.refund.updated`) carry the refund itself, so
  they name the payment by that metadata and the refund by its id; a refund made in Stripe's
  dashboard has no such metadata, and the session is found by its PaymentIntent
  (`checkout.sessions.list(payment_intent=...)`), an API call that may fail with a retryable
  `ProviderError` (the webhook is then answered with an error and Stripe delivers it again).
  `charge.refunded` is not acted on: it names a charge, not one refund, and every refund also
  arrives as a `refund.*` event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stripe

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

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
# Zero-decimal in ISO 4217, yet sent to Stripe in hundredths (always a multiple of 100).
HUNDREDTHS = {"ISK", "UGX"}
SUCCEEDED_TYPES = {"checkout.session.async_payment_succeeded"}
FAILED_TYPES = {"checkout.session.async_payment_failed", "checkout.session.expired"}
REFUND_TYPES = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
REFUND_KINDS = {
    "succeeded": EventKind.REFUNDED,
    "failed": EventKind.REFUND_FAILED,
    "canceled": EventKind.REFUND_FAILED,
}


def to_stripe_amount(amount_minor: int, currency: str) -> int:
    """Our minor units as Stripe's `amount` in `currency`."""
    code = currency.upper()
    if code in HUNDREDTHS:
        return amount_minor * 100
    if exponent(code) == 3 and amount_minor % 10:
        raise ProviderError(f"Stripe takes {code} amounts in steps of 0.010 only.", retryable=False)
    return amount_minor


def from_stripe_amount(amount: int, currency: str) -> int:
    """Stripe's `amount` in `currency` as our minor units."""
    return amount // 100 if currency.upper() in HUNDREDTHS else amount


def _provider_error(error: stripe.StripeError) -> ProviderError:
    retryable = (
        isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError)
        or (error.http_status or 0) >= 500
    )
    return ProviderError(f"Stripe: {error.user_message or error}", retryable=retryable)


class StripeProvider:
    name = "stripe"
    label = "Card (Stripe)"
    # Where "Pay" sends the buyer (the booking page's CSP lets its form go there).
    checkout_origins = ("https://checkout.stripe.com",)

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str = "") -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            # Stripe's client retries connection errors and 409/5xx answers it marks retryable,
            # always with the same idempotency key.
            max_network_retries=2,
        )

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        currency = request.currency.upper()
        references = {
            "payment_id": str(request.payment_id),
            "booking_reference": request.booking_reference,
        }
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_stripe_amount(request.amount_minor, currency),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.payment_id),
            "metadata": references,
            "payment_intent_data": {"metadata": references},
        }
        if request.buyer_email:
            params["customer_email"] = request.buyer_email
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return Checkout(provider_ref=session.id, redirect_url=session.url)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        try:
            self.client.construct_event(
                body, header(headers, SIGNATURE_HEADER), self.webhook_secret, TOLERANCE_SECONDS
            )
            data = json.loads(body)
            event_type = str(data["type"])
            obj = data["data"]["object"]
            return self._event(data, event_type, obj)
        except stripe.SignatureVerificationError:
            raise WebhookRejected("wrong, missing or stale signature") from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("not an event") from None

    def _event(self, data: dict[str, Any], event_type: str, obj: dict[str, Any]) -> ProviderEvent:
        kind = EventKind.OTHER
        ref = refund_ref = amount = currency = None
        if event_type.startswith("checkout.session."):
            ref = obj["id"]
            paid = event_type == "checkout.session.completed" and obj["payment_status"] == "paid"
            if paid or event_type in SUCCEEDED_TYPES:
                kind = EventKind.SUCCEEDED
            elif event_type in FAILED_TYPES:
                kind = EventKind.FAILED
        elif event_type in REFUND_TYPES and obj.get("object") == "refund":
            kind = REFUND_KINDS.get(obj["status"], EventKind.OTHER)
            refund_ref = obj["id"]
            ref = (obj.get("metadata") or {}).get("checkout_session")
            if ref is None and kind != EventKind.OTHER:
                ref = self._session_of(obj.get("payment_intent"))
        if kind != EventKind.OTHER and obj.get("currency"):
            currency = str(obj["currency"]).upper()
            stripe_amount = obj.get("amount_total", obj.get("amount"))
            amount = None if stripe_amount is None else from_stripe_amount(stripe_amount, currency)
        return ProviderEvent(
            event_id=str(data["id"]),
            kind=kind,
            provider_ref=ref,
            amount_minor=amount,
            currency=currency,
            refund_ref=refund_ref,
            raw_type=event_type,
            payload=data,
        )

    def _session_of(self, payment_intent: str | None) -> str | None:
        """The Checkout Session that made `payment_intent` (a refund made in the dashboard)."""
        if not payment_intent:
            return None
        try:
            sessions = self.client.v1.checkout.sessions.list(
                params={"payment_intent": payment_intent, "limit": 1}
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return sessions.data[0].id if sessions.data else None

    def refund(
        self, *, provider_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        try:
            session = self.client.v1.checkout.sessions.retrieve(provider_ref)
            if not session.payment_intent:
                raise ProviderError("Stripe: this checkout was never paid.", retryable=False)
            payment_intent = session.payment_intent
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": payment_intent
                    if isinstance(payment_intent, str)
                    else payment_intent.id,
                    "amount": to_stripe_amount(amount_minor, currency),
                    "metadata": {"checkout_session": provider_ref},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        succeeded = {"succeeded": True, "failed": False, "canceled": False}.get(refund.status or "")
        return RefundResult(refund_ref=refund.id, succeeded=succeeded)

    def lookup(self, provider_ref: str) -> Lookup:
        try:
            session = self.client.v1.checkout.sessions.retrieve(provider_ref)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        currency = (session.currency or "").upper() or None
        amount = session.amount_total
        if amount is not None and currency:
            amount = from_stripe_amount(amount, currency)
        if session.payment_status in ("paid", "no_payment_required"):
            state = PaymentState.SUCCEEDED
        elif session.status == "expired":
            state = PaymentState.FAILED
        else:
            state = PaymentState.PENDING
        return Lookup(state=state, amount_minor=amount, currency=currency)
