"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm bodies (RFC 8291), through pywebpush.

The site's VAPID key pair comes from the configuration; outside production, when none is set,
a pair is made once and kept under instance/ (like the development SECRET_KEY), so browsers
that subscribed keep working across restarts. Production without a private key offers no
browser push (`vapid_keys` answers None).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

TIMEOUT_SECONDS = 10
# How long a push service keeps a message for a browser that is offline (its TTL header).
TTL_SECONDS = 24 * 3600
GONE = frozenset({404, 410})  # the subscription expired or was withdrawn


class PushGone(Exception):
    """The push service says the subscription no longer exists: forget it."""


class PushUnavailable(Exception):
    """The push service is down, busy (429) or unreachable: try again later."""


class PushRefused(Exception):
    """The push service refused this message for another reason (too big, bad auth)."""


@dataclass(frozen=True)
class VapidKeys:
    signer: Vapid
    public_key: str  # base64url uncompressed P-256 point: the browser's applicationServerKey
    subject: str  # "mailto:..." or "https://...", given to the push services


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_keys(config: Mapping[str, Any]) -> VapidKeys | None:
    """The site's VAPID keys, or None when browser push is off (production without a key)."""
    private = str(config.get("VAPID_PRIVATE_KEY") or "")
    if not private:
        if config.get("APP_ENV") == "production":
            return None
        private = _dev_private_key(str(config["INSTANCE_DIR"]))
    subject = str(config.get("VAPID_SUBJECT") or "") or _mail_subject(str(config["MAIL_FROM"]))
    return _keys(private, str(config.get("VAPID_PUBLIC_KEY") or ""), subject)


@functools.lru_cache(maxsize=8)
def _keys(private: str, public: str, subject: str) -> VapidKeys:
    text = private.strip()
    signer = Vapid.from_pem(text.encode()) if "-----BEGIN" in text else Vapid.from_string(text)
    derived = b64url(
        signer.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    if public and public.rstrip("=") != derived:
        raise RuntimeError("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY")
    return VapidKeys(signer, derived, subject)


def _dev_private_key(instance_dir: str) -> str:
    path = Path(instance_dir) / "vapid_private_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
        path.write_text(raw)
        path.chmod(0o600)
        return raw


def _mail_subject(mail_from: str) -> str:
    address = mail_from.rpartition("<")[2].strip("> ").strip()
    return f"mailto:{address}"


def is_local_endpoint(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def send(
    keys: VapidKeys,
    subscription: Subscription,
    payload: Mapping[str, Any],
) -> None:
    """Encrypt `payload` (JSON) for the subscription and post it to its push service. Raises
    PushGone, PushUnavailable or PushRefused."""
    origin = urlsplit(subscription.endpoint)
    try:
        webpush(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=keys.signer,
            vapid_claims={"sub": keys.subject, "aud": f"{origin.scheme}://{origin.netloc}"},
            content_encoding="aes128gcm",
            timeout=TIMEOUT_SECONDS,
            ttl=TTL_SECONDS,
            headers={"Urgency": "normal"},
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status is None:
            raise PushGone(f"unusable subscription: {exc.message}") from exc
        if status in GONE:
            raise PushGone(f"the push service answered {status}") from exc
        if status == 429 or status >= 500:
            raise PushUnavailable(f"the push service answered {status}") from exc
        raise PushRefused(f"the push service answered {status}: {exc.response.text[:200]}") from exc
    except requests.RequestException as exc:
        raise PushUnavailable(f"{type(exc).__name__}: {exc}") from exc
