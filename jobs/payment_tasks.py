"""Payment work for the worker: sending refunds, refunding a cancelled event, asking providers
about payments still pending, and delivering the demo provider's webhooks.

The outbox handlers get the delivering transaction's session and the app's settings; each is
idempotent (a refund carries its idempotency key, provider events are recorded once).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.payments import refunds
from app.domain.payments.events import apply_lookup
from app.domain.payments.models import Payment, PaymentStatus, Refund
from app.domain.payments.reconciliation import request_reconciliation
from app.integrations.payments import configured_providers
from app.integrations.payments.base import (
    PaymentProvider,
    ProviderError,
)
from app.integrations.payments.demo import SIGNATURE_HEADER, DemoProvider, sign
from app.integrations.payments.demo import body as demo_body

log = logging.getLogger(__name__)

# Payments older than this are not looked up any more (their holds are long over; a success
# that still arrives by webhook is handled, and refunded, like any late one).
RECONCILE_WINDOW = timedelta(days=2)
RECONCILE_BATCH = 100


def _provider(config: Mapping[str, Any], name: str) -> PaymentProvider:
    provider = configured_providers(config).get(name)
    if provider is None:
        raise ProviderError(f"the {name} provider is not set up")
    return provider


def send_refund(session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    refund = session.get(Refund, payload["refund_id"])
    if refund is None:
        return
    payment = session.get(Payment, refund.payment_id)
    assert payment is not None
    provider = _provider(config, payment.provider)

    def call(payment: Payment, refund: Refund) -> tuple[str, bool | None]:
        if not payment.provider_ref:
            raise ProviderError("the payment has no provider id", retryable=False)
        result = provider.refund(
            provider_ref=payment.provider_ref,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            idempotency_key=refund.idempotency_key,
        )
        return result.refund_ref, result.succeeded

    try:
        refunds.send_refund(session, refund.id, call, now=utcnow())
    except ProviderError as error:
        if error.retryable:
            raise
        locked = session.get(Refund, refund.id, with_for_update=True)
        assert locked is not None
        refunds.settle_refund(
            session, locked, payment, succeeded=False, now=utcnow(), failure=str(error)
        )


def refund_cancelled_event(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]
) -> None:
    refunds.refund_cancelled_event(session, int(payload["event_id"]), now=utcnow())


def queue_reconciliation(session: Session, now: datetime) -> int:
    """A schedule: when payments have been pending too long, ask for a reconciliation (once
    at a time: no new request while one waits)."""
    due = session.scalar(
        select(
            exists().where(
                Payment.status == PaymentStatus.PENDING,
                Payment.provider_ref.is_not(None),
                Payment.created_at > now - RECONCILE_WINDOW,
            )
        )
    )
    if not due:
        return 0
    return 0 if request_reconciliation(session, now=now) is None else 1


def reconcile(session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """Ask each provider about its payments pending for longer than
    PAYMENT_RECONCILE_AFTER_SECONDS; what it says goes through `apply_event` like a webhook
    (recorded once under an id of its own)."""
    now = utcnow()
    after = timedelta(seconds=int(config["PAYMENT_RECONCILE_AFTER_SECONDS"]))
    providers = configured_providers(config)
    pending = session.scalars(
        select(Payment)
        .where(
            Payment.status == PaymentStatus.PENDING,
            Payment.provider_ref.is_not(None),
            Payment.created_at <= now - after,
            Payment.created_at > now - RECONCILE_WINDOW,
            Payment.provider.in_(list(providers)),
        )
        .order_by(Payment.created_at)
        .limit(RECONCILE_BATCH)
    ).all()
    for payment in pending:
        assert payment.provider_ref is not None
        try:
            found = providers[payment.provider].lookup(payment.provider_ref)
        except ProviderError as error:
            log.warning("lookup of payment %s failed: %s", payment.id, error)
            continue
        with session.begin_nested():
            apply_lookup(session, payment, found, now=now)


def deliver_demo_webhook(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]
) -> None:
    """POST a demo event, signed now, to this site's webhook endpoint (BASE_URL)."""
    demo = _provider(config, "demo")
    assert isinstance(demo, DemoProvider)
    data = demo_body(payload["event"])
    request = urllib.request.Request(  # noqa: S310 - BASE_URL is the site's own address
        config["BASE_URL"].rstrip("/") + "/webhooks/demo",
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(demo.secret, data),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise ProviderError(f"the webhook answered {response.status}")
