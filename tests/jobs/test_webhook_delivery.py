"""Sending webhooks for real, to a receiver on 127.0.0.1: signed, retried with backoff on a
controlled clock, never redirected, disabled by 410, refused on a private address unless the
settings allow it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.webhooks import delivery, endpoints
from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from jobs.webhooks import deliver_due
from tests.factories.webhooks import HANG, Receiver


@pytest.fixture
def config(app: Flask) -> dict[str, Any]:
    return {**app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS": True, "WEBHOOK_TIMEOUT_SECONDS": 0.5}


@pytest.fixture
def queued(db: Session, now: datetime, make_user, receiver: Receiver):  # noqa: ANN001, ANN201
    """A test event queued (committed) for an endpoint at the receiver; (endpoint, secret)."""
    owner = make_user(role=Role.ORGANIZER)
    created = endpoints.create(
        db, owner, url=receiver.url, events=["booking.confirmed"], allow_private=True, now=now
    )
    endpoints.send_test(db, owner, created.endpoint.id, now=now)
    db.commit()
    return created.endpoint, created.secret


def _run(app: Flask, config: dict[str, Any], now: datetime) -> int:
    return deliver_due(app.extensions["db"].session, config, now=now)


def _delivery(db: Session) -> WebhookDelivery:
    db.expire_all()
    return db.query(WebhookDelivery).one()


def test_a_delivery_is_posted_signed_and_delivered(app, db, now, config, queued, receiver):  # noqa: ANN001
    endpoint, secret = queued
    assert _run(app, config, now) == 1
    (request,) = receiver.received
    assert request.signed_by(secret)
    assert not request.signed_by(endpoints.new_secret())
    body = json.loads(request.body)
    assert body["type"] == "webhook.test" and body["id"] == request.headers["webhook-id"]
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert request.headers["content-type"] == "application/json"
    sent = _delivery(db)
    assert (sent.status, sent.attempts, sent.delivered_at) == (DeliveryStatus.DELIVERED, 1, now)
    assert sent.last_status_code == 200
    assert _run(app, config, now + timedelta(hours=2)) == 0  # delivered once


def test_a_500_is_retried_after_the_backoff_then_delivered(app, db, now, config, queued, receiver):  # noqa: ANN001
    endpoint, secret = queued
    receiver.answer(500, 200)
    assert _run(app, config, now) == 1
    failed = _delivery(db)
    assert (failed.status, failed.attempts, failed.last_status_code) == (
        DeliveryStatus.PENDING, 1, 500,
    )  # fmt: skip
    assert failed.next_try_at == now + timedelta(seconds=30)
    assert db.get(WebhookEndpoint, endpoint.id).failure_count == 1
    assert _run(app, config, now + timedelta(seconds=29)) == 0  # not due yet
    assert _run(app, config, now + timedelta(seconds=30)) == 1
    sent = _delivery(db)
    assert (sent.status, sent.attempts) == (DeliveryStatus.DELIVERED, 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body and second.signed_by(secret)
    assert db.get(WebhookEndpoint, endpoint.id).failure_count == 0


def test_out_of_tries_fails(app, db, now, config, queued, receiver):  # noqa: ANN001
    db.query(WebhookDelivery).update({"attempts": delivery.MAX_ATTEMPTS - 1})
    db.commit()
    receiver.answer(503)
    assert _run(app, config, now) == 1
    failed = _delivery(db)
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, delivery.MAX_ATTEMPTS)
    assert failed.last_error == "The endpoint answered 503."


def test_410_disables_the_endpoint(app, db, now, config, queued, receiver):  # noqa: ANN001
    endpoint, _secret = queued
    receiver.answer(410)
    assert _run(app, config, now) == 1
    assert _delivery(db).status == DeliveryStatus.FAILED
    gone = db.get(WebhookEndpoint, endpoint.id)
    assert not gone.active and gone.disabled_at == now
    assert gone.disabled_reason == "The endpoint answered 410 Gone."


def test_a_redirect_is_not_followed(app, db, now, config, queued, receiver):  # noqa: ANN001
    receiver.answer(302)
    assert _run(app, config, now) == 1
    assert [r.path for r in receiver.received] == ["/hook"]
    pending = _delivery(db)
    assert (pending.status, pending.last_status_code) == (DeliveryStatus.PENDING, 302)
    assert "redirects are not followed" in (pending.last_error or "")


def test_a_timeout_is_retried(app, db, now, config, queued, receiver):  # noqa: ANN001
    receiver.answer(HANG)
    assert _run(app, config, now) == 1
    receiver.release()
    pending = _delivery(db)
    assert (pending.status, pending.attempts, pending.last_error) == (
        DeliveryStatus.PENDING, 1, "Timed out.",
    )  # fmt: skip
    assert pending.next_try_at == now + timedelta(seconds=30)


def test_a_private_address_is_refused_unless_allowed(app, db, now, config, queued, receiver):  # noqa: ANN001
    assert _run(app, {**config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS": False}, now) == 1
    assert receiver.received == []
    refused = _delivery(db)
    assert refused.status == DeliveryStatus.FAILED
    assert refused.last_error == "Refused: The address must be on the public internet."


def test_a_disabled_endpoint_gets_nothing(app, db, now, config, queued, receiver):  # noqa: ANN001
    endpoint, _secret = queued
    db.get(WebhookEndpoint, endpoint.id).active = False
    db.commit()
    assert _run(app, config, now) == 1
    assert receiver.received == []
    assert _delivery(db).status == DeliveryStatus.FAILED


def test_an_unreachable_endpoint_is_retried(app, db, now, config, queued, receiver):  # noqa: ANN001
    endpoint, _secret = queued
    db.get(WebhookEndpoint, endpoint.id).url = "http://127.0.0.1:9/closed"
    db.commit()
    assert _run(app, config, now) == 1
    pending = _delivery(db)
    assert pending.status == DeliveryStatus.PENDING and "ConnectionError" in pending.last_error
