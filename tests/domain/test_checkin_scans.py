"""Scanning at the door: every answer a scan can get, replays, undo, and offline sync."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.checkin.errors import CheckInError
from app.domain.checkin.models import CheckIn, DoubleAdmission
from app.domain.checkin.scans import MAX_SYNC_SCANS, Outcome, QueuedScan, scan, sync, undo
from app.domain.payments import checkout
from app.domain.payments.events import apply_event
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.cancellation import cancel_sales
from app.domain.ticketing.models import Booking
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.tickets.signing import TicketCode, check_code, event_key, sign
from app.integrations.payments.base import EventKind, ProviderEvent


def live_check_ins(db, ticket) -> int:  # noqa: ANN001
    return db.scalar(
        select(func.count())
        .select_from(CheckIn)
        .where(CheckIn.ticket_id == ticket.id, CheckIn.undone_at.is_(None))
    )


@pytest.fixture
def door(db, now, make_tickets, make_staff, ticket_code):  # noqa: ANN001, ANN201
    """A ticket of a seated-free event's tier, its code, and a member of staff at gate A."""
    (ticket,) = make_tickets()
    event = db.get(Booking, ticket.booking_id).event
    staff = make_staff(event, name="Sam Staff")

    def at_gate(code=None, gate="A", scan_id=None, **kw):  # noqa: ANN001, ANN202
        if code is None and "ticket_id" not in kw:
            code = ticket_code(ticket)
        return scan(db, event, code=code, gate=gate, staff=staff, scan_id=scan_id, now=now, **kw)

    return event, ticket, staff, at_gate


def test_a_valid_ticket_is_admitted_once(db, now, door):  # noqa: ANN001
    event, ticket, staff, at_gate = door
    first = at_gate()
    assert first.outcome == Outcome.ADMITTED and first.message == "Valid ticket."
    assert first.ticket.id == ticket.id and first.ticket.tier.startswith("Tier ")
    assert first.ticket.name  # the buyer's name: the ticket has no holder name
    assert first.check_in.gate == "A" and first.check_in.by == "Sam Staff"
    second = at_gate(gate="B")
    assert second.outcome == Outcome.ALREADY_CHECKED_IN
    assert second.check_in.id == first.check_in.id and second.check_in.gate == "A"
    assert "at gate A by Sam Staff" in second.message
    assert live_check_ins(db, ticket) == 1


def test_the_holder_name_is_shown_when_set(db, door):  # noqa: ANN001
    _event, ticket, _staff, at_gate = door
    ticket.holder_name = "Hanna Holder"
    db.flush()
    assert at_gate().ticket.name == "Hanna Holder"


def test_a_ticket_of_another_event(db, now, door, make_tickets, ticket_code):  # noqa: ANN001
    _event, _ticket, _staff, at_gate = door
    (elsewhere,) = make_tickets()
    result = at_gate(ticket_code(elsewhere))
    assert result.outcome == Outcome.OTHER_EVENT and result.ticket is None
    assert live_check_ins(db, elsewhere) == 0


def test_forged_truncated_and_re_signed_codes_are_not_tickets(db, now, door, ticket_code):  # noqa: ANN001
    event, ticket, _staff, at_gate = door
    genuine = ticket_code(ticket)
    raw = bytearray(base64.b32decode(genuine + "=" * (-len(genuine) % 8)))
    raw[20] ^= 1
    altered = base64.b32encode(bytes(raw)).decode().rstrip("=")
    forger = Ed25519PrivateKey.generate()
    re_signed = sign(forger, TicketCode(event.id, ticket.id, check_code(ticket.secret)))
    # The event's own key, but a check code that is not the ticket secret's.
    wrong_check = sign(
        event_key(db, event.id, now=now),
        TicketCode(event.id, ticket.id, check_code("not the secret")),
    )
    for code in (genuine[:-8], genuine[:40], "", "hello", altered, re_signed, wrong_check):
        result = at_gate(code)
        assert result.outcome == Outcome.NOT_A_TICKET, code
        assert result.ticket is None and result.check_in is None
    assert live_check_ins(db, ticket) == 0
    assert at_gate(genuine).outcome == Outcome.ADMITTED


def test_a_ticket_by_id_must_be_of_this_event(db, now, door, make_tickets):  # noqa: ANN001
    event, ticket, staff, at_gate = door
    (elsewhere,) = make_tickets()
    assert at_gate(ticket_id=elsewhere.id).outcome == Outcome.NOT_A_TICKET
    assert at_gate(ticket_id=10**12).outcome == Outcome.NOT_A_TICKET
    assert at_gate(ticket_id=ticket.id).outcome == Outcome.ADMITTED
    with pytest.raises(CheckInError):
        scan(db, event, gate="A", staff=staff, scan_id=None, now=now)  # neither code nor id


def test_a_cancelled_booking_is_void(db, now, door):  # noqa: ANN001
    event, ticket, staff, at_gate = door
    booking = db.get(Booking, ticket.booking_id)
    cancel_booking(db, booking, actor_id=booking.user_id, now=now)
    result = at_gate()
    assert result.outcome == Outcome.VOID and "cancelled" in result.message
    assert result.void_reason == "cancelled"
    assert result.ticket.id == ticket.id
    assert live_check_ins(db, ticket) == 0


def test_tickets_of_a_cancelled_event_are_void(db, now, door):  # noqa: ANN001
    event, ticket, _staff, at_gate = door
    cancel_sales(db, event.id, actor_id=None, now=now)
    assert at_gate().outcome == Outcome.VOID


def test_a_refunded_ticket_is_void(db, now, make_tier, make_user, make_staff, ticket_code):  # noqa: ANN001
    tier = make_tier(capacity=2, price_minor=2500)
    event = tier.event
    booking = hold_units(
        db, user=make_user(), event=event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
    checkout.record_checkout(db, payment.id, provider_ref="demo_refund", checkout_url="https://x")
    paid = ProviderEvent(
        event_id="evt_paid",
        kind=EventKind.SUCCEEDED,
        provider_ref="demo_refund",
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )
    assert apply_event(db, "demo", paid, now=now) == "confirmed"
    first, second = sorted(db.get(Booking, booking.id).tickets, key=lambda t: t.id)
    refund_booking(
        db,
        booking,
        ticket_ids=[first.id],
        reason="Could not come",
        actor_id=event.organizer_id,
        now=now,
        offers=OfferSettings(),
    )
    staff = make_staff(event)
    refunded = scan(
        db, event, code=ticket_code(first), gate="A", staff=staff, scan_id=None, now=now
    )
    assert refunded.outcome == Outcome.VOID and "voided" in refunded.message
    assert refunded.void_reason == "voided"  # one ticket refunded, its booking stands
    refund_booking(
        db,
        booking,
        ticket_ids=[second.id],
        reason="Both",
        actor_id=event.organizer_id,
        now=now,
        offers=OfferSettings(),
    )
    whole = scan(db, event, code=ticket_code(second), gate="A", staff=staff, scan_id=None, now=now)
    assert whole.outcome == Outcome.VOID and "refunded" in whole.message
    assert whole.void_reason == "refunded"
    assert live_check_ins(db, first) == live_check_ins(db, second) == 0


def test_a_replayed_scan_gets_its_first_answer(db, now, door):  # noqa: ANN001
    _event, ticket, _staff, at_gate = door
    first = at_gate(scan_id="device-1:0001")
    again = at_gate(scan_id="device-1:0001")
    assert again.outcome == Outcome.ADMITTED and again.check_in.id == first.check_in.id
    assert db.scalar(select(func.count()).select_from(CheckIn)) == 1
    other = at_gate(scan_id="device-2:0001")
    assert other.outcome == Outcome.ALREADY_CHECKED_IN


def test_a_scan_id_used_for_another_ticket_is_refused(db, door, make_tickets, ticket_code):  # noqa: ANN001
    event, ticket, _staff, at_gate = door
    at_gate(scan_id="dup")
    (another,) = make_tickets(tier=db.get(Booking, ticket.booking_id).lines[0].tier)
    with pytest.raises(CheckInError) as refused:
        at_gate(ticket_code(another), scan_id="dup")
    assert refused.value.code == "scan_id_reused"


def test_undo_then_admit_again(db, now, door, make_user):  # noqa: ANN001
    event, ticket, staff, at_gate = door
    first = at_gate()
    assert undo(db, event, first.check_in.id, staff=staff, now=now) == ticket.id
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "check_in.undone")).one()
    assert entry.actor_id == staff.id and entry.target_id == first.check_in.id
    with pytest.raises(CheckInError) as twice:
        undo(db, event, first.check_in.id, staff=staff, now=now)
    assert twice.value.code == "already_undone"
    again = at_gate(gate="B")
    assert again.outcome == Outcome.ADMITTED and again.check_in.id != first.check_in.id
    assert live_check_ins(db, ticket) == 1


def test_undo_only_this_events_check_ins(db, now, door, make_tickets, make_staff, ticket_code):  # noqa: ANN001
    event, _ticket, staff, _at_gate = door
    (elsewhere,) = make_tickets()
    other_event = db.get(Booking, elsewhere.booking_id).event
    theirs = scan(
        db,
        other_event,
        code=ticket_code(elsewhere),
        gate="X",
        staff=make_staff(other_event),
        scan_id=None,
        now=now,
    )
    with pytest.raises(NotFound):
        undo(db, event, theirs.check_in.id, staff=staff, now=now)
    with pytest.raises(NotFound):
        undo(db, event, 10**12, staff=staff, now=now)
    assert live_check_ins(db, elsewhere) == 1


def test_sync_admits_and_reports_double_admissions(db, now, door, make_tickets, ticket_code):  # noqa: ANN001
    event, ticket, staff, at_gate = door
    tier = db.get(Booking, ticket.booking_id).lines[0].tier
    fresh, offline_twice = make_tickets(tier=tier, quantity=2)
    at_gate(ticket_code(offline_twice), gate="A")  # gate A was online and admitted it
    earlier = now - timedelta(minutes=5)
    queued = [
        QueuedScan("b-1", earlier, "B", code=ticket_code(fresh)),
        QueuedScan("b-2", earlier, "B", code=ticket_code(offline_twice)),
        QueuedScan("b-3", earlier, "B", code="garbage"),
    ]
    results = sync(db, event, staff=staff, scans=queued, now=now)
    assert [r.outcome for r in results] == [
        Outcome.ADMITTED,
        Outcome.ALREADY_CHECKED_IN,
        Outcome.NOT_A_TICKET,
    ]
    assert [r.conflict for r in results] == [False, True, False]
    assert "Admitted twice while offline" in results[1].message
    assert results[1].check_in.gate == "A"
    admitted = db.get(CheckIn, results[0].check_in.id)
    assert admitted.offline and admitted.scanned_at == earlier and admitted.gate == "B"
    twice = db.scalars(select(DoubleAdmission)).one()
    assert (twice.ticket_id, twice.gate, twice.check_in_id) == (
        offline_twice.id,
        "B",
        results[1].check_in.id,
    )
    # The same sync again (the network dropped before the answer): same answers, nothing new.
    again = sync(db, event, staff=staff, scans=queued, now=now + timedelta(seconds=5))
    assert [(r.outcome, r.conflict) for r in again] == [(r.outcome, r.conflict) for r in results]
    assert db.scalar(select(func.count()).select_from(DoubleAdmission)) == 1
    assert db.scalar(select(func.count()).select_from(CheckIn)) == 2
    with pytest.raises(CheckInError):
        sync(db, event, staff=staff, scans=queued * (MAX_SYNC_SCANS // 3 + 1), now=now)


def test_a_device_clock_ahead_is_not_trusted(db, now, door):  # noqa: ANN001
    event, ticket, staff, _at_gate = door
    (result,) = sync(
        db,
        event,
        staff=staff,
        scans=[QueuedScan("ahead", now + timedelta(hours=3), "C", ticket_id=ticket.id)],
        now=now,
    )
    assert result.check_in.at == now


def test_a_booking_with_a_ticket_in_cannot_be_cancelled(db, now, door):  # noqa: ANN001
    from app.domain.ticketing.errors import BookingError

    event, ticket, staff, at_gate = door
    booking = db.get(Booking, ticket.booking_id)
    admitted = at_gate()
    with pytest.raises(BookingError) as refused:
        cancel_booking(db, booking, actor_id=booking.user_id, now=now)
    assert refused.value.code == "not_cancellable"
    undo(db, event, admitted.check_in.id, staff=staff, now=now)
    cancel_booking(db, booking, actor_id=booking.user_id, now=now)
    assert at_gate().outcome == Outcome.VOID


def test_a_key_made_in_a_rolled_back_scan_is_not_remembered(
    db,
    now,
    make_tickets,
    make_staff,
    ticket_code,  # noqa: ANN001
) -> None:
    (ticket,) = make_tickets()
    event = db.get(Booking, ticket.booking_id).event
    staff = make_staff(event)
    db.commit()
    # The first scan of an event without a key makes one; its transaction rolls back.
    assert scan(db, event, code="A" * 130, gate="A", staff=staff, scan_id=None, now=now)
    db.rollback()
    code = ticket_code(ticket)  # the key that stays
    db.commit()
    result = scan(db, event, code=code, gate="A", staff=staff, scan_id=None, now=now)
    assert result.outcome == Outcome.ADMITTED


def test_a_seated_ticket_shows_its_seat(db, now, make_event, make_tier, make_user, make_staff):  # noqa: ANN001
    from app.domain.ticketing.models import Unit
    from app.domain.ticketing.seatmap import replace_layout

    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Stalls", capacity=0)
    replace_layout(
        db,
        event=event,
        text="Section Stalls\nRow B: 7-8",
        new_seat_tier=tier,
        actor_id=None,
        now=now,
    )
    seat = db.scalars(select(Unit).where(Unit.event_id == event.id, Unit.seat_number == "8")).one()
    booking = hold_units(
        db,
        user=make_user(name="Sally Seated"),
        event=event,
        tier=None,
        quantity=1,
        seat_ids=[seat.id],
        now=now,
        hold_minutes=10,
    )
    (ticket,) = db.get(Booking, booking.id).tickets
    result = scan(
        db, event, ticket_id=ticket.id, gate="A", staff=make_staff(event), scan_id=None, now=now
    )
    assert result.outcome == Outcome.ADMITTED
    assert (result.ticket.name, result.ticket.tier, result.ticket.seat) == (
        "Sally Seated",
        "Stalls",
        "Stalls, Row B seat 8",
    )
