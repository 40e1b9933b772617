"""The organizer's webhooks page over HTTP: add an endpoint (its secret shown this once), bad
input refused with a clear message changing nothing, rotate, disable, enable, test, send a
failed delivery again, delete; audited; another organizer's ids are not found."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

URL = "https://hooks.example.test/in"
PAGE = "/organizer/webhooks/"


def _secret_on(page: bytes) -> str | None:
    found = re.search(rb'id="new-secret" type="text" value="(whsec_[^"]+)"', page)
    return found.group(1).decode() if found else None


def _fresh(db: Session) -> None:
    """See what the requests committed (the session keeps its objects across commits)."""
    db.rollback()
    db.expire_all()


def _endpoints(db: Session) -> list[WebhookEndpoint]:
    _fresh(db)
    return list(db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


@pytest.fixture
def owner(client: FlaskClient, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user(role=Role.ORGANIZER)
    login_as(client, user)
    return user


def _add(client: FlaskClient, **data: object):  # noqa: ANN202
    return client.post(PAGE, data={"url": URL, "events": ["booking.confirmed"], **data})


def test_adding_shows_the_secret_once(client: FlaskClient, db: Session, owner) -> None:  # noqa: ANN001
    answer = _add(client, events=["booking.confirmed", "ticket.checked_in"])
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    secret = _secret_on(answer.data)
    (endpoint,) = _endpoints(db)
    assert secret == endpoint.secret
    assert endpoint.events == ["booking.confirmed", "ticket.checked_in"]
    page = client.get(PAGE)
    assert URL.encode() in page.data and secret.encode() not in page.data
    assert _secret_on(page.data) is None

    rotated = client.post(f"{PAGE}{endpoint.id}/rotate")
    assert rotated.status_code == 200
    new = _secret_on(rotated.data)
    assert new and new != secret and _endpoints(db)[0].secret == new


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "not a url"}, b"Enter an address starting with https://"),
        ({"url": "javascript:alert(1)"}, b"Enter an address starting with https://"),
        ({"url": ""}, b"Enter the address to send events to."),
        ({"url": "https://x.example.test/" + "a" * 600}, b"The address is too long"),
        ({"url": "http://127.0.0.1/admin"}, b"The address must be on the public internet."),
        ({"events": []}, b"Choose at least one event."),
        ({"events": ["booking.confirmed", "user.deleted"]}, b"Choose events from the list."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client: FlaskClient,
    db: Session,
    owner,
    data: dict,
    message: bytes,  # noqa: ANN001
) -> None:
    answer = _add(client, **data)
    assert answer.status_code == 422
    assert message in answer.data
    assert b'class="error"' in answer.data
    assert _endpoints(db) == []
    assert db.scalars(select(AuditEntry)).all() == []


def test_disable_enable_test_resend_and_delete_are_audited(  # noqa: ANN001
    client: FlaskClient, db: Session, owner
) -> None:
    _add(client)
    (endpoint,) = _endpoints(db)
    base = f"{PAGE}{endpoint.id}"
    assert client.post(f"{base}/test").status_code == 303
    delivery = db.scalars(select(WebhookDelivery)).one()
    assert delivery.event_type == "webhook.test"
    # Only a failed delivery is sent again.
    refused = client.post(f"{PAGE}deliveries/{delivery.id}/resend")
    assert refused.status_code == 409 and b"Only a failed delivery" in refused.data
    db.execute(text("UPDATE webhook_deliveries SET status = 'failed', attempts = 8"))
    db.commit()
    page = client.get(PAGE)
    assert b"Send again" in page.data
    assert client.post(f"{PAGE}deliveries/{delivery.id}/resend").status_code == 303
    _fresh(db)
    assert db.get(WebhookDelivery, delivery.id).status == DeliveryStatus.PENDING

    assert client.post(f"{base}/disable").status_code == 303
    assert not _endpoints(db)[0].active
    assert b"Disabled by you." in client.get(PAGE).data
    refused = client.post(f"{base}/test")
    assert refused.status_code == 409 and b"Enable the endpoint first." in refused.data
    assert client.post(f"{base}/enable").status_code == 303
    assert _endpoints(db)[0].active
    assert client.post(f"{base}/delete").status_code == 303
    assert _endpoints(db) == []
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "webhook.created",
        "webhook.test_sent",
        "webhook.resent",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.deleted",
    ]


def test_another_organizers_endpoint_is_not_found(  # noqa: ANN001
    app: Flask, client: FlaskClient, db: Session, owner, make_user, login_as
) -> None:
    _add(client)
    (endpoint,) = _endpoints(db)
    stranger = app.test_client()
    login_as(stranger, make_user(role=Role.ORGANIZER))
    for action in ("rotate", "disable", "enable", "test", "delete"):
        assert stranger.post(f"{PAGE}{endpoint.id}/{action}").status_code == 404
    assert URL.encode() not in stranger.get(PAGE).data
    assert _endpoints(db)[0].secret == endpoint.secret and _endpoints(db)[0].active
