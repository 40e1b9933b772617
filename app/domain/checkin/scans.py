"""Scanning tickets at the door: admit, answer why not, undo, and sync what gates queued offline.

Admission is one statement (`_ADMIT`): it inserts the check-in only for a genuine, valid ticket
of a confirmed booking of this event, and `ON CONFLICT DO NOTHING` lets the partial unique
index `uq_check_ins_live_ticket` decide between gates scanning one ticket at once: the second
insert waits for the first transaction and then inserts nothing, so exactly one gate is green.
The same `DO NOTHING` covers the unique `scan_id`, which is how a replayed request is known.

`check_ins` is the one record of who is in: `tickets.checked_in_at` and the ticket status
`used` are not written (a ticket's check-in state is its live check-in row), so an undo
cannot leave two records disagreeing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select, text, update
from sqlalchemy import event as orm_events
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain import audit, live_notify
from app.domain.accounts.models import User
from app.domain.base import Busy, NotFound
from app.domain.checkin.errors import CheckInError
from app.domain.checkin.models import CheckIn, DoubleAdmission
from app.domain.events.models import Event
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.tickets.models import EventSigningKey
from app.domain.tickets.signing import InvalidTicketCode, public_key, verify
from app.domain.webhooks import emit as webhooks
from app.observability import metrics

CHANNEL = "check_ins"
MAX_SYNC_SCANS = 200


class Outcome(enum.StrEnum):
    ADMITTED = "admitted"
    ALREADY_CHECKED_IN = "already_checked_in"
    OTHER_EVENT = "other_event"
    VOID = "void"  # a cancelled or refunded booking, or a voided ticket
    NOT_A_TICKET = "not_a_ticket"


@dataclass(frozen=True)
class TicketInfo:
    id: int
    name: str  # the holder's, else the buyer's
    tier: str
    seat: str | None  # None for general admission


@dataclass(frozen=True)
class CheckInInfo:
    id: int
    at: datetime  # when it was scanned (a device's clock for offline scans)
    gate: str
    by: str  # the staff member's name


@dataclass(frozen=True)
class ScanResult:
    outcome: Outcome
    message: str
    ticket: TicketInfo | None = None
    check_in: CheckInInfo | None = None  # the admission, or the earlier one that stands
    conflict: bool = False  # an offline admission of a ticket another check-in admitted
    void_reason: str | None = None  # VOID: "cancelled", "refunded" (the booking) or "voided"

    @property
    def admitted(self) -> bool:
        return self.outcome == Outcome.ADMITTED


@dataclass(frozen=True)
class QueuedScan:
    """A scan a gate admitted while offline, sent when the network came back."""

    scan_id: str
    scanned_at: datetime
    gate: str
    code: str | None = None
    ticket_id: int | None = None


def ticket_info(
    ticket_id: int,
    name: str | None,
    tier: str,
    section: str | None,
    row_label: str | None,
    seat_number: str | None,
) -> TicketInfo:
    seat = seat_label(section, row_label, seat_number) if seat_number is not None else None
    return TicketInfo(id=ticket_id, name=name or "", tier=tier, seat=seat)


# Keys never change once made (one per event, never replaced): each is read once per process
# and database, and kept only once the transaction that read it has committed (a key made in a
# transaction that rolls back never existed).
_public_keys: dict[tuple[str, int], bytes] = {}
_KEYS_READ = "checkin_keys_read"


def _event_public_key(session: Session, event_id: int, now: datetime) -> bytes:
    cache_key = (str(session.get_bind().url), event_id)
    key = _public_keys.get(cache_key)
    if key is None:
        key = session.scalar(
            select(EventSigningKey.public_key).where(EventSigningKey.event_id == event_id)
        ) or public_key(session, event_id, now=now)
        session.info.setdefault(_KEYS_READ, {})[cache_key] = key
    return key


@orm_events.listens_for(Session, "after_commit")
def _keep_keys_read(session: Session) -> None:
    read = session.info.pop(_KEYS_READ, None)
    if read:
        if len(_public_keys) > 10_000:
            _public_keys.clear()
        _public_keys.update(read)


@orm_events.listens_for(Session, "after_soft_rollback")
def _forget_keys_read(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_KEYS_READ, None)


_ADMIT = text(
    """
    WITH ticket AS (
        SELECT t.id, t.status, t.holder_name, t.unit_id, t.tier_id,
               b.status AS booking_status, b.event_id, b.user_id,
               (CAST(:check AS bytea) IS NULL
                OR substring(sha256(convert_to(t.secret, 'UTF8')) FROM 1 FOR 4)
                   = CAST(:check AS bytea)) AS genuine
        FROM tickets t JOIN bookings b ON b.id = t.booking_id
        WHERE t.id = :ticket_id
        FOR SHARE OF t
    ), admitted AS (
        INSERT INTO check_ins (ticket_id, event_id, tier_id, gate, staff_id, scanned_at,
                               recorded_at, scan_id, offline)
        SELECT id, event_id, tier_id, :gate, :staff_id, :scanned_at, :now, :scan_id, :offline
        FROM ticket
        WHERE genuine AND event_id = :event_id
          AND status = 'valid' AND booking_status = 'confirmed'
        ON CONFLICT DO NOTHING
        RETURNING id
    )
    SELECT ticket.genuine, ticket.event_id, ticket.status, ticket.booking_status,
           COALESCE(ticket.holder_name, u.name) AS name, tt.name AS tier,
           units.section, units.row_label, units.seat_number,
           (SELECT id FROM admitted) AS check_in_id
    FROM ticket
    JOIN ticket_tiers tt ON tt.id = ticket.tier_id
    JOIN units ON units.id = ticket.unit_id
    LEFT JOIN users u ON u.id = ticket.user_id
    """
)

# The check-in that stands for a ticket, and the one a replayed scan id made (maybe the same).
_STANDING = text(
    """
    SELECT c.id, c.ticket_id, c.scanned_at, c.gate, c.scan_id, u.name AS staff_name
    FROM check_ins c LEFT JOIN users u ON u.id = c.staff_id
    WHERE (c.ticket_id = :ticket_id AND c.undone_at IS NULL)
       OR (CAST(:scan_id AS varchar) IS NOT NULL AND c.scan_id = :scan_id)
    """
)

_VOID_MESSAGES = {
    "cancelled": "Not valid: this booking was cancelled.",
    "refunded": "Not valid: this ticket was refunded.",
}


def scan(
    session: Session,
    event: Event,
    *,
    code: str | None = None,
    ticket_id: int | None = None,
    gate: str,
    staff: User,
    scan_id: str | None,
    now: datetime,
    scanned_at: datetime | None = None,
    offline: bool = False,
) -> ScanResult:
    """Admit the ticket a scanned `code` (or, from the search list, `ticket_id`) names, or say
    why not. The same `scan_id` again answers what it answered first and changes nothing."""
    result = _scan(
        session,
        event,
        code=code,
        ticket_id=ticket_id,
        gate=gate,
        staff=staff,
        scan_id=scan_id,
        now=now,
        scanned_at=scanned_at,
        offline=offline,
    )
    metrics.count(session, metrics.CHECKINS.labels(result.outcome.value))
    return result


def _scan(
    session: Session,
    event: Event,
    *,
    code: str | None,
    ticket_id: int | None,
    gate: str,
    staff: User,
    scan_id: str | None,
    now: datetime,
    scanned_at: datetime | None,
    offline: bool,
) -> ScanResult:
    if (code is None) == (ticket_id is None):
        raise CheckInError("invalid_scan")
    check = None
    if code is not None:
        try:
            verified = verify(code, event.id, _event_public_key(session, event.id, now))
        except InvalidTicketCode as error:
            if error.reason == "another event":
                return ScanResult(
                    Outcome.OTHER_EVENT, "Not valid: this ticket is for another event."
                )
            return ScanResult(Outcome.NOT_A_TICKET, "Not a ticket of this event.")
        ticket_id, check = verified.ticket_id, verified.check
    assert ticket_id is not None
    params = {
        "ticket_id": ticket_id,
        "check": check,
        "event_id": event.id,
        "gate": gate,
        "staff_id": staff.id,
        "scanned_at": min(scanned_at or now, now),
        "now": now,
        "scan_id": scan_id or None,
        "offline": offline,
    }
    # A check-in undone between our insert and our look-up leaves nothing standing: try again.
    for _ in range(3):
        row = session.connection().execute(_ADMIT, params).one_or_none()
        if row is None or not row.genuine or row.event_id != event.id:
            # No such ticket, a check code that does not match, or (by id) another event's.
            return ScanResult(Outcome.NOT_A_TICKET, "Not a ticket of this event.")
        ticket = ticket_info(
            ticket_id, row.name, row.tier, row.section, row.row_label, row.seat_number
        )
        if row.check_in_id is not None:
            publish_check_ins(session, event.id)
            webhooks.ticket_checked_in(
                session,
                event_id=event.id,
                ticket_id=ticket_id,
                check_in_id=row.check_in_id,
                gate=gate,
                now=now,
            )
            by = staff.name
            at = params["scanned_at"]
            return _admitted(ticket, CheckInInfo(row.check_in_id, at, gate, by))
        result = _not_admitted(session, event, ticket, row, scan_id=params["scan_id"])
        if result is not None:
            return result
    raise Busy("This ticket is changing at another gate: scan it again.")


def _admitted(ticket: TicketInfo, check_in: CheckInInfo) -> ScanResult:
    return ScanResult(Outcome.ADMITTED, "Valid ticket.", ticket, check_in)


def _not_admitted(
    session: Session, event: Event, ticket: TicketInfo, row: Row[Any], *, scan_id: str | None
) -> ScanResult | None:
    """Why a genuine ticket of this event was not admitted (None: nothing stands, retry)."""
    standing = (
        session.connection().execute(_STANDING, {"ticket_id": ticket.id, "scan_id": scan_id}).all()
    )
    for check_in in standing:
        if scan_id is not None and check_in.scan_id == scan_id:
            if check_in.ticket_id != ticket.id:
                raise CheckInError("scan_id_reused")
            return _admitted(ticket, _check_in_info(check_in))  # a replay: its first answer
    if row.status != "valid" or row.booking_status != "confirmed":
        message = _VOID_MESSAGES.get(row.booking_status, "Not valid: this ticket was voided.")
        reason = row.booking_status if row.booking_status in _VOID_MESSAGES else "voided"
        return ScanResult(Outcome.VOID, message, ticket, void_reason=reason)
    live = [c for c in standing if c.ticket_id == ticket.id]
    if not live:
        return None
    earlier = _check_in_info(live[0])
    return ScanResult(Outcome.ALREADY_CHECKED_IN, already_message(event, earlier), ticket, earlier)


def _check_in_info(row: Row[Any]) -> CheckInInfo:
    return CheckInInfo(id=row.id, at=row.scanned_at, gate=row.gate, by=row.staff_name or "")


def already_message(event: Event, earlier: CheckInInfo) -> str:
    at = earlier.at.astimezone(ZoneInfo(event.timezone)).strftime("%H:%M")
    by = f" by {earlier.by}" if earlier.by else ""
    gate = f" at gate {earlier.gate}" if earlier.gate else ""
    return f"Already checked in at {at}{gate}{by}."


def publish_check_ins(session: Session, event_id: int) -> None:
    """Tell every web process (after commit) that event `event_id`'s check-ins changed."""
    live_notify.publish(session, CHANNEL, event_id)


def undo(session: Session, event: Event, check_in_id: int, *, staff: User, now: datetime) -> int:
    """Undo a check-in of this event (the ticket may be admitted again); returns its ticket id.
    Another event's check-in is "not found"."""
    ticket_id = session.scalar(
        update(CheckIn)
        .where(CheckIn.id == check_in_id, CheckIn.event_id == event.id, CheckIn.undone_at.is_(None))
        .values(undone_at=now, undone_by_id=staff.id)
        .returning(CheckIn.ticket_id)
        .execution_options(synchronize_session=False)
    )
    if ticket_id is None:
        found = session.get(CheckIn, check_in_id)
        if found is None or found.event_id != event.id:
            raise NotFound("We could not find that check-in.")
        raise CheckInError("already_undone")
    audit.record(
        session,
        "check_in.undone",
        actor_id=staff.id,
        target=session.get(CheckIn, check_in_id),
        now=now,
        event_id=event.id,
        ticket_id=ticket_id,
    )
    publish_check_ins(session, event.id)
    return ticket_id


def sync(
    session: Session, event: Event, *, staff: User, scans: Sequence[QueuedScan], now: datetime
) -> list[ScanResult]:
    """Admissions a gate made offline, each through the same admission as a live scan. A ticket
    another check-in had admitted was let in twice: recorded (`DoubleAdmission`) and reported
    as a conflict with the check-in that stands. Sending the same scans again changes nothing."""
    if len(scans) > MAX_SYNC_SCANS:
        raise CheckInError("too_many_scans")
    results = []
    for queued in scans:
        result = scan(
            session,
            event,
            code=queued.code,
            ticket_id=queued.ticket_id,
            gate=queued.gate,
            staff=staff,
            scan_id=queued.scan_id,
            now=now,
            scanned_at=queued.scanned_at,
            offline=True,
        )
        if result.outcome == Outcome.ALREADY_CHECKED_IN:
            result = _double_admission(session, event, queued, result, staff=staff, now=now)
        results.append(result)
    return results


def _double_admission(
    session: Session,
    event: Event,
    queued: QueuedScan,
    result: ScanResult,
    *,
    staff: User,
    now: datetime,
) -> ScanResult:
    assert result.ticket is not None and result.check_in is not None
    session.execute(
        insert(DoubleAdmission)
        .values(
            event_id=event.id,
            ticket_id=result.ticket.id,
            check_in_id=result.check_in.id,
            gate=queued.gate,
            staff_id=staff.id,
            scanned_at=min(queued.scanned_at, now),
            recorded_at=now,
            scan_id=queued.scan_id,
        )
        .on_conflict_do_nothing(index_elements=["scan_id"])
    )
    at = min(queued.scanned_at, now).astimezone(ZoneInfo(event.timezone)).strftime("%H:%M")
    message = (
        f"Admitted twice while offline: here at gate {queued.gate} at {at}; "
        + result.message[0].lower()
        + result.message[1:]
    )
    return replace(result, message=message, conflict=True)
