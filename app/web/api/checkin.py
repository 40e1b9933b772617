"""Check-in through the API, for door staff apps (scope `checkin`): scan, undo, the live
counters and the void tickets a scanner keeps for offline answers.

The door's services and its one policy: `access.checkin_event` lets in admins, the organizer,
granted staff and team members with the door; for anyone else the event is a 404 and nothing
changes. A scan answers 200 whether green or red (a red answer is an answer, with a stable
`reason`); problems are for requests that could not be answered (not staff, a malformed body,
a scan id reused for another ticket, a ticket changing at another gate).
"""

from __future__ import annotations

import base64

from flask import Response

from app.db import get_session
from app.domain.base import NotFound, utcnow
from app.domain.checkin import door, scans
from app.domain.checkin.access import checkin_event
from app.domain.checkin.scans import Outcome, ScanResult
from app.domain.checkin.void_tickets import void_tickets
from app.domain.events.models import Event
from app.domain.tickets.signing import public_key
from app.web.api import bp
from app.web.api.bookings import idempotent, json_answer, json_body
from app.web.api.checkin_schemas import (
    CheckInOut,
    CountersOut,
    GateCount,
    ScanCreate,
    ScannedTicket,
    ScanOut,
    ScanReason,
    TierCount,
    UndoOut,
    VoidListQuery,
    VoidReason,
    VoidTicketOut,
    VoidTicketPage,
)
from app.web.api.events import etagged_json, query_as
from app.web.api.guard import api_caller, api_user
from app.web.api.openapi import ID_MAX, operation
from app.web.checkin.forms import DEFAULT_GATE, clean_gate

SCOPE = "checkin"
TAG = "check-in"
BIGINT_MAX = 2**63 - 1
BASE = "/checkin/events/<int:event_id>"


def _event(event_id: int) -> Event:
    if event_id > ID_MAX:
        raise NotFound("We could not find that event.")
    return checkin_event(get_session(), api_caller().user, event_id)


def _reason(result: ScanResult) -> ScanReason:
    if result.outcome == Outcome.VOID:
        return ScanReason(result.void_reason or "voided")
    return ScanReason(result.outcome.value)


def _scan_out(result: ScanResult) -> ScanOut:
    ticket, check_in = result.ticket, result.check_in
    return ScanOut(
        result="green" if result.admitted else "red",
        reason=_reason(result),
        message=result.message,
        ticket=ScannedTicket(id=ticket.id, name=ticket.name, tier=ticket.tier, seat=ticket.seat)
        if ticket
        else None,
        check_in=CheckInOut(id=check_in.id, at=check_in.at, gate=check_in.gate, by=check_in.by)
        if check_in
        else None,
    )


@bp.post(f"{BASE}/scans")
@operation(
    summary="Scan a ticket",
    tag=TAG,
    body=ScanCreate,
    response=ScanOut,
    errors=(400, 403, 404, 409, 422),
    bearer=True,
    idempotent=True,
)
@api_user(scope=SCOPE)
@idempotent
def scan(event_id: int) -> Response:
    """Admit the ticket a QR code names, or say why not (green or red, both 200)."""
    event = _event(event_id)
    data = json_body(ScanCreate)
    result = scans.scan(
        get_session(),
        event,
        code=data.code,
        gate=clean_gate(data.gate) or DEFAULT_GATE,
        staff=api_caller().user,
        scan_id=data.scan_id,
        now=utcnow(),
    )
    return json_answer(_scan_out(result))


@bp.post(f"{BASE}/check-ins/<int:check_in_id>/undo")
@operation(
    summary="Undo a check-in",
    tag=TAG,
    response=UndoOut,
    errors=(400, 403, 404, 409),
    bearer=True,
    idempotent=True,
)
@api_user(scope=SCOPE)
@idempotent
def undo_check_in(event_id: int, check_in_id: int) -> Response:
    """Undo a check-in of this event (audited); the ticket may be scanned in again."""
    event = _event(event_id)
    if check_in_id > BIGINT_MAX:
        raise NotFound("We could not find that check-in.")
    ticket_id = scans.undo(get_session(), event, check_in_id, staff=api_caller().user, now=utcnow())
    return json_answer(UndoOut(check_in_id=check_in_id, ticket_id=ticket_id))


@bp.get(f"{BASE}/counters")
@operation(
    summary="Check-in counters",
    tag=TAG,
    response=CountersOut,
    errors=(403, 404),
    etag=True,
    bearer=True,
)
@api_user(scope=SCOPE)
def check_in_counters(event_id: int) -> Response:
    """Checked in against expected, in all and per tier; checked in per gate."""
    event = _event(event_id)
    seen = door.counters(get_session(), event)
    answer = CountersOut(
        event_id=event.id,
        checked_in=seen.checked_in,
        expected=seen.expected,
        tiers=[
            TierCount(name=t.label, checked_in=t.checked_in, expected=t.expected or 0)
            for t in seen.tiers
        ],
        gates=[GateCount(gate=g.label, checked_in=g.checked_in) for g in seen.gates],
    )
    return etagged_json(answer)


@bp.get(f"{BASE}/void-tickets")
@operation(
    summary="Void tickets",
    tag=TAG,
    query=VoidListQuery,
    response=VoidTicketPage,
    errors=(400, 403, 404),
    etag=True,
    bearer=True,
)
@api_user(scope=SCOPE)
def void_ticket_list(event_id: int) -> Response:
    """The tickets a scan answers red as cancelled, refunded or voided, by id, a page at a time;
    with the event's public key, so an app answers scans offline as the door's scanner does."""
    event = _event(event_id)
    query = query_as(VoidListQuery)
    session = get_session()
    page = void_tickets(
        session, event, after_id=int(query.cursor) if query.cursor else 0, limit=query.limit
    )
    key = public_key(session, event.id, now=utcnow())
    answer = VoidTicketPage(
        event_id=event.id,
        public_key=base64.urlsafe_b64encode(key).decode().rstrip("="),
        items=[VoidTicketOut(id=t.id, reason=VoidReason(t.reason)) for t in page.tickets],
        next_cursor=str(page.last_id) if page.last_id is not None else None,
    )
    return etagged_json(answer)
