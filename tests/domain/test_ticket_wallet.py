"""A booking's tickets as the buyer carries them, and guest names on them.

Only a confirmed booking's valid tickets carry a signed code (it verifies with the event's
public key alone and names its ticket); void ones carry none. A guest's name goes only on a
valid ticket of one's own confirmed booking before the event, and every refusal changes
nothing, the audit log included.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketStatus
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.tickets.errors import EventAlreadyStarted, InvalidGuestName, TicketNotNameable
from app.domain.tickets.guests import clean_guest_name, name_ticket
from app.domain.tickets.signing import check_code, public_key, verify
from app.domain.tickets.wallet import booking_tickets

OFFERS = OfferSettings()


def ticket_rows(db, booking) -> list[Ticket]:
    db.expire_all()
    return list(
        db.scalars(select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id))
    )


def audit_count(db) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry))


def test_each_seat_of_a_confirmed_booking_has_a_signed_code_naming_its_ticket(
    db, now, make_user, make_seated_booking
):
    buyer = make_user(name="Clara Buyer")
    booking = make_seated_booking(buyer=buyer)
    assert booking.status == BookingStatus.CONFIRMED
    tickets = booking_tickets(db, booking, now=now)
    rows = ticket_rows(db, booking)
    assert [t.id for t in tickets] == [r.id for r in rows]
    assert [t.seat for t in tickets] == ["Stalls, Row B seat 1", "Stalls, Row B seat 2"]
    assert [t.number for t in tickets] == [1, 2]
    assert {(t.tier_name, t.attendee, t.status) for t in tickets} == {
        ("Stalls", "Clara Buyer", TicketStatus.VALID)
    }
    public = public_key(db, booking.event_id, now=now)
    for ticket, row in zip(tickets, rows, strict=True):
        assert ticket.live and ticket.code is not None
        code = verify(ticket.code, booking.event_id, public)
        assert (code.ticket_id, code.check) == (row.id, check_code(row.secret))


def test_a_held_booking_has_no_tickets_yet(db, now, make_seated_booking):
    booking = make_seated_booking(price_minor=3000)
    assert booking.status == BookingStatus.PENDING
    assert booking_tickets(db, booking, now=now) == []


def test_cancelling_voids_every_ticket_and_its_code(db, now, make_seated_booking):
    booking = make_seated_booking()
    cancel_booking(db, booking, actor_id=booking.user_id, now=now, offers=OFFERS)
    tickets = booking_tickets(db, booking, now=now)
    assert [(t.status, t.code, t.live) for t in tickets] == [(TicketStatus.VOID, None, False)] * 2


def test_a_partial_refund_voids_only_the_refunded_ticket(db, now, make_seated_booking, pay_booking):
    booking = pay_booking(make_seated_booking(price_minor=3000))
    assert booking.status == BookingStatus.CONFIRMED
    first, second = ticket_rows(db, booking)
    refund_booking(
        db, booking, ticket_ids=[first.id], reason="Swap", actor_id=None, now=now, offers=OFFERS
    )
    db.expire_all()
    tickets = {t.id: t for t in booking_tickets(db, db.get(Booking, booking.id), now=now)}
    assert tickets[first.id].status == TicketStatus.VOID and tickets[first.id].code is None
    assert tickets[second.id].live
    public = public_key(db, booking.event_id, now=now)
    assert verify(tickets[second.id].code or "", booking.event_id, public).ticket_id == second.id


def test_a_guest_name_goes_on_one_ticket_and_a_blank_one_gives_it_back(
    db, now, make_user, make_seated_booking
):
    buyer = make_user(name="Clara Buyer")
    booking = make_seated_booking(buyer=buyer)
    first, second = ticket_rows(db, booking)
    name_ticket(db, booking, first.id, "  Ada   Lovelace ", user_id=buyer.id, now=now)
    by_id = {t.id: t for t in booking_tickets(db, booking, now=now)}
    assert (by_id[first.id].attendee, by_id[first.id].guest_name) == (
        "Ada Lovelace",
        "Ada Lovelace",
    )
    assert by_id[second.id].attendee == "Clara Buyer"
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "ticket.guest_named",
        buyer.id,
        first.id,
    )
    assert "Ada" not in str(entry.data)  # a guest's name can be deleted; the log cannot
    name_ticket(db, booking, first.id, "   ", user_id=buyer.id, now=now)
    assert ticket_rows(db, booking)[0].holder_name is None
    assert booking_tickets(db, booking, now=now)[0].attendee == "Clara Buyer"
    assert db.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == (
        "ticket.guest_cleared"
    )


@pytest.mark.parametrize(
    "raw", ["x" * 121, "Ada\x00", "Ada\nLovelace", "Ada\tL", "\u202eecalevoL adA", "A\u2028B"]
)
def test_a_name_too_long_or_with_control_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidGuestName):
        clean_guest_name(raw)


def test_names_of_every_script_up_to_120_characters_are_kept() -> None:
    assert clean_guest_name("Zoë O'Brien-Šimić") == "Zoë O'Brien-Šimić"
    assert clean_guest_name("山田 太郎") == "山田 太郎"
    assert clean_guest_name("x" * 120) == "x" * 120
    assert clean_guest_name("") is None


def test_every_refusal_changes_nothing(db, now, make_user, make_seated_booking):
    buyer, stranger = make_user(), make_user()
    booking = make_seated_booking(buyer=buyer)
    theirs = make_seated_booking(buyer=stranger)
    first, second = ticket_rows(db, booking)
    name_ticket(db, booking, second.id, "Kept Name", user_id=buyer.id, now=now)
    other_ticket = ticket_rows(db, theirs)[0]
    db.commit()

    def attempt(error, target, ticket_id, name="Mallory", when=now) -> None:  # noqa: ANN001
        before = ([(t.id, t.holder_name) for t in ticket_rows(db, target)], audit_count(db))
        with pytest.raises(error):
            name_ticket(db, target, ticket_id, name, user_id=buyer.id, now=when)
        db.rollback()
        after = ([(t.id, t.holder_name) for t in ticket_rows(db, target)], audit_count(db))
        assert after == before

    attempt(NotFound, theirs, other_ticket.id)  # someone else's booking
    attempt(NotFound, booking, other_ticket.id)  # someone else's ticket under one's own booking
    attempt(NotFound, booking, 0)
    attempt(InvalidGuestName, booking, first.id, name="x" * 121)
    attempt(EventAlreadyStarted, booking, first.id, when=booking.event.starts_at)
    attempt(
        EventAlreadyStarted, booking, second.id, when=booking.event.starts_at + timedelta(days=1)
    )
    cancel_booking(db, booking, actor_id=buyer.id, now=now, offers=OFFERS)
    db.commit()
    attempt(TicketNotNameable, booking, first.id)


def test_a_refunded_ticket_takes_no_name_but_the_others_do(
    db, now, make_user, make_seated_booking, pay_booking
):
    buyer = make_user()
    booking = pay_booking(make_seated_booking(buyer=buyer, price_minor=3000))
    first, second = ticket_rows(db, booking)
    refund_booking(
        db, booking, ticket_ids=[first.id], reason="Swap", actor_id=None, now=now, offers=OFFERS
    )
    with pytest.raises(TicketNotNameable):
        name_ticket(db, booking, first.id, "Ada", user_id=buyer.id, now=now)
    name_ticket(db, booking, second.id, "Ada", user_id=buyer.id, now=now)
    assert [t.holder_name for t in ticket_rows(db, booking)] == [None, "Ada"]


def test_a_ticket_let_in_at_the_door_says_when_and_keeps_its_code(
    db, now, make_user, make_seated_booking
):
    from app.domain.checkin.scans import scan, undo

    booking = make_seated_booking(buyer=make_user())
    first, second = booking_tickets(db, booking, now=now)
    organizer = booking.event.organizer
    admitted = scan(
        db, booking.event, code=first.code, gate="North", staff=organizer, scan_id=None, now=now
    )
    tickets = booking_tickets(db, booking, now=now)
    assert tickets[0].checked_in_at == now and tickets[0].code == first.code
    assert tickets[1].checked_in_at is None

    undo(db, booking.event, admitted.check_in.id, staff=organizer, now=now)
    assert booking_tickets(db, booking, now=now)[0].checked_in_at is None
