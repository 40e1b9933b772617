"""What door staff read: live counters, the attendee search, the offline bundle a gate keeps,
and the tickets admitted twice while gates were offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.checkin.scans import CheckInInfo, TicketInfo, ticket_info
from app.domain.events.models import Event
from app.domain.tickets.signing import public_key

SEARCH_LIMIT = 20
SEARCH_MIN_CHARS = 2


@dataclass(frozen=True)
class Count:
    label: str  # a tier's name, or a gate
    checked_in: int
    expected: int | None = None  # None for gates (anyone may come through any gate)


@dataclass(frozen=True)
class Counters:
    checked_in: int
    expected: int
    tiers: list[Count]
    gates: list[Count]


# Two aggregates, each read from its own partial index however many tickets other events sold:
# expected, the valid tickets of each tier (`ix_tickets_tier_valid`: a ticket is valid only in
# a confirmed booking); checked in, the live check-ins by tier and gate
# (`ix_check_ins_event_live`). A ticket refunded after its holder came in still counts as in.
_EXPECTED = text(
    """
    SELECT tt.id, tt.name, count(t.tier_id) AS expected
    FROM ticket_tiers tt
    LEFT JOIN tickets t ON t.tier_id = tt.id AND t.status = 'valid'
    WHERE tt.event_id = :event_id
    GROUP BY tt.id, tt.name, tt.position
    ORDER BY tt.position, tt.id
    """
)
_CHECKED_IN = text(
    """
    SELECT tier_id, gate, count(*) AS checked_in FROM check_ins
    WHERE event_id = :event_id AND undone_at IS NULL
    GROUP BY tier_id, gate
    """
)


def counters(session: Session, event: Event) -> Counters:
    """Checked in against expected, in all and per tier; checked in per gate."""
    params = {"event_id": event.id}
    by_tier: dict[int, int] = {}
    by_gate: dict[str, int] = {}
    for row in session.execute(_CHECKED_IN, params):
        by_tier[row.tier_id] = by_tier.get(row.tier_id, 0) + row.checked_in
        by_gate[row.gate] = by_gate.get(row.gate, 0) + row.checked_in
    tiers = [
        Count(row.name, by_tier.get(row.id, 0), row.expected)
        for row in session.execute(_EXPECTED, params)
    ]
    return Counters(
        checked_in=sum(by_tier.values()),
        expected=sum(t.expected or 0 for t in tiers),
        tiers=tiers,
        gates=[Count(gate, n) for gate, n in sorted(by_gate.items())],
    )


@dataclass(frozen=True)
class SearchHit:
    ticket: TicketInfo
    reference: str
    valid: bool  # a valid ticket of a confirmed booking
    check_in: CheckInInfo | None  # the live check-in, when it is in


_TICKETS = """
    SELECT t.id, COALESCE(t.holder_name, u.name) AS name, tt.name AS tier,
           units.section, units.row_label, units.seat_number, b.reference,
           (t.status = 'valid' AND b.status = 'confirmed') AS valid,
           c.id AS check_in_id, c.scanned_at, c.gate, s.name AS staff_name
    FROM tickets t
    JOIN bookings b ON b.id = t.booking_id
    JOIN ticket_tiers tt ON tt.id = t.tier_id
    JOIN units ON units.id = t.unit_id
    LEFT JOIN users u ON u.id = b.user_id
    LEFT JOIN check_ins c ON c.ticket_id = t.id AND c.undone_at IS NULL
    LEFT JOIN users s ON s.id = c.staff_id
    WHERE b.event_id = :event_id AND b.status IN ('confirmed', 'cancelled', 'refunded')
"""
_SEARCH = text(
    _TICKETS
    + """
      AND (COALESCE(t.holder_name, u.name) ILIKE :pattern ESCAPE '\\'
           OR b.reference = :reference)
    ORDER BY name, t.id
    LIMIT :limit
    """
)


def like_pattern(query: str) -> str:
    """`query` as a LIKE pattern matching it anywhere, its own wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, event: Event, query: str) -> list[SearchHit]:
    """The event's tickets whose holder's or buyer's name contains `query`, or of the booking
    with that reference; at most `SEARCH_LIMIT`, by name."""
    query = query.strip()
    if len(query) < SEARCH_MIN_CHARS:
        return []
    rows = session.execute(
        _SEARCH,
        {
            "event_id": event.id,
            "pattern": like_pattern(query),
            "reference": query.upper(),
            "limit": SEARCH_LIMIT,
        },
    )
    return [
        SearchHit(
            ticket=ticket_info(
                row.id, row.name, row.tier, row.section, row.row_label, row.seat_number
            ),
            reference=row.reference,
            valid=row.valid,
            check_in=CheckInInfo(row.check_in_id, row.scanned_at, row.gate, row.staff_name or "")
            if row.check_in_id is not None
            else None,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class OfflineBundle:
    """What a gate needs to answer scans without the network."""

    event_id: int
    public_key: bytes  # Ed25519, 32 raw bytes: codes verify with it
    void: list[int]  # tickets of cancelled or refunded bookings, or voided
    checked_in: list[int]
    tickets: dict[int, TicketInfo]  # the valid ones, for the answer's name, tier and seat
    generated_at: datetime


def offline_bundle(session: Session, event: Event, *, now: datetime) -> OfflineBundle:
    void, checked_in, tickets = [], [], {}
    for row in session.execute(text(_TICKETS + " ORDER BY t.id"), {"event_id": event.id}):
        if not row.valid:
            void.append(row.id)
            continue
        tickets[row.id] = ticket_info(
            row.id, row.name, row.tier, row.section, row.row_label, row.seat_number
        )
        if row.check_in_id is not None:
            checked_in.append(row.id)
    return OfflineBundle(
        event_id=event.id,
        public_key=public_key(session, event.id, now=now),
        void=void,
        checked_in=checked_in,
        tickets=tickets,
        generated_at=now,
    )


@dataclass(frozen=True)
class DoubleAdmissionView:
    ticket: TicketInfo
    first: CheckInInfo  # the admission that stands
    again: CheckInInfo  # the offline one that came later (its id is the record's)


_DOUBLE_ADMISSIONS = text(
    """
    SELECT d.id, d.scanned_at, d.gate, ds.name AS staff_name,
           c.id AS check_in_id, c.scanned_at AS first_at, c.gate AS first_gate,
           cs.name AS first_staff_name,
           t.id AS ticket_id, COALESCE(t.holder_name, u.name) AS name, tt.name AS tier,
           units.section, units.row_label, units.seat_number
    FROM double_admissions d
    JOIN check_ins c ON c.id = d.check_in_id
    JOIN tickets t ON t.id = d.ticket_id
    JOIN bookings b ON b.id = t.booking_id
    JOIN ticket_tiers tt ON tt.id = t.tier_id
    JOIN units ON units.id = t.unit_id
    LEFT JOIN users u ON u.id = b.user_id
    LEFT JOIN users ds ON ds.id = d.staff_id
    LEFT JOIN users cs ON cs.id = c.staff_id
    WHERE d.event_id = :event_id
    ORDER BY d.scanned_at DESC, d.id DESC
    """
)


def double_admissions(session: Session, event: Event) -> list[DoubleAdmissionView]:
    """Tickets the event's gates admitted twice while offline, latest first."""
    return [
        DoubleAdmissionView(
            ticket=ticket_info(
                row.ticket_id, row.name, row.tier, row.section, row.row_label, row.seat_number
            ),
            first=CheckInInfo(
                row.check_in_id, row.first_at, row.first_gate, row.first_staff_name or ""
            ),
            again=CheckInInfo(row.id, row.scanned_at, row.gate, row.staff_name or ""),
        )
        for row in session.execute(_DOUBLE_ADMISSIONS, {"event_id": event.id})
    ]
