"""Firebase Cloud Messaging for the phone app, through `firebase-admin`, when a service account
is configured (FIREBASE_CREDENTIALS: the path of its JSON file).

The SDK has no setting for FCM's address; FCM_API_BASE (tests: a local stand-in) replaces the
base of the send URL on the SDK's messaging service. The access token comes from the service
account's own `token_uri`, so a stand-in service account gets its token locally too.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from collections.abc import Mapping
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

DEFAULT_API_BASE = "https://fcm.googleapis.com"
TIMEOUT_SECONDS = 10
# The token is gone (the app was uninstalled) or is not a token at all: forget it.
GONE = (messaging.UnregisteredError, exceptions.InvalidArgumentError, exceptions.NotFoundError)
# FCM is down or busy: try again later.
UNAVAILABLE = (
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.ResourceExhaustedError,  # QUOTA_EXCEEDED
    exceptions.UnknownError,  # the network
)


class DeviceGone(Exception):
    """FCM says the token is no longer registered (or never was a token)."""


class FcmUnavailable(Exception):
    """FCM is down, busy or unreachable: try again later."""


class FcmRefused(Exception):
    """FCM refused the message for another reason (credentials, sender mismatch)."""


def configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("FIREBASE_CREDENTIALS"))


@functools.lru_cache(maxsize=4)
def _app(credentials_path: str, api_base: str) -> firebase_admin.App:
    name = "eventhall-" + hashlib.sha256(f"{credentials_path}\n{api_base}".encode()).hexdigest()
    app = firebase_admin.initialize_app(
        credentials.Certificate(credentials_path), {"httpTimeout": TIMEOUT_SECONDS}, name=name
    )
    if api_base.rstrip("/") != DEFAULT_API_BASE:
        service = messaging._get_messaging_service(app)  # noqa: SLF001 - no public setting
        project = app.project_id
        service._fcm_url = f"{api_base.rstrip('/')}/v1/projects/{project}/messages:send"  # noqa: SLF001
    return app


def send(config: Mapping[str, Any], token: str, payload: Mapping[str, str]) -> str:
    """Send a notification with `payload` (title, body, url) to one device; FCM's message name.
    Raises DeviceGone, FcmUnavailable or FcmRefused."""
    base = str(config.get("FCM_API_BASE") or DEFAULT_API_BASE)
    app = _app(str(config["FIREBASE_CREDENTIALS"]), base)
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates registration tokens for installation ids (`fid`); the
        # apps' SDKs still hand out tokens, and FCM still takes them. Move when the app does.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        message = messaging.Message(
            token=token,
            notification=messaging.Notification(title=payload["title"], body=payload["body"]),
            data={"url": payload["url"]},
        )
    try:
        return messaging.send(message, app=app)
    except GONE as exc:
        raise DeviceGone(f"{exc.code}: {exc}") from exc
    except UNAVAILABLE as exc:
        raise FcmUnavailable(f"{exc.code}: {exc}") from exc
    except exceptions.FirebaseError as exc:
        raise FcmRefused(f"{exc.code}: {exc}") from exc
