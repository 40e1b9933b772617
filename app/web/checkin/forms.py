"""The door's forms, and the shape of an offline sync. Checks here are about shape; what a
scan means is the domain's (app/domain/checkin/scans.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Request
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from app.domain.checkin.scans import MAX_SYNC_SCANS, QueuedScan
from app.web.forms import AppForm

DEFAULT_GATE = "Main"
GATE_COOKIE = "checkin_gate"
GATE_MAX = 40
CODE_MAX = 200  # a ticket code is 130 characters; room for spaces a hand adds
SCAN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses a NUL)
SYNC_MAX_BYTES = 256 * 1024


def clean_gate(value: object) -> str | None:
    """A gate name as typed (trimmed), or None when there is none or it is not a fit one."""
    if not isinstance(value, str):
        return None
    gate = " ".join(value.split())
    if CONTROL.search(gate):
        return None
    return gate if 0 < len(gate) <= GATE_MAX else None


def gate_of(request: Request) -> str:
    """The gate this phone is at: the `gate` query parameter, else the one it last used."""
    return (
        clean_gate(request.args.get("gate"))
        or clean_gate(request.cookies.get(GATE_COOKIE))
        or DEFAULT_GATE
    )


class _DoorForm(AppForm):
    class Meta:
        csrf = False  # CSRFProtect checked the token (form field or header) before the view


class ScanForm(_DoorForm):
    code = StringField("Ticket code", validators=[Optional(), Length(max=CODE_MAX)])
    ticket_id = IntegerField("Ticket", validators=[Optional(), NumberRange(min=1, max=2**62)])
    gate = StringField(
        "Gate",
        validators=[
            Optional(),
            Length(max=GATE_MAX),
            Regexp(PLAIN_TEXT, message="A gate's name cannot hold control characters."),
        ],
    )
    scan_id = StringField("Scan id", validators=[Optional(), Regexp(SCAN_ID)])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if bool((self.code.data or "").strip()) == (self.ticket_id.data is not None):
            self.code.errors.append("Enter the code printed under the QR code.")
            return False
        return True

    def gate_value(self) -> str:
        return clean_gate(self.gate.data) or DEFAULT_GATE


class UndoForm(_DoorForm):
    check_in_id = IntegerField("Check-in", validators=[NumberRange(min=1, max=2**62)])


class SearchForm(_DoorForm):
    q = StringField("Name or booking reference", validators=[Optional(), Length(max=100)])


def _queued(item: object) -> QueuedScan:
    if not isinstance(item, dict):
        raise ValueError("each scan is an object")
    scan_id, code, ticket_id = item.get("scan_id"), item.get("code"), item.get("ticket_id")
    if not isinstance(scan_id, str) or not SCAN_ID.match(scan_id):
        raise ValueError("scan_id: 1 to 64 letters, digits or ._:-")
    if code is not None and (not isinstance(code, str) or not 0 < len(code) <= CODE_MAX):
        raise ValueError(f"code: a text of at most {CODE_MAX} characters")
    if ticket_id is not None and (
        isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or ticket_id < 1
    ):
        raise ValueError("ticket_id: a positive whole number")
    if (code is None) == (ticket_id is None):
        raise ValueError("each scan has a code or a ticket_id")
    gate = clean_gate(item.get("gate", DEFAULT_GATE))
    if gate is None:
        raise ValueError(f"gate: a name of 1 to {GATE_MAX} characters")
    scanned_at = item.get("scanned_at")
    try:
        when = datetime.fromisoformat(scanned_at) if isinstance(scanned_at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValueError("scanned_at: an ISO 8601 time with its offset")
    return QueuedScan(
        scan_id=scan_id, scanned_at=when.astimezone(UTC), gate=gate, code=code, ticket_id=ticket_id
    )


class InvalidSync(ValueError):
    """A sync request of the wrong shape or size (nothing of it is applied)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def parse_sync(request: Request) -> list[QueuedScan]:
    """The queued scans of a sync request; InvalidSync says what is wrong with it."""
    if (request.content_length or 0) > SYNC_MAX_BYTES:
        raise InvalidSync("The sync is too large: send it in smaller batches.", 413)
    body = request.get_json(silent=True)
    items = body.get("scans") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidSync('Send JSON: {"scans": [...]}.')
    if len(items) > MAX_SYNC_SCANS:
        raise InvalidSync(f"At most {MAX_SYNC_SCANS} scans per sync.")
    queued = []
    for number, item in enumerate(items):
        try:
            queued.append(_queued(item))
        except ValueError as problem:
            raise InvalidSync(f"scans[{number}]: {problem}") from None
    return queued
