"""What every payment provider does for the site, in the site's terms.

A provider adapter turns these calls into the provider's API (through its SDK) and the
provider's webhooks into `ProviderEvent`s. Amounts are integer minor units with an ISO
currency (`app.domain.money`); the adapter converts where its API wants something else.
Adapters hold no database state: the payments domain (`app.domain.payments`) decides what an
event means for a booking.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider refused a call or could not be reached; `retryable` says whether trying
    again (with the same idempotency key) may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class WebhookRejected(Exception):
    """A webhook whose signature is missing, wrong or stale, or whose body is not an event."""


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int
    booking_reference: str
    amount_minor: int
    currency: str
    description: str
    buyer_email: str | None
    # Where the provider sends the buyer back (our return page) or when they give up.
    return_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True)
class Checkout:
    # The provider's id of this payment: a webhook names it, a lookup asks by it.
    provider_ref: str
    # Where the buyer pays: the provider's hosted page (None: paid on our page, `page_data`).
    redirect_url: str | None
    page_data: Mapping[str, Any] = field(default_factory=dict)


class EventKind(enum.StrEnum):
    SUCCEEDED = "payment.succeeded"
    FAILED = "payment.failed"
    REFUNDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    OTHER = "other"  # a type we do not act on: recorded, answered 200


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str  # the provider's id of the event: recorded once
    kind: EventKind
    provider_ref: str | None  # the payment it is about (see `Checkout.provider_ref`)
    amount_minor: int | None = None
    currency: str | None = None
    refund_ref: str | None = None  # for refund events: the provider's id of the refund
    raw_type: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


class PaymentState(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Lookup:
    """What the provider says of a payment when asked (webhooks get lost)."""

    state: PaymentState
    amount_minor: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_ref: str
    # True: done; False: refused; None: accepted, its outcome comes by webhook.
    succeeded: bool | None


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header by name, whatever its case ('' when absent): a framework's headers
    are case-insensitive, a plain dict is not."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value or ""


class PaymentProvider(Protocol):
    name: str  # as stored in payments.provider and in /webhooks/<name>
    label: str  # what the buyer reads: "Card (Stripe)"
    # The origins of its hosted checkout: a form whose answer redirects there needs them in
    # its page's CSP `form-action` (browsers check redirects of a form's navigation too).
    checkout_origins: tuple[str, ...]

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify the signature with the provider's SDK and read the event (WebhookRejected)."""
        ...

    def refund(
        self, *, provider_ref: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult: ...

    def lookup(self, provider_ref: str) -> Lookup: ...
