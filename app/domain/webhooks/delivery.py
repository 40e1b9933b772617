"""Sending queued webhook deliveries: claim one under a lease, POST it signed, record what
happened. The lease, its fencing by attempt number and the backoff are the notifications'
(app/domain/notifications/delivery.py, whose docstring states the guarantees): at least once,
a repeat carrying the same `Webhook-Id`, so a receiver can drop it.

The signature is Standard Webhooks': `Webhook-Signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>">` with the key in the endpoint's secret. A 2xx answer delivers;
410 Gone disables the endpoint (and fails the delivery); any other answer, a redirect (never
followed), a timeout or a network error is tried again with exponential backoff, up to
`MAX_ATTEMPTS`, then the delivery fails for its owner to send again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.domain.notifications.delivery import retry_delay
from app.domain.webhooks.endpoints import signing_key
from app.domain.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    message_id_of,
)
from app.domain.webhooks.targets import TargetRefused, check_url
from app.observability import metrics

MAX_ATTEMPTS = 12  # the backoff (30 s doubling, at most an hour) spreads them over about 5 hours
LEASE_SECONDS = 60  # far longer than a send may take (the timeout is a few seconds)


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int  # the fencing token: the outcome is written only while it is still this
    endpoint_id: int
    message_id: str
    payload: dict[str, Any]
    url: str
    secret: str
    active: bool


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    retry: bool = True  # when not delivered: may a later try succeed?
    gone: bool = False  # 410: the receiver wants no more


_CLAIM = text(
    """
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, next_try_at = :lease_end
    FROM webhook_endpoints e
    WHERE d.id = (SELECT id FROM webhook_deliveries WHERE status = 'pending'
                  AND next_try_at <= :now ORDER BY next_try_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      AND e.id = d.endpoint_id
    RETURNING d.id, d.attempts, d.key, d.payload, e.id AS endpoint_id, e.url, e.secret, e.active
    """
)


def claim_next(session: Session, *, now: datetime) -> Claim | None:
    """Lease the earliest due delivery to this worker; the caller commits at once."""
    row = session.execute(
        _CLAIM, {"now": now, "lease_end": now + timedelta(seconds=LEASE_SECONDS)}
    ).one_or_none()
    if row is None:
        return None
    return Claim(
        id=row.id,
        attempt=row.attempts,
        endpoint_id=row.endpoint_id,
        message_id=message_id_of(row.key),
        payload=row.payload,
        url=row.url,
        secret=row.secret,
        active=row.active,
    )


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def send(claim: Claim, config: Mapping[str, Any], *, now: datetime) -> Outcome:
    """POST the claimed delivery to its endpoint (no transaction is open meanwhile)."""
    if not claim.active:
        return Outcome(False, error="The endpoint is disabled.", retry=False)
    try:
        check_url(claim.url, allow_private=bool(config.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS")))
    except TargetRefused as refused:
        return Outcome(False, error=f"Refused: {refused}", retry=False)
    body = body_bytes(claim.payload)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "EventHall-Webhooks/1",
        "Webhook-Id": claim.message_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(claim.secret, claim.message_id, timestamp, body),
    }
    try:
        with requests.post(
            claim.url,
            data=body,
            headers=headers,
            timeout=float(config.get("WEBHOOK_TIMEOUT_SECONDS", 5)),
            allow_redirects=False,
            stream=True,  # the answer's body is never read
        ) as response:
            code = response.status_code
    except requests.Timeout:
        return Outcome(False, error="Timed out.")
    except requests.RequestException as error:
        return Outcome(False, error=f"{type(error).__name__}: {error}"[:500])
    if 200 <= code < 300:
        return Outcome(True, status_code=code)
    if code == 410:
        return Outcome(False, status_code=code, error="410 Gone: endpoint disabled.", gone=True)
    if 300 <= code < 400:
        return Outcome(False, status_code=code, error=f"{code}: redirects are not followed.")
    return Outcome(False, status_code=code, error=f"The endpoint answered {code}.")


def record(session: Session, claim: Claim, outcome: Outcome, *, now: datetime) -> bool:
    """Write the outcome while the lease is still `claim`'s (False when it was lost)."""
    values: dict[str, Any] = {"last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.delivered:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None)
        result = "delivered"
    elif outcome.retry and not outcome.gone and claim.attempt < MAX_ATTEMPTS:
        values.update(next_try_at=now + retry_delay(claim.attempt))
        result = "retry"
    else:
        values.update(status=DeliveryStatus.FAILED)
        result = "failed"
    written = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claim.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.attempts == claim.attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not written:
        return False
    metrics.count(session, metrics.WEBHOOK_DELIVERIES.labels(result))
    endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == claim.endpoint_id)
    if outcome.delivered:
        session.execute(endpoint.values(failure_count=0))
    elif outcome.gone:
        session.execute(
            endpoint.where(WebhookEndpoint.active).values(
                active=False,
                disabled_at=now,
                disabled_reason="The endpoint answered 410 Gone.",
                failure_count=WebhookEndpoint.failure_count + 1,
            )
        )
    elif claim.active:
        session.execute(endpoint.values(failure_count=WebhookEndpoint.failure_count + 1))
    return True
