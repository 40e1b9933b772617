"""A browser's side of Web Push, for tests: its P-256 key pair and auth secret, the subscription
it hands the site, and the decryption of what a push service delivers to it (RFC 8291)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.integrations.push_web import b64url
from tests.integrations.fake_api import Recorded


class Browser:
    def __init__(self, endpoint: str = "https://push.example.test/send/abc") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = secrets.token_bytes(16)
        self.endpoint = endpoint

    def subscription_json(self) -> dict[str, Any]:
        """As the browser's `PushSubscription.toJSON()` gives it."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def read(self, request: Recorded) -> dict[str, Any]:
        """The JSON a push carried, decrypted with this browser's keys."""
        assert request.header("Content-Encoding") == "aes128gcm"
        plain = http_ece.decrypt(
            request.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def push_subscription_json(endpoint: str = "https://push.example.test/send/abc") -> dict[str, Any]:
    return Browser(endpoint).subscription_json()
