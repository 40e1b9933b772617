"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records each request
and answers what the test scripts (a status, with a `Location` for a redirect), or holds the
request until the test lets it go (a receiver too slow to answer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.domain.webhooks.endpoints import signing_key

HANG = -1  # a scripted answer: hold the request until `release()`


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def signed_by(self, secret: str) -> bool:
        """Verify as a receiver would: HMAC-SHA256 of "id.timestamp.body" with the secret."""
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode()
        digest = hmac.new(signing_key(secret), signed + self.body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        return any(
            hmac.compare_digest(expected, s) for s in self.headers["webhook-signature"].split()
        )


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque()
        self._released = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order (then 200)."""
        self.answers.extend(statuses)

    def release(self) -> None:
        self._released.set()

    def _wsgi(self, environ, start_response):  # noqa: ANN001, ANN202
        request = Request(environ)
        self.received.append(
            Received(
                request.path, {k.lower(): v for k, v in request.headers.items()}, request.get_data()
            )
        )
        status = self.answers.popleft() if self.answers else 200
        if status == HANG:
            self._released.wait(timeout=30)
            status = 200
        headers = {"Location": "/elsewhere"} if 300 <= status < 400 else {}
        return Response("ok", status=status, headers=headers)(environ, start_response)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running
