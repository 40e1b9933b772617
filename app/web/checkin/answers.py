"""How the door answers: JSON for the scanner script, the gate remembered, the counters
fragment rendered once per change for every phone watching the event."""

from __future__ import annotations

import base64
import threading
from dataclasses import asdict
from typing import Any

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app.db import get_db
from app.domain.checkin import door
from app.domain.checkin.door import OfflineBundle
from app.domain.checkin.scans import CHANNEL, CheckInInfo, ScanResult
from app.domain.events.models import Event
from app.live import LiveHub
from app.web.checkin.forms import GATE_COOKIE

GATE_COOKIE_DAYS = 30


def wants_json() -> bool:
    """A client that prefers JSON to HTML (the scanner script sends `Accept: application/json`)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def posted_data() -> MultiDict[str, Any]:
    """The posted fields: a form, or a JSON object of the same fields."""
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            return MultiDict({k: str(v) for k, v in body.items() if v is not None})
        return MultiDict()
    return request.form


def remember_gate(response: Response, gate: str) -> Response:
    """The phone keeps its gate for the next page it opens."""
    if request.cookies.get(GATE_COOKIE) != gate:
        response.set_cookie(
            GATE_COOKIE,
            gate,
            max_age=GATE_COOKIE_DAYS * 86400,
            path="/checkin/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def _check_in_json(check_in: CheckInInfo | None) -> dict[str, Any] | None:
    if check_in is None:
        return None
    return {
        "id": check_in.id,
        "at": check_in.at.isoformat(),
        "gate": check_in.gate,
        "by": check_in.by,
    }


def result_json(result: ScanResult) -> dict[str, Any]:
    return {
        "result": result.outcome.value,
        "message": result.message,
        "ticket": asdict(result.ticket) if result.ticket else None,
        "check_in": _check_in_json(result.check_in),
        "conflict": result.conflict,
    }


def bundle_json(bundle: OfflineBundle) -> dict[str, Any]:
    return {
        "event_id": bundle.event_id,
        "public_key": base64.urlsafe_b64encode(bundle.public_key).decode().rstrip("="),
        "void": bundle.void,
        "checked_in": bundle.checked_in,
        "tickets": {
            str(ticket_id): {"name": t.name, "tier": t.tier, "seat": t.seat}
            for ticket_id, t in bundle.tickets.items()
        },
        "generated_at": bundle.generated_at.isoformat(),
    }


class _Rendered:
    """The latest counters fragment of each event, by the hub's version of its check-ins."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_event: dict[int, tuple[tuple[int, int], str]] = {}


_renderings_lock = threading.Lock()


def _renderings(app: Flask) -> _Rendered:
    rendered = app.extensions.get("checkin_counters")
    if rendered is None:
        with _renderings_lock:
            rendered = app.extensions.setdefault("checkin_counters", _Rendered())
    return rendered


def counters_fragment(app: Flask, hub: LiveHub, event_id: int) -> str | None:
    """The counters fragment, re-read only when a check-in changed since the last rendering
    (every phone at the door shares it); None when the event is gone or the database is."""
    rendered = _renderings(app)
    version = hub.version(event_id, CHANNEL)  # read first: a change meanwhile renders again
    with rendered.lock:
        cached = rendered.by_event.get(event_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        with get_db().session() as session:
            event = session.get(Event, event_id)
            if event is None:
                return None
            fragment = render_template(
                "checkin/_counters.html", counters=door.counters(session, event)
            )
    except SQLAlchemyError:
        return None
    with rendered.lock:
        rendered.by_event[event_id] = (version, fragment)
    return fragment
