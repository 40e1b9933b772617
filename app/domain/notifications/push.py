"""The push channel: browsers that opted in to Web Push, and phone-app devices on Firebase Cloud
Messaging; the subscriptions, how a user is reached, and the sender.

A push message to a user goes to each of their browsers and devices, as JSON {title, body,
url} from the kind's short form (`messages.short`). Per device:
- delivered: the device records the notification's id (`last_notification_id`);
- gone (Web Push 404/410, FCM UNREGISTERED / INVALID_ARGUMENT): the subscription is deleted,
  which is no failure of the message;
- unavailable (429, 5xx, the network; FCM UNAVAILABLE / INTERNAL): recorded on the device, and
  the message is retried (TemporaryFailure) for the devices that do not have it yet: a retry
  passes by every device whose `last_notification_id` is this message's;
- refused for another reason (403: keys changed, 413): recorded on the device; a message that
  no device took and no device can take later fails visibly.
What is guaranteed is at-least-once per device: a worker that dies after a push service
accepted a message and before the outcome is committed pushes it to that device again.

The sender's `transmit` writes the outcomes through the session `prepare` was given (it is the
worker's session for this message, idle while the pushes go out) and commits them itself,
before it raises, because the worker rolls back on any failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import DomainError, NotFound
from app.domain.notifications import fan_out, messages
from app.domain.notifications.delivery import (
    RenderFailure,
    Sender,
    Skip,
    TemporaryFailure,
    register_sender,
)
from app.domain.notifications.models import Channel, Notification
from app.domain.notifications.push_models import DeviceToken, PushSubscription
from app.integrations import push_fcm, push_web

MAX_ENDPOINT = 2048
MAX_TOKEN = 4096
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
FCM_TOKEN = re.compile(rf"[A-Za-z0-9_:\-.]{{1,{MAX_TOKEN}}}")


class PushError(DomainError):
    """A subscription or device token that cannot be taken (the message says why)."""


# --- subscriptions ------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str


def parse_subscription(data: object, *, allow_local: bool) -> SubscriptionInput:
    """Check a browser's PushSubscription as JSON ({endpoint, keys: {p256dh, auth}})."""
    if not isinstance(data, Mapping):
        raise PushError("Send the subscription as a JSON object.", code="invalid_subscription")
    endpoint, keys = data.get("endpoint"), data.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
        raise PushError(
            "The subscription needs an endpoint and its keys.", code="invalid_subscription"
        )
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise PushError("The subscription needs its p256dh and auth keys.", code="invalid_keys")
    return SubscriptionInput(
        _check_endpoint(endpoint, allow_local=allow_local),
        _check_p256dh(p256dh),
        _check_auth(auth),
    )


def _check_endpoint(endpoint: str, *, allow_local: bool) -> str:
    if len(endpoint) > MAX_ENDPOINT:
        raise PushError("The push endpoint is too long.", code="invalid_endpoint")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if parts is None or not host or parts.username or parts.password:
        raise PushError("The push endpoint is not a web address.", code="invalid_endpoint")
    local_http = parts.scheme == "http" and host in LOCAL_HOSTS and allow_local
    if parts.scheme != "https" and not local_http:
        raise PushError("The push endpoint must be an https address.", code="invalid_endpoint")
    return endpoint


def _decode(value: str, what: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,200}={0,2}", value):
        raise PushError(f"The {what} key is not base64url.", code="invalid_keys")
    return push_web.b64url_decode(value.rstrip("="))


def _check_p256dh(value: str) -> str:
    raw = _decode(value, "p256dh")
    try:
        if len(raw) != 65:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise PushError("The p256dh key is not a P-256 public key.", code="invalid_keys") from None
    return push_web.b64url(raw)


def _check_auth(value: str) -> str:
    raw = _decode(value, "auth")
    if len(raw) != 16:
        raise PushError("The auth secret must be 16 bytes.", code="invalid_keys")
    return push_web.b64url(raw)


def browser_label(user_agent: str) -> str:
    """A name for the list of subscribed browsers ("Firefox on Android"), from a User-Agent."""
    browsers = (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    )
    systems = (
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    )
    browser = next((name for mark, name in browsers if mark in user_agent), "A browser")
    system = next((name for mark, name in systems if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser


def _lock_user(session: Session, user_id: int) -> None:
    """Serialise one user's registrations, so that the limit holds under concurrent posts."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def subscribe(
    session: Session,
    user_id: int,
    subscription: SubscriptionInput,
    *,
    label: str,
    limit: int,
    now: datetime,
) -> PushSubscription:
    """Keep the browser's subscription for the user (again: its keys are refreshed). An
    endpoint names one browser: subscribed on another account before, it moves here."""
    _lock_user(session, user_id)
    others = session.scalar(
        select(func.count())
        .select_from(PushSubscription)
        .where(
            PushSubscription.user_id == user_id,
            PushSubscription.endpoint != subscription.endpoint,
        )
    )
    if (others or 0) >= limit:
        raise PushError(
            f"You have {limit} browsers getting push notifications already: remove one first.",
            code="too_many",
        )
    values = {
        "user_id": user_id,
        "endpoint": subscription.endpoint,
        "p256dh": subscription.p256dh,
        "auth": subscription.auth,
        "label": label[:120],
        "created_at": now,
        "last_error": None,
        "last_failure_at": None,
    }
    statement = insert(PushSubscription).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[PushSubscription.endpoint],
        set_={k: statement.excluded[k] for k in values if k != "endpoint"},
    ).returning(PushSubscription.id)
    subscription_id = session.execute(statement).scalar_one()
    session.expire_all()
    row = session.get(PushSubscription, subscription_id)
    assert row is not None
    return row


def subscriptions(session: Session, user_id: int) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )


def unsubscribe(session: Session, user_id: int, subscription_id: int) -> None:
    """Forget one of the user's browsers (NotFound when it is not theirs, or gone)."""
    deleted = session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == subscription_id, PushSubscription.user_id == user_id)
        .returning(PushSubscription.id)
    ).first()
    if deleted is None:
        raise NotFound("No such browser.")


def register_device(
    session: Session, user_id: int, token: object, *, label: str, limit: int, now: datetime
) -> DeviceToken:
    """Keep a phone app's FCM registration token for the user (the app's sign-in will call
    this; no client exists yet). A token names one install: it moves to the latest account."""
    if not isinstance(token, str) or not FCM_TOKEN.fullmatch(token):
        raise PushError("The device token is not an FCM registration token.", code="invalid_token")
    _lock_user(session, user_id)
    others = session.scalar(
        select(func.count())
        .select_from(DeviceToken)
        .where(DeviceToken.user_id == user_id, DeviceToken.token != token)
    )
    if (others or 0) >= limit:
        raise PushError(
            f"You have {limit} devices getting push notifications already: remove one first.",
            code="too_many",
        )
    statement = insert(DeviceToken).values(
        user_id=user_id, token=token, label=label[:120], created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[DeviceToken.token],
        set_={"user_id": user_id, "label": label[:120], "created_at": now, "last_error": None},
    ).returning(DeviceToken.id)
    device_id = session.execute(statement).scalar_one()
    session.expire_all()
    row = session.get(DeviceToken, device_id)
    assert row is not None
    return row


def unregister_device(session: Session, user_id: int, token: str) -> None:
    """Forget a device (the app signs out): NotFound when the token is not the user's."""
    deleted = session.execute(
        delete(DeviceToken)
        .where(DeviceToken.token == token, DeviceToken.user_id == user_id)
        .returning(DeviceToken.id)
    ).first()
    if deleted is None:
        raise NotFound("No such device.")


# --- reaching a user ----------------------------------------------------------------------


def reach(session: Session, user_id: int) -> str | None:
    """ "browser" when a browser of the user's opted in, "app" when only the phone app did."""
    for model, name in ((PushSubscription, "browser"), (DeviceToken, "app")):
        if session.scalar(select(model.id).where(model.user_id == user_id).limit(1)):
            return name
    return None


fan_out.register_reach(Channel.PUSH, reach)


# --- the sender ---------------------------------------------------------------------------


@dataclass
class Prepared:
    session: Session  # the worker's session for this message: transmit records the outcomes
    notification_id: int
    now: datetime
    payload: dict[str, str]
    vapid: push_web.VapidKeys | None
    browsers: list[tuple[int, push_web.Subscription]] = field(default_factory=list)
    devices: list[tuple[int, str]] = field(default_factory=list)


def prepare_push(
    session: Session, config: Mapping[str, Any], notification: Notification, now: datetime
) -> Prepared:
    if notification.user_id is None:
        raise RenderFailure("a push notification needs a user")
    vapid = push_web.vapid_keys(config)
    fcm = push_fcm.configured(config)
    user_id = notification.user_id
    browsers = (
        list(session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id)))
        if vapid
        else []
    )
    devices = (
        list(session.scalars(select(DeviceToken).where(DeviceToken.user_id == user_id)))
        if fcm
        else []
    )
    if not browsers and not devices:
        raise Skip("no browser or device of the user's gets push notifications")
    short = messages.short_of(session, notification, config, now)
    done = {notification.id}
    return Prepared(
        session=session,
        notification_id=notification.id,
        now=now,
        payload={"title": short.title, "body": short.text, "url": short.url},
        vapid=vapid,
        browsers=[
            (b.id, push_web.Subscription(b.endpoint, b.p256dh, b.auth))
            for b in browsers
            if b.last_notification_id not in done
        ],
        devices=[(d.id, d.token) for d in devices if d.last_notification_id not in done],
    )


@dataclass
class _Outcomes:
    delivered: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    unavailable: dict[int, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


def transmit_push(config: Mapping[str, Any], prepared: Prepared) -> None:
    web, app = _Outcomes(), _Outcomes()
    for subscription_id, subscription in prepared.browsers:
        assert prepared.vapid is not None
        try:
            push_web.send(prepared.vapid, subscription, prepared.payload)
        except push_web.PushGone:
            web.gone.append(subscription_id)
        except push_web.PushUnavailable as exc:
            web.unavailable[subscription_id] = str(exc)
        except push_web.PushRefused as exc:
            web.refused[subscription_id] = str(exc)
        else:
            web.delivered.append(subscription_id)
    for device_id, token in prepared.devices:
        try:
            push_fcm.send(config, token, prepared.payload)
        except push_fcm.DeviceGone:
            app.gone.append(device_id)
        except push_fcm.FcmUnavailable as exc:
            app.unavailable[device_id] = str(exc)
        except push_fcm.FcmRefused as exc:
            app.refused[device_id] = str(exc)
        else:
            app.delivered.append(device_id)
    session = prepared.session
    _record(session, PushSubscription, web, prepared)
    _record(session, DeviceToken, app, prepared)
    session.commit()

    unavailable = {**web.unavailable, **app.unavailable}
    if unavailable:
        raise TemporaryFailure(
            f"{len(unavailable)} of {len(prepared.browsers) + len(prepared.devices)} "
            f"devices unreachable: {next(iter(unavailable.values()))}"
        )
    if web.delivered or app.delivered or not (prepared.browsers or prepared.devices):
        return  # sent (every device has it: a retry can find none left)
    refused = {**web.refused, **app.refused}
    if refused:
        # Not a PermanentFailure: that would mark the "browser" recipient failing for good.
        raise RenderFailure(f"refused by every push service: {next(iter(refused.values()))}")
    raise Skip("every browser and device of the user's unsubscribed")


def _record(
    session: Session,
    model: type[PushSubscription] | type[DeviceToken],
    outcomes: _Outcomes,
    prepared: Prepared,
) -> None:
    if outcomes.gone:
        session.execute(delete(model).where(model.id.in_(outcomes.gone)))
    if outcomes.delivered:
        session.execute(
            update(model)
            .where(model.id.in_(outcomes.delivered))
            .values(
                last_success_at=prepared.now,
                last_notification_id=prepared.notification_id,
                last_error=None,
            )
        )
    for target_id, error in {**outcomes.unavailable, **outcomes.refused}.items():
        session.execute(
            update(model)
            .where(model.id == target_id)
            .values(last_failure_at=prepared.now, last_error=error[:2000])
        )


register_sender(Channel.PUSH, Sender(prepare_push, transmit_push))
