"""Per request: its id, its log line and its latency.

The id is the client's (or proxy's) X-Request-ID when that is a plausible id, else a new one;
it is echoed in the response, stamped on every log line of the request, and stored with the
outbox messages the request queues, so the worker's lines about them carry it too.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from app.observability import logs
from app.observability.metrics import REQUEST_SECONDS

log = logging.getLogger("eventhall.request")
HEADER = "X-Request-ID"
# Answered many times a minute by machines (probes, scrapers, files): measured, not logged.
QUIET = frozenset({"static", "health.healthz", "health.readyz", "metrics.metrics"})


def register(app: Flask) -> None:
    """Hooks around every request. Registered before the database's, so the commit counts in
    the latency (Flask runs `after_request` functions last registered first)."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = logs.new_request_id(request.headers.get(HEADER))
    g.log_tokens = (logs.request_id.set(g.request_id), logs.user_id.set(None))


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:  # a request that failed before `_start` ran
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule else "unmatched"
    status = response.status_code
    REQUEST_SECONDS.labels(route, request.method, str(status)).observe(seconds)
    response.headers[HEADER] = g.request_id
    if request.endpoint not in QUIET:
        log.info(
            "%s %s %s",
            request.method,
            route,
            status,
            extra={
                "route": route,
                "method": request.method,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
    return response


def _forget(_exc: BaseException | None) -> None:
    tokens = g.pop("log_tokens", None)
    if tokens is not None:
        logs.request_id.reset(tokens[0])
        logs.user_id.reset(tokens[1])
