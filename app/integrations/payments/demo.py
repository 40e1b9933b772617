"""The demo provider: the site's own hosted checkout, so `make run` sells paid tickets with no
account anywhere. Never offered in production.

Its checkout page (`/pay/demo/<ref>`, app/web/payments/demo_checkout.py) lets the payer
succeed, fail or abandon; the choice becomes a provider event, signed like Stripe signs
(`Demo-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with a secret kept
under instance/) and delivered by the worker to `POST /webhooks/demo`: the path every real
provider's webhooks take. Refunds succeed at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.integrations.payments.base import (
    Checkout,
    CheckoutRequest,
    EventKind,
    Lookup,
    PaymentState,
    ProviderEvent,
    RefundResult,
    WebhookRejected,
)

SIGNATURE_HEADER = "Demo-Signature"
# The outbox topic whose messages the worker delivers to /webhooks/demo.
WEBHOOK_TOPIC = "payments.demo_webhook"
TOLERANCE_SECONDS = 300
KINDS = {kind.value: kind for kind in EventKind}


def secret_from(instance_dir: str | Path) -> str:
    """The demo's signing secret, made once and kept under instance/ (like the dev key)."""
    path = Path(instance_dir) / "demo_pay_secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = "demo_whsec_" + secrets.token_hex(24)
        path.write_text(secret)
        path.chmod(0o600)
        return secret


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def new_event(
    kind: EventKind, *, provider_ref: str, amount_minor: int, currency: str, **extra: Any
) -> dict[str, Any]:
    """A demo event as the demo provider sends it (`body` makes the bytes to sign)."""
    return {
        "id": "evt_demo_" + secrets.token_hex(12),
        "type": kind.value,
        "payment": provider_ref,
        "amount_minor": amount_minor,
        "currency": currency,
        **extra,
    }


def body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


class DemoProvider:
    name = "demo"
    label = "Demo card (no real money)"
    checkout_origins: tuple[str, ...] = ()  # its checkout is the site's own page

    def __init__(self, *, secret: str, base_url: str) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")

    def _ref(self, prefix: str, key: str) -> str:
        # The same idempotency key gives the same id: a retried call makes nothing new.
        digest = hmac.new(self.secret.encode(), key.encode(), hashlib.sha256).hexdigest()
        return f"{prefix}_{digest[:24]}"

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        ref = self._ref("demo", request.idempotency_key)
        return Checkout(provider_ref=ref, redirect_url=f"{self.base_url}/pay/demo/{ref}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        header = headers.get(SIGNATURE_HEADER) or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise WebhookRejected("missing or malformed signature") from None
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("stale signature")
        expected = sign(self.secret, body, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, given):
            raise WebhookRejected("wrong signature")
        try:
            data = json.loads(body)
            kind = KINDS.get(data["type"], EventKind.OTHER)
            return ProviderEvent(
                event_id=str(data["id"]),
                kind=kind,
                provider_ref=data.get("payment"),
                amount_minor=data.get("amount_minor"),
                currency=data.get("currency"),
                refund_ref=data.get("refund"),
                raw_type=str(data["type"]),
                payload=data,
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("not an event") from None

    def refund(
        self, *, provider_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        return RefundResult(refund_ref=self._ref("demo_re", idempotency_key), succeeded=True)

    def lookup(self, provider_ref: str) -> Lookup:
        # The demo delivers its events through the outbox, which retries until they land: it
        # never loses one, so there is nothing to find out by asking.
        return Lookup(state=PaymentState.PENDING)
