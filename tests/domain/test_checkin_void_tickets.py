"""The void tickets page by page: the door's offline list (cancelled, refunded, or one ticket
voided alone), each with the reason a scan gives, by id after a cursor."""

from __future__ import annotations

from app.domain.checkin.door import offline_bundle
from app.domain.checkin.scans import scan
from app.domain.checkin.void_tickets import VoidTicket, void_tickets
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, BookingStatus, TicketStatus


def test_void_tickets_by_page_with_the_scans_reasons(
    db, now, make_tier, make_tickets, make_staff, ticket_code
):  # noqa: ANN001
    tier = make_tier(capacity=20)
    event = tier.event
    valid = make_tickets(tier=tier, quantity=2)
    cancelled = make_tickets(tier=tier, quantity=2)
    cancel_booking(db, db.get(Booking, cancelled[0].booking_id), actor_id=None, now=now)
    refunded = make_tickets(tier=tier)
    db.get(Booking, refunded[0].booking_id).status = BookingStatus.REFUNDED
    valid[1].status = TicketStatus.VOID  # refunded alone: its booking stands
    make_tickets()  # another event's
    db.flush()

    first = void_tickets(db, event, limit=2)
    assert first.tickets == [
        VoidTicket(valid[1].id, "voided"),
        VoidTicket(cancelled[0].id, "cancelled"),
    ]
    assert first.last_id == cancelled[0].id
    rest = void_tickets(db, event, after_id=first.last_id, limit=2)
    assert rest.tickets == [
        VoidTicket(cancelled[1].id, "cancelled"),
        VoidTicket(refunded[0].id, "refunded"),
    ]
    assert rest.last_id is None  # a full last page says so (one row more was asked for)
    listed = [t.id for t in first.tickets + rest.tickets]
    assert listed == offline_bundle(db, event, now=now).void
    staff = make_staff(event)
    for ticket, expected in zip(
        [valid[1], cancelled[0], refunded[0]], ["voided", "cancelled", "refunded"], strict=True
    ):
        answer = scan(
            db, event, code=ticket_code(ticket), gate="A", staff=staff, scan_id=None, now=now
        )
        assert answer.void_reason == expected
