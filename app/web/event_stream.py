"""A server-sent-event response held to the stream gate's caps (app/web/public/stream_gate.py).

Every live stream of the site opens through `open_event_stream`: it counts the stream against
the process's and the client network's caps (a refusal answers 503 or 429 with `Retry-After`),
gives the place back once the response is closed (or dropped unsent), and sends the headers
that keep proxies from buffering. The stream itself is the caller's generator, made with the
keep-alive interval and the moment it must end by.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from app.live import Subscription
from app.web.errors import render_refusal
from app.web.public.stream_gate import TooManyStreams, gate_for

log = logging.getLogger(__name__)

# events(keepalive_seconds, ends_at_monotonic) -> the stream's lines
Events = Callable[[float, float], Iterator[str]]


@dataclass(frozen=True)
class Fragment:
    html: str
    last: bool = False  # the stream ends once this one is sent (e.g. a settled payment)


def sse_message(name: str, fragment: str) -> str:
    """One server-sent event named `name` carrying an HTML fragment (a line per `data:`)."""
    data = "".join(f"data: {line}\n" for line in fragment.splitlines())
    return f"event: {name}\n{data}\n"


def open_event_stream(app: Flask, events: Events) -> ResponseReturnValue:
    keepalive = float(app.config["SSE_KEEPALIVE_SECONDS"])
    ends = time.monotonic() + float(app.config["SSE_STREAM_SECONDS"])
    gate = gate_for(app)
    try:
        network = gate.enter(
            request.remote_addr,
            per_client=int(app.config["LIVE_STREAMS_PER_CLIENT"]),
            per_process=int(app.config["LIVE_STREAMS_PER_PROCESS"]),
        )
    except TooManyStreams as refusal:
        # Streams of browsers that left are noticed at their next keep-alive.
        body, status = render_refusal(refusal)
        return body, status, {"Retry-After": str(max(1, round(keepalive)))}
    # Not `stream_with_context`: the request (its session, its user) ends when the view
    # returns, so an open stream holds no transaction; renders run in a bare app context.
    response = Response(events(keepalive, ends), mimetype="text/event-stream")
    # The place is given back once: when the server closes the response (the stream ended or
    # the browser left), or when the response is dropped unsent (an error after the view).
    leave = weakref.finalize(response, gate.leave, network)
    response.call_on_close(leave)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # no proxy buffering of the stream
    return response


def stream_fragment(
    app: Flask,
    subscribe: Callable[[], AbstractContextManager[Subscription]],
    name: str,
    render: Callable[[], Fragment | None],
) -> ResponseReturnValue:
    """A stream of `name` events, each an HTML fragment from `render` (run in an app context,
    outside any request), read again whenever the subscription wakes or a keep-alive interval
    passes and sent only when it changed. `render` answering None ends the stream (what it
    shows is gone), and so does a database error: the browser reconnects (`retry`) and is
    answered once the database is back."""

    def events(keepalive: float, ends: float) -> Iterator[str]:
        sent = None
        with subscribe() as subscription:
            yield "retry: 3000\n\n"
            while (left := ends - time.monotonic()) > 0:
                try:
                    with app.app_context():
                        fragment = render()
                except SQLAlchemyError as error:
                    log.warning("%s stream ended: %s", name, error)
                    return
                if fragment is None:
                    return
                if fragment.html != sent:
                    sent = fragment.html
                    yield sse_message(name, fragment.html)
                else:
                    yield ": still here\n\n"
                if fragment.last:
                    return
                subscription.wait(min(keepalive, left))

    return open_event_stream(app, events)
