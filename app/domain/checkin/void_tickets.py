"""The void tickets of an event a page at a time, for scanner apps that answer offline: the
same tickets the door's offline bundle lists as void (`door.offline_bundle`), each with the
reason a scan gives (`scans.ScanResult.void_reason`).

Pages follow ticket ids (a keyset, so a page never repeats or skips a ticket while others are
voided). A ticket voided after a client read past its id shows up on the client's next pass
from the first page: nothing records when a ticket was voided, so there is no "since".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.events.models import Event

# Void: not a valid ticket of a confirmed booking, among the bookings that had tickets
# (`door._TICKETS`); the reason as `scans._not_admitted` names it.
_PAGE = text(
    """
    SELECT t.id,
           CASE WHEN b.status IN ('cancelled', 'refunded') THEN CAST(b.status AS text)
                ELSE 'voided' END AS reason
    FROM tickets t JOIN bookings b ON b.id = t.booking_id
    WHERE b.event_id = :event_id AND b.status IN ('confirmed', 'cancelled', 'refunded')
      AND NOT (t.status = 'valid' AND b.status = 'confirmed')
      AND t.id > :after_id
    ORDER BY t.id
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class VoidTicket:
    id: int
    reason: str  # "cancelled" or "refunded" (its booking), else "voided" (the ticket alone)


@dataclass(frozen=True)
class VoidPage:
    tickets: list[VoidTicket]
    last_id: int | None  # pass as `after_id` for the next page; None: this was the last


def void_tickets(session: Session, event: Event, *, after_id: int = 0, limit: int) -> VoidPage:
    """The event's void tickets with ids above `after_id`, at most `limit`, by id."""
    rows = session.execute(
        _PAGE, {"event_id": event.id, "after_id": after_id, "limit": limit + 1}
    ).all()
    tickets = [VoidTicket(row.id, row.reason) for row in rows[:limit]]
    return VoidPage(tickets, tickets[-1].id if len(rows) > limit else None)
