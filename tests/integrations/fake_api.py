"""A stand-in for a provider's HTTP API: a real server on 127.0.0.1 that records every request
and answers what the test's routes say, so the providers' own SDKs do their real work (encoding,
headers, auth, parsing) against it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body (Stripe's), one value per key."""
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


# A route answers (status, JSON body) for a request and the regex match of its path.
Answer = Callable[[Recorded, re.Match[str]], tuple[int, Any]]


class FakeAPI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: list[tuple[str, re.Pattern[str], Answer]] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def route(self, method: str, path: str, answer: Answer | tuple[int, Any]) -> None:
        """Answer `method` on paths matching `path` (a full regex); the latest route wins."""
        handler = answer if callable(answer) else (lambda _r, _m, a=answer: a)
        self.routes.insert(0, (method.upper(), re.compile(path), handler))

    def sent(self, method: str, path_pattern: str) -> list[Recorded]:
        """The recorded requests of one method whose path matches `path_pattern`."""
        pattern = re.compile(path_pattern)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query={k: request.args.getlist(k) for k in request.args},
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.get_data(),
        )
        self.requests.append(recorded)
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                status, body = handler(recorded, match)
                break
        else:
            status, body = 404, {"error": f"no route for {request.method} {request.path}"}
        return Response(json.dumps(body), status=status, mimetype="application/json")(
            environ, start_response
        )

    def __enter__(self) -> FakeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve() -> Iterator[FakeAPI]:
    """For a fixture: a running fake API, stopped after the test."""
    with FakeAPI() as api:
        yield api
