"""The door of one event: scan (a code, or a ticket found by name), undo, live counters, the
offline bundle and the sync of what a gate admitted offline.

Every route answers only staff who may check in the event (`access.checkin_event`: anyone else
gets a 404). A scan answers 200 whatever its outcome (a red answer is an answer): JSON to a
client that asks for it (the scanner script), the result fragment to htmx, and the whole door
page to a plain form post, so the page works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.db import get_session
from app.domain.base import DomainError, utcnow
from app.domain.checkin import door, scans
from app.domain.checkin.access import checkin_event
from app.domain.events.models import Event
from app.live import hub_for
from app.web.authz import signed_in_user
from app.web.checkin import answers
from app.web.checkin.forms import (
    InvalidSync,
    ScanForm,
    SearchForm,
    UndoForm,
    gate_of,
    parse_sync,
)
from app.web.error_status import http_status
from app.web.errors import render_refusal
from app.web.event_stream import Fragment, stream_fragment
from app.web.htmx import wants_fragment

bp = Blueprint("checkin", __name__, url_prefix="/checkin")
CHECKED_IN = "checked-in"  # the htmx event a scan or an undo answer triggers on the page


# Answered in JSON whatever the client accepts: the scanner script's endpoints.
_JSON_ONLY = frozenset({"checkin.offline", "checkin.sync"})


def _json_wanted() -> bool:
    return request.endpoint in _JSON_ONLY or answers.wants_json()


@bp.before_request
def _signed_in() -> ResponseReturnValue | None:
    """Every door route is for signed-in staff (the event check follows in each view). The
    scanner script is told so (401), a browser is sent to the login page."""
    if current_user.is_authenticated:
        return None
    if _json_wanted():
        return jsonify(error="login_required", message="Log in again to scan."), 401
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]


@bp.errorhandler(DomainError)
def _refused(error: DomainError) -> ResponseReturnValue:
    if _json_wanted():
        return jsonify(error=error.code, message=error.message), http_status(error)
    return render_refusal(error)


def _event(event_id: int) -> Event:
    return checkin_event(get_session(), signed_in_user(), event_id)


def _door_page(event: Event, status: int = 200, **context: Any) -> ResponseReturnValue:
    context.setdefault("result", None)
    context.setdefault("form", ScanForm(formdata=None))
    context.setdefault("search", SearchForm(formdata=None))
    context.setdefault("hits", None)
    gate = context.pop("gate", None) or gate_of(request)
    page = render_template(
        "checkin/door.html",
        event=event,
        gate=gate,
        counters=door.counters(get_session(), event),
        **context,
    )
    return answers.remember_gate(make_response(page, status), gate)


@bp.get("/<int:event_id>", endpoint="door")
def door_page(event_id: int) -> ResponseReturnValue:
    """The door page: manual entry, the last answer, live counters, search."""
    return _door_page(_event(event_id))


@bp.post("/<int:event_id>/scan")
def scan(event_id: int) -> ResponseReturnValue:
    """Scan a code (or check in a ticket from the search list): the answer, green or red."""
    event = _event(event_id)
    form = ScanForm(formdata=answers.posted_data())
    if not form.validate():
        if answers.wants_json():
            return jsonify(error="invalid", fields=form.errors), 422
        if wants_fragment():
            return render_template("checkin/_result.html", event=event, form=form), 422
        return _door_page(event, 422, form=form)
    gate = form.gate_value()
    result = scans.scan(
        get_session(),
        event,
        code=form.code.data or None,
        ticket_id=form.ticket_id.data,
        gate=gate,
        staff=signed_in_user(),
        scan_id=form.scan_id.data or None,
        now=utcnow(),
    )
    if answers.wants_json():
        return jsonify(answers.result_json(result))
    if wants_fragment():
        fragment = make_response(
            render_template("checkin/_result.html", event=event, result=result)
        )
        fragment.headers["HX-Trigger"] = CHECKED_IN  # the search list shows the change
        return answers.remember_gate(fragment, gate)
    return _door_page(event, result=result, gate=gate)


@bp.post("/<int:event_id>/undo")
def undo(event_id: int) -> ResponseReturnValue:
    """Undo a check-in (someone was let in by mistake); the ticket may be scanned again."""
    event = _event(event_id)
    form = UndoForm(formdata=answers.posted_data())
    if not form.validate():
        if answers.wants_json():
            return jsonify(error="invalid", fields=form.errors), 422
        return _door_page(event, 422)
    ticket_id = scans.undo(
        get_session(), event, form.check_in_id.data, staff=signed_in_user(), now=utcnow()
    )
    if answers.wants_json():
        return jsonify(undone=form.check_in_id.data, ticket_id=ticket_id)
    if wants_fragment():
        return render_template("checkin/_undone.html", event=event), {"HX-Trigger": CHECKED_IN}
    return _door_page(event, undone=True)


@bp.get("/<int:event_id>/search")
def search(event_id: int) -> ResponseReturnValue:
    """Tickets by attendee or buyer name, or by booking reference, to check in by hand."""
    event = _event(event_id)
    form = SearchForm(formdata=request.args)
    query = (form.q.data or "").strip() if form.validate() else ""
    hits = door.search(get_session(), event, query) if query else None  # None: no search
    if wants_fragment():
        return render_template(
            "checkin/_search.html", event=event, search=form, hits=hits, gate=gate_of(request)
        )
    return _door_page(event, search=form, hits=hits)


@bp.get("/<int:event_id>/counters")
def counters(event_id: int) -> ResponseReturnValue:
    """The counters fragment: checked in / expected, per tier and per gate."""
    event = _event(event_id)
    return render_template("checkin/_counters.html", counters=door.counters(get_session(), event))


@bp.get("/<int:event_id>/counters/stream")
def counters_stream(event_id: int) -> ResponseReturnValue:
    """`counters` events carrying the counters fragment, sent whenever a check-in changes."""
    _event(event_id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hub = hub_for(app)

    def counters() -> Fragment | None:
        fragment = answers.counters_fragment(app, hub, event_id)
        return None if fragment is None else Fragment(fragment)

    return stream_fragment(
        app, lambda: hub.subscribe(event_id, scans.CHANNEL), "counters", counters
    )


@bp.get("/<int:event_id>/offline.json")
def offline(event_id: int) -> ResponseReturnValue:
    """What a gate keeps to answer scans offline: the event's public key, the void tickets, the
    ones already in, and each valid ticket's name, tier and seat."""
    event = _event(event_id)
    bundle = door.offline_bundle(get_session(), event, now=utcnow())
    response = jsonify(answers.bundle_json(bundle))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:event_id>/sync")
def sync(event_id: int) -> ResponseReturnValue:
    """Scans a gate admitted offline, each admitted now or reported (a conflict: admitted twice)."""
    event = _event(event_id)
    try:
        queued = parse_sync(request)
    except InvalidSync as invalid:
        return jsonify(error="invalid", message=str(invalid)), invalid.status
    results = scans.sync(get_session(), event, staff=signed_in_user(), scans=queued, now=utcnow())
    return jsonify(
        results=[
            {"scan_id": q.scan_id, **answers.result_json(r)}
            for q, r in zip(queued, results, strict=True)
        ]
    )


@bp.get("/<int:event_id>/conflicts")
def conflicts(event_id: int) -> ResponseReturnValue:
    """Tickets admitted twice while gates were offline."""
    event = _event(event_id)
    return render_template(
        "checkin/conflicts.html",
        event=event,
        double_admissions=door.double_admissions(get_session(), event),
    )
