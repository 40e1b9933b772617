"""Sending push notifications for real: Web Push to a push service on 127.0.0.1 whose test
holds each browser's private key, so the VAPID signature is verified and the aes128gcm body
(RFC 8291) decrypted; Firebase Cloud Messaging through `firebase-admin` to a local stand-in of
FCM and of Google's token endpoint."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.notifications import fan_out, messages, push
from app.domain.notifications.models import (
    Channel,
    FailingAddress,
    Notification,
    NotificationStatus,
)
from app.domain.notifications.push_models import DeviceToken, PushSubscription
from app.domain.notifications.queue import notify
from app.integrations import push_web
from app.integrations.push_web import b64url_decode
from jobs.notifications import deliver_due
from tests.factories.push import Browser
from tests.integrations.fake_api import FakeAPI, Recorded, serve

PROJECT = "eventhall-test"


@pytest.fixture
def push_service() -> Iterator[FakeAPI]:
    """A push service: every subscription is /push/<name>, accepted (201) unless a route says."""
    for api in serve():
        api.route("POST", r"/push/\w+", (201, {}))
        yield api


def _verify_vapid(request: Recorded, config: dict, audience: str) -> dict:
    """The Authorization header is `vapid t=<JWT>,k=<key>` (RFC 8292): the key is the site's,
    the JWT is ES256-signed by it for the push service's origin; its claims."""
    scheme, _, params = (request.header("Authorization") or "").partition(" ")
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    keys = push_web.vapid_keys(config)
    assert keys is not None and fields["k"] == keys.public_key
    head, claims, signature = fields["t"].split(".")
    assert json.loads(b64url_decode(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = b64url_decode(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64url_decode(fields["k"])
    )
    public.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{head}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    decoded = json.loads(b64url_decode(claims))
    assert decoded["aud"] == audience
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    return decoded


def _deliver(app: Flask, now: datetime) -> int:
    return deliver_due(app.extensions["db"].session, app.config, now=now)


def _booking(app: Flask, db: Session, make_seated_booking, make_user, now: datetime):  # noqa: ANN001, ANN202
    """A user with a booking whose own messages (its confirmation) are out of the way."""
    user = make_user()
    booking = make_seated_booking(buyer=user, quantity=1)
    db.commit()
    _deliver(app, now)
    return user, booking


def _queue_push(db: Session, user_id: int, booking_id: int, now: datetime, n: int = 0) -> int:
    notify(
        db,
        key=f"test:{booking_id}:{n}:booking_cancelled:push",
        kind="booking_cancelled",
        channel=Channel.PUSH,
        now=now,
        user_id=user_id,
        recipient="browser",
        payload={"booking_id": booking_id},
    )
    db.commit()
    return db.scalar(
        select(Notification.id)
        .where(Notification.channel == Channel.PUSH)
        .order_by(Notification.id.desc())
    )


def _row(db: Session, notification_id: int) -> Notification:
    db.expire_all()
    row = db.get(Notification, notification_id)
    assert row is not None
    return row


def _subscribe(db: Session, user_id: int, browser: Browser, now: datetime) -> int:
    row = push.subscribe(
        db,
        user_id,
        push.parse_subscription(browser.subscription_json(), allow_local=True),
        label="Firefox on Linux",
        limit=10,
        now=now,
    )
    db.commit()
    return row.id


def test_a_push_reaches_the_browser_encrypted_and_signed_with_the_sites_vapid_key(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    browser = Browser(f"{push_service.base_url}/push/firefox")
    subscription_id = _subscribe(db, user.id, browser, now)
    notification_id = _queue_push(db, user.id, booking.id, now)

    assert _deliver(app, now) == 1

    assert _row(db, notification_id).status is NotificationStatus.SENT
    [request] = push_service.sent("POST", "/push/firefox")
    claims = _verify_vapid(request, app.config, push_service.base_url)
    assert claims["sub"] == "mailto:no-reply@eventhall.local"
    assert int(request.header("TTL") or 0) > 0
    expected = messages.short(db, "booking_cancelled", app.config, {"booking_id": booking.id}, now)
    assert browser.read(request) == {
        "title": expected.title,
        "body": expected.text,
        "url": expected.url,
    }
    assert f"Booking {booking.reference} is cancelled" == expected.title
    kept = db.get(PushSubscription, subscription_id)
    assert kept is not None and kept.last_notification_id == notification_id
    assert kept.last_success_at is not None and kept.last_error is None


def test_a_booking_confirmation_is_passed_on_to_a_subscribed_browser(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user = make_user()
    browser = Browser(f"{push_service.base_url}/push/chrome")
    _subscribe(db, user.id, browser, now)
    booking = make_seated_booking(buyer=user, quantity=1)
    db.commit()

    _deliver(app, now)  # the mail and the in-app copy; the copy queues the push
    _deliver(app, now)

    [request] = push_service.sent("POST", "/push/chrome")
    message = browser.read(request)
    assert booking.reference in message["url"] and message["title"]
    db.expire_all()
    pushed = db.scalars(select(Notification).where(Notification.channel == Channel.PUSH)).one()
    assert pushed.kind == "booking_confirmed" and pushed.status is NotificationStatus.SENT


def test_a_gone_subscription_is_forgotten_and_the_others_still_get_the_message(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    gone = _subscribe(db, user.id, Browser(f"{push_service.base_url}/push/old"), now)
    live = Browser(f"{push_service.base_url}/push/phone")
    kept = _subscribe(db, user.id, live, now)
    push_service.route("POST", "/push/old", (410, {}))
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    assert _row(db, notification_id).status is NotificationStatus.SENT
    assert db.get(PushSubscription, gone) is None
    assert db.get(PushSubscription, kept) is not None
    assert live.read(push_service.sent("POST", "/push/phone")[0])["url"]


def test_when_every_subscription_is_gone_the_message_is_skipped_and_the_user_unreachable(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    _subscribe(db, user.id, Browser(f"{push_service.base_url}/push/old"), now)
    push_service.route("POST", "/push/old", (404, {}))
    notification_id = _queue_push(db, user.id, booking.id, now)
    assert push.reach(db, user.id) == "browser"

    _deliver(app, now)

    row = _row(db, notification_id)
    assert row.status is NotificationStatus.SKIPPED
    assert "unsubscribed" in (row.last_error or "")
    assert push.reach(db, user.id) is None
    assert fan_out.REACH[Channel.PUSH] is push.reach


def test_a_push_service_error_is_retried_for_the_browsers_that_did_not_get_it(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    _subscribe(db, user.id, Browser(f"{push_service.base_url}/push/laptop"), now)
    down = _subscribe(db, user.id, Browser(f"{push_service.base_url}/push/tablet"), now)
    push_service.route("POST", "/push/tablet", (500, {}))
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    row = _row(db, notification_id)
    assert row.status is NotificationStatus.PENDING and row.due_at > now
    assert "1 of 2 devices unreachable" in (row.last_error or "")
    failing = db.get(PushSubscription, down)
    assert failing is not None and "500" in (failing.last_error or "")

    push_service.route("POST", "/push/tablet", (201, {}))
    _deliver(app, row.due_at)

    assert _row(db, notification_id).status is NotificationStatus.SENT
    assert len(push_service.sent("POST", "/push/laptop")) == 1  # not pushed again
    assert len(push_service.sent("POST", "/push/tablet")) == 2
    db.expire_all()
    assert db.get(PushSubscription, down).last_error is None


def test_an_unreachable_push_service_is_a_temporary_failure(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    with FakeAPI() as closed:  # started and stopped: nothing listens on its port any more
        endpoint = f"{closed.base_url}/push/nobody"
    _subscribe(db, user.id, Browser(endpoint), now)
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    row = _row(db, notification_id)
    assert row.status is NotificationStatus.PENDING and "ConnectionError" in (row.last_error or "")


def test_a_user_without_browsers_is_not_reached_and_a_queued_push_is_skipped(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    assert push.reach(db, user.id) is None
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    assert _row(db, notification_id).status is NotificationStatus.SKIPPED


def test_development_vapid_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    config = {"APP_ENV": "development", "INSTANCE_DIR": str(tmp_path), "MAIL_FROM": "a@b.test"}
    first = push_web.vapid_keys(config)
    again = push_web.vapid_keys(config)
    assert first is not None and again is not None and first.public_key == again.public_key
    assert oct(os.stat(tmp_path / "vapid_private_key").st_mode & 0o777) == "0o600"
    assert len(b64url_decode(first.public_key)) == 65
    assert push_web.vapid_keys({**config, "APP_ENV": "production"}) is None
    configured = push_web.vapid_keys(
        {**config, "VAPID_PRIVATE_KEY": (tmp_path / "vapid_private_key").read_text()}
    )
    assert configured is not None and configured.public_key == first.public_key
    with pytest.raises(RuntimeError, match="public half"):
        push_web.vapid_keys(
            {**config, "VAPID_PRIVATE_KEY": "x" * 43, "VAPID_PUBLIC_KEY": first.public_key}
        )


# --- Firebase Cloud Messaging ---------------------------------------------------------------


@pytest.fixture
def fcm(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    """FCM and Google's OAuth token endpoint on 127.0.0.1, and a service account naming it."""
    for api in serve():
        api.route(
            "POST",
            "/token",
            (200, {"access_token": "ya29.test", "expires_in": 3600, "token_type": "Bearer"}),
        )
        api.route(
            "POST",
            rf"/v1/projects/{PROJECT}/messages:send",
            (200, {"name": f"projects/{PROJECT}/messages/1"}),
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        account = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "test",
            "private_key": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": f"{api.base_url}/token",
        }
        path = tmp_path / "service-account.json"
        path.write_text(json.dumps(account))
        monkeypatch.setitem(app.config, "FIREBASE_CREDENTIALS", str(path))
        monkeypatch.setitem(app.config, "FCM_API_BASE", api.base_url)
        yield api


def _fcm_error(status: str, code: str | None = None) -> dict:
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]
    return {
        "error": {
            "code": 400,
            "message": "test",
            "status": status,
            "details": details if code else [],
        }
    }


def _device(db: Session, user_id: int, token: str, now: datetime) -> int:
    row = push.register_device(db, user_id, token, label="Phone app", limit=10, now=now)
    db.commit()
    return row.id


def test_a_push_reaches_the_phone_app_through_fcm(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, fcm: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    device = _device(db, user.id, "fcm-token:abc_123", now)
    assert push.reach(db, user.id) == "app"
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    assert _row(db, notification_id).status is NotificationStatus.SENT
    [sent] = fcm.sent("POST", rf"/v1/projects/{PROJECT}/messages:send")
    assert sent.header("Authorization") == "Bearer ya29.test"
    assert (
        fcm.sent("POST", "/token")[0].form()["grant_type"]
        == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    )
    expected = messages.short(db, "booking_cancelled", app.config, {"booking_id": booking.id}, now)
    assert sent.json()["message"] == {
        "token": "fcm-token:abc_123",
        "notification": {"title": expected.title, "body": expected.text},
        "data": {"url": expected.url},
    }
    assert db.get(DeviceToken, device).last_notification_id == notification_id


def test_an_unregistered_fcm_token_is_deleted_and_an_unavailable_fcm_retried(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, fcm: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    gone = _device(db, user.id, "old-install", now)
    busy = _device(db, user.id, "new-install", now)
    path = rf"/v1/projects/{PROJECT}/messages:send"

    def answer(request: Recorded, _match: object) -> tuple[int, dict]:
        if request.json()["message"]["token"] == "old-install":
            return 404, _fcm_error("NOT_FOUND", "UNREGISTERED")
        return 502, _fcm_error("UNAVAILABLE")  # 502: not one the SDK retries itself

    fcm.route("POST", path, answer)
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    row = _row(db, notification_id)
    assert row.status is NotificationStatus.PENDING and "UNAVAILABLE" in (row.last_error or "")
    assert db.get(DeviceToken, gone) is None
    fcm.route("POST", path, (200, {"name": f"projects/{PROJECT}/messages/2"}))
    _deliver(app, row.due_at)
    assert _row(db, notification_id).status is NotificationStatus.SENT
    assert db.get(DeviceToken, busy) is not None


def test_an_invalid_fcm_token_is_deleted(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, fcm: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    bad = _device(db, user.id, "not-a-real-token", now)
    fcm.route(
        "POST",
        rf"/v1/projects/{PROJECT}/messages:send",
        (400, _fcm_error("INVALID_ARGUMENT", "INVALID_ARGUMENT")),
    )
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    assert _row(db, notification_id).status is NotificationStatus.SKIPPED
    assert db.get(DeviceToken, bad) is None


def test_a_message_every_push_service_refuses_fails_visibly_without_marking_an_address(
    app: Flask, db: Session, now: datetime, make_seated_booking, make_user, push_service: FakeAPI
) -> None:  # noqa: ANN001
    user, booking = _booking(app, db, make_seated_booking, make_user, now)
    refused = _subscribe(db, user.id, Browser(f"{push_service.base_url}/push/rotated"), now)
    push_service.route("POST", "/push/rotated", (403, {"error": "VAPID key mismatch"}))
    notification_id = _queue_push(db, user.id, booking.id, now)

    _deliver(app, now)

    row = _row(db, notification_id)
    assert row.status is NotificationStatus.FAILED and "refused" in (row.last_error or "")
    kept = db.get(PushSubscription, refused)
    assert kept is not None and "403" in (kept.last_error or "")  # shown on the settings page
    assert db.scalar(select(func.count()).select_from(FailingAddress)) == 0
