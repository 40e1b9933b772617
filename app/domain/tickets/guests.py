"""Guest names: the buyer puts the name of whoever uses a ticket on it, before the event."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.base import NotFound
from app.domain.ticketing.locking import lock_booking
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketStatus
from app.domain.tickets.errors import EventAlreadyStarted, InvalidGuestName, TicketNotNameable

MAX_NAME = 120
# Besides control characters: line and paragraph separators, and the bidirectional overrides
# and isolates, which can make a name printed on a ticket read as another.
_NOT_IN_NAMES = re.compile("[\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_guest_name(raw: str) -> str | None:
    """The name as stored: spaces trimmed and runs of them made one; None for a blank name
    (the ticket goes back to the buyer's name)."""
    if any(unicodedata.category(char) == "Cc" for char in raw) or _NOT_IN_NAMES.search(raw):
        raise InvalidGuestName("Use letters, spaces and punctuation only in a name.")
    name = " ".join(raw.split())
    if not name:
        return None
    if len(name) > MAX_NAME:
        raise InvalidGuestName(f"Use at most {MAX_NAME} characters for a name.")
    return name


def names_open(booking: Booking, now: datetime) -> bool:
    """Whether names may still go on the booking's valid tickets (the pages offer the form)."""
    return booking.status == BookingStatus.CONFIRMED and now < booking.event.starts_at


def name_ticket(
    session: Session, booking: Booking, ticket_id: int, name: str, *, user_id: int, now: datetime
) -> Ticket:
    """Put `name` on the ticket `ticket_id` of the user's booking (a blank name puts the
    buyer's back). Refused for someone else's booking or ticket (NotFound, as if it did not
    exist), a void ticket or a booking no longer confirmed, and once the event has started.

    The booking's row lock orders this with a cancellation or refund voiding the ticket.
    """
    cleaned = clean_guest_name(name)
    if booking.user_id != user_id:
        raise NotFound("We could not find that ticket.")
    ticket = session.scalars(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.booking_id == booking.id)
    ).first()
    if ticket is None:
        raise NotFound("We could not find that ticket.")
    locked = lock_booking(session, booking.id)
    session.refresh(ticket)
    if locked.status != BookingStatus.CONFIRMED or ticket.status != TicketStatus.VALID:
        raise TicketNotNameable()
    if not names_open(locked, now):
        raise EventAlreadyStarted()
    if ticket.holder_name == cleaned:
        return ticket
    ticket.holder_name = cleaned
    session.flush()
    # The name itself stays out of the log: entries can never be deleted, a guest's name can.
    audit.record(
        session,
        "ticket.guest_named" if cleaned else "ticket.guest_cleared",
        actor_id=user_id,
        target=ticket,
        now=now,
        booking=locked.reference,
    )
    return ticket
