"""One logging setup for the web processes and the worker.

LOG_FORMAT=json (the default outside development) writes one JSON object per line: time,
level, logger, message, and the request's context (request_id, user_id, and on the request's
own line route, method, status, duration_ms), so a log store can follow one request from the
page through the jobs it queued. LOG_FORMAT=text is the readable form for a terminal.

The context lives in context variables, not in Flask's `g`: the domain (the outbox) and the
worker read it too, and gevent gives every greenlet its own.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)

# What a client (or a proxy) may send as X-Request-ID; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# Fields a log call may pass in `extra=` that the JSON line carries.
EXTRA_FIELDS = ("route", "method", "status", "duration_ms", "job", "topic", "outbox_id")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def new_request_id(offered: str | None = None) -> str:
    """`offered` when it is a plausible id (a proxy's or a client's), else a fresh one."""
    if offered and _VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


@contextmanager
def context(*, request: str | None = None, user: int | None = None) -> Iterator[None]:
    """Log lines inside carry this request id and user id (a job runs under its request's)."""
    tokens = (request_id.set(request), user_id.set(user))
    try:
        yield
    finally:
        request_id.reset(tokens[0])
        user_id.reset(tokens[1])


class ContextFilter(logging.Filter):
    """Stamps every record with the current request id and user id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = user_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "user_id", *EXTRA_FIELDS):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(config: Mapping[str, Any]) -> None:
    """Send the root logger's records to stderr in LOG_FORMAT at LOG_LEVEL. Called by the app
    factory and the worker; calling it again replaces the handler, never adds a second."""
    handler = _Stderr()
    handler.addFilter(ContextFilter())
    if config.get("LOG_FORMAT") == "text":
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_eventhall", False)]:
        root.removeHandler(old)
    handler._eventhall = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(str(config.get("LOG_LEVEL") or "INFO").upper())
