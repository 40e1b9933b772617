"""An organizer's webhook endpoints: register, rotate the secret, disable and enable, delete,
and the deliveries they got (sent again, or a test event). Only the owner reaches an endpoint:
anyone else's id is `NotFound`. Every change is audited."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts.models import User
from app.domain.base import DomainError, NotFound
from app.domain.webhooks.emit import message
from app.domain.webhooks.models import (
    TEST_EVENT,
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.domain.webhooks.targets import TargetRefused, check_url

MAX_ENDPOINTS = 10
MAX_URL_LENGTH = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


class WebhookError(DomainError):
    """A rule about an endpoint refused the request; `field` names the form field."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


@dataclass(frozen=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str  # shown to its owner this once


def new_secret() -> str:
    """Standard Webhooks' form: "whsec_" and the base64 of the key's 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def clean_url(url: str, *, allow_private: bool) -> str:
    url = url.strip()
    if not url:
        raise WebhookError("Enter the address to send events to.", code="invalid_url", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookError(
            f"The address is too long (at most {MAX_URL_LENGTH} characters).",
            code="invalid_url",
            field="url",
        )
    try:
        check_url(url, allow_private=allow_private, resolve=False)
    except TargetRefused as refused:
        raise WebhookError(str(refused), code="invalid_url", field="url") from None
    return url


def clean_events(events: Sequence[str]) -> list[str]:
    known = {e.value for e in EventType}
    chosen = sorted(set(events))
    if not chosen:
        raise WebhookError("Choose at least one event.", code="no_events", field="events")
    if not set(chosen) <= known:
        raise WebhookError("Choose events from the list.", code="unknown_event", field="events")
    return chosen


def create(
    session: Session,
    owner: User,
    *,
    url: str,
    events: Sequence[str],
    allow_private: bool,
    now: datetime,
) -> Created:
    """Register an endpoint for `events`; its secret is returned this once."""
    url = clean_url(url, allow_private=allow_private)
    chosen = clean_events(events)
    count = session.scalar(select(func.count()).where(WebhookEndpoint.organizer_id == owner.id))
    if (count or 0) >= MAX_ENDPOINTS:
        raise WebhookError(
            f"You have {MAX_ENDPOINTS} endpoints already: delete one first.", code="too_many"
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        organizer_id=owner.id,
        url=url,
        events=chosen,
        secret=secret,
        active=True,
        failure_count=0,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session, "webhook.created", actor_id=owner.id, target=endpoint, now=now, url=url,
        events=chosen,
    )  # fmt: skip
    return Created(endpoint, secret)


def endpoint_of(session: Session, owner: User, endpoint_id: int) -> WebhookEndpoint:
    """The owner's endpoint, locked; anyone else's is not found."""
    endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None or endpoint.organizer_id != owner.id:
        raise NotFound("We could not find that endpoint.")
    return endpoint


def rotate_secret(session: Session, owner: User, endpoint_id: int, *, now: datetime) -> Created:
    """A new secret signs every send from now on, retries of older events too."""
    endpoint = endpoint_of(session, owner, endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    audit.record(session, "webhook.secret_rotated", actor_id=owner.id, target=endpoint, now=now)
    return Created(endpoint, endpoint.secret)


def set_active(
    session: Session, owner: User, endpoint_id: int, *, active: bool, now: datetime
) -> WebhookEndpoint:
    """Disable an endpoint (nothing is queued for it, nor sent), or enable it again with its
    failure count reset. Doing what is already done changes nothing."""
    endpoint = endpoint_of(session, owner, endpoint_id)
    if endpoint.active == active:
        return endpoint
    endpoint.active = active
    endpoint.disabled_at = None if active else now
    endpoint.disabled_reason = None if active else "Disabled by you."
    if active:
        endpoint.failure_count = 0
    session.flush()
    action = "webhook.enabled" if active else "webhook.disabled"
    audit.record(session, action, actor_id=owner.id, target=endpoint, now=now)
    return endpoint


def delete(session: Session, owner: User, endpoint_id: int, *, now: datetime) -> str:
    """Delete an endpoint and its deliveries; its URL, for the message."""
    endpoint = endpoint_of(session, owner, endpoint_id)
    url = endpoint.url
    audit.record(session, "webhook.deleted", actor_id=owner.id, target=endpoint, now=now, url=url)
    session.delete(endpoint)
    session.flush()
    return url


def send_test(session: Session, owner: User, endpoint_id: int, *, now: datetime) -> WebhookDelivery:
    """Queue a `webhook.test` event to the endpoint (it must be enabled)."""
    endpoint = endpoint_of(session, owner, endpoint_id)
    if not endpoint.active:
        raise WebhookError("Enable the endpoint first.", code="disabled")
    message_id = f"{TEST_EVENT}:{uuid.uuid4().hex}"
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type=TEST_EVENT,
        key=f"{message_id}:{endpoint.id}",
        payload=message(TEST_EVENT, message_id, {"endpoint_id": endpoint.id}, now),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_try_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    audit.record(session, "webhook.test_sent", actor_id=owner.id, target=endpoint, now=now)
    return delivery


def send_again(
    session: Session, owner: User, delivery_id: int, *, now: datetime
) -> WebhookDelivery:
    """Queue a failed delivery again with fresh tries (same id and body: the receiver can
    tell a repeat); its endpoint must be enabled."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    endpoint = None if delivery is None else session.get(WebhookEndpoint, delivery.endpoint_id)
    if delivery is None or endpoint is None or endpoint.organizer_id != owner.id:
        raise NotFound("We could not find that delivery.")
    if delivery.status != DeliveryStatus.FAILED:
        raise WebhookError("Only a failed delivery can be sent again.", code="not_failed")
    if not endpoint.active:
        raise WebhookError("Enable the endpoint first.", code="disabled")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_try_at = now
    session.flush()
    audit.record(
        session, "webhook.resent", actor_id=owner.id, target=endpoint, now=now,
        delivery_id=delivery.id,
    )  # fmt: skip
    return delivery


def endpoints(session: Session, owner: User) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.organizer_id == owner.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def recent_deliveries(session: Session, owner: User, *, limit: int = 20) -> list[WebhookDelivery]:
    """The owner's latest deliveries, over all endpoints, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookEndpoint.organizer_id == owner.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
