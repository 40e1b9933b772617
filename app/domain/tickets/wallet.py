"""A booking's tickets as the buyer carries them: on the ticket page, in the PDF, at the door.

Only a confirmed booking's valid tickets carry a live code. A void ticket (its booking
cancelled, or the ticket refunded) is listed as void and has no code at all, so there is
nothing to scan. One already checked in keeps its code (an undone check-in lets it in again)
and says when it was let in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.checkin.models import CheckIn
from app.domain.ticketing.models import (
    Booking,
    BookingStatus,
    Ticket,
    TicketStatus,
    TicketTier,
    Unit,
)
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.tickets import signing


@dataclass(frozen=True)
class WalletTicket:
    id: int
    number: int  # 1, 2, ... within the booking, in seat order
    status: TicketStatus
    tier_name: str
    seat: str | None  # "Stalls, Row B seat 9"; None for general admission
    attendee: str  # the guest named on the ticket, else the buyer
    guest_name: str | None  # the name put on the ticket, if any
    code: str | None  # the signed text of its QR; None unless the ticket is live
    checked_in_at: datetime | None = None  # its live check-in at the door

    @property
    def live(self) -> bool:
        return self.code is not None


def booking_tickets(session: Session, booking: Booking, *, now: datetime) -> list[WalletTicket]:
    """The booking's tickets in seat order (none while it is held or after its hold ran out)."""
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.status,
            Ticket.secret,
            Ticket.holder_name,
            TicketTier.name,
            Unit.section,
            Unit.row_label,
            Unit.seat_number,
            CheckIn.scanned_at,
        )
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .join(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(CheckIn, (CheckIn.ticket_id == Ticket.id) & CheckIn.undone_at.is_(None))
        .where(Ticket.booking_id == booking.id)
        .order_by(Unit.seat_order, Ticket.id)
    ).all()
    confirmed = booking.status == BookingStatus.CONFIRMED
    key = None
    if confirmed and any(row.status == TicketStatus.VALID for row in rows):
        key = signing.event_key(session, booking.event_id, now=now)
    buyer = booking.user.name if booking.user is not None else ""
    tickets = []
    for number, row in enumerate(rows, start=1):
        code = None
        if key is not None and row.status == TicketStatus.VALID:
            code = signing.sign(
                key,
                signing.TicketCode(booking.event_id, row.id, signing.check_code(row.secret)),
            )
        tickets.append(
            WalletTicket(
                id=row.id,
                number=number,
                status=row.status,
                tier_name=row.name,
                seat=seat_label(row.section, row.row_label, row.seat_number)
                if row.seat_number is not None
                else None,
                attendee=row.holder_name or buyer,
                guest_name=row.holder_name,
                code=code,
                checked_in_at=row.scanned_at,
            )
        )
    return tickets
