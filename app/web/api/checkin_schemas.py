"""The check-in API's request and response types (the OpenAPI document takes its schemas from
them). The limits are the door's (`app/web/checkin/forms.py`)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.checkin.forms import CODE_MAX, DEFAULT_GATE, GATE_MAX, PLAIN_TEXT

VOID_PAGE_DEFAULT = 500
VOID_PAGE_MAX = 2000


class ScanReason(enum.StrEnum):
    """Why a scan is green or red: the door's answers, one stable code each."""

    ADMITTED = "admitted"
    ALREADY_CHECKED_IN = "already_checked_in"  # `check_in` says when, at which gate, by whom
    OTHER_EVENT = "other_event"
    CANCELLED = "cancelled"  # the booking was cancelled
    REFUNDED = "refunded"  # the booking was refunded
    VOIDED = "voided"  # the ticket alone was voided (refunded on its own)
    NOT_A_TICKET = "not_a_ticket"


class VoidReason(enum.StrEnum):
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    VOIDED = "voided"


class ScanCreate(BaseModel):
    """A scanned QR code. With a `scan_id` the scan is idempotent by itself: the same id again
    answers what it answered first and changes nothing (no `Idempotency-Key` needed)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(min_length=1, max_length=CODE_MAX, description="The QR code's text")
    gate: str | None = Field(
        None,
        min_length=1,
        max_length=GATE_MAX,
        pattern=PLAIN_TEXT,
        description=f"Default: {DEFAULT_GATE}",
    )
    scan_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="The app's own id of this scan (e.g. a UUID), unique per scan",
    )


class ScannedTicket(BaseModel):
    id: int
    name: str = Field(description="The holder's name, else the buyer's")
    tier: str
    seat: str | None = Field(description="null: general admission")


class CheckInOut(BaseModel):
    id: int = Field(description="Undo it with this id")
    at: datetime = Field(description="When it was scanned")
    gate: str
    by: str = Field(description="The staff member's name")


class ScanOut(BaseModel):
    """A red answer is an answer (200), not an error: show it, do not retry it."""

    result: Literal["green", "red"]
    reason: ScanReason
    message: str = Field(description="What the door page says, for people")
    ticket: ScannedTicket | None = Field(description="null when the code names no ticket here")
    check_in: CheckInOut | None = Field(
        description="Green: this admission. Already checked in: the one that stands"
    )


class UndoOut(BaseModel):
    check_in_id: int
    ticket_id: int = Field(description="Scanning it again admits it")


class TierCount(BaseModel):
    name: str
    checked_in: int
    expected: int


class GateCount(BaseModel):
    gate: str
    checked_in: int


class CountersOut(BaseModel):
    event_id: int
    checked_in: int
    expected: int = Field(description="Valid tickets of confirmed bookings")
    tiers: list[TierCount]
    gates: list[GateCount]


class VoidListQuery(BaseModel):
    cursor: str | None = Field(
        None, max_length=18, pattern=r"^[0-9]+$", description="A page's `next_cursor`"
    )
    limit: int = Field(VOID_PAGE_DEFAULT, ge=1, le=VOID_PAGE_MAX)


class VoidTicketOut(BaseModel):
    id: int
    reason: VoidReason


class VoidTicketPage(BaseModel):
    """For answers offline: a code that verifies with `public_key` and names a ticket listed
    here is red."""

    event_id: int
    public_key: str = Field(description="The event's Ed25519 key (32 bytes, base64url)")
    items: list[VoidTicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")
