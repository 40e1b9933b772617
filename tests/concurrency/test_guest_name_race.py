"""A guest's name put on a ticket while the organizer refunds it: the name waits for the
booking's row lock and then finds the ticket void, so no name (and no audit entry) lands on a
void ticket. The control shows that without the lock the name goes on the void ticket.

The order is forced, not hoped for: the refund voids the ticket, then waits until the naming
is seen waiting for a lock in pg_stat_activity before it commits."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.audit import AuditEntry
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.models import Booking, Ticket, TicketStatus
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.tickets import guests
from app.domain.tickets.errors import TicketNotNameable

WAIT = 30  # seconds a step may wait for the other side before the test fails
_LOCK_WAITERS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock'"
)


def wait_for_lock_waiter(session: Session) -> None:
    """Return once another transaction of this database waits for a lock."""
    deadline = time.monotonic() + WAIT
    while not session.scalar(_LOCK_WAITERS):
        assert time.monotonic() < deadline, "nobody came to wait for the lock"
        time.sleep(0.01)


@pytest.fixture
def paid(db, make_user, make_seated_booking, pay_booking):  # noqa: ANN001, ANN201
    """A paid, confirmed booking of two seats (committed): its id, buyer and first ticket."""
    booking = pay_booking(make_seated_booking(buyer=make_user(), price_minor=3000))
    first = db.scalar(select(func.min(Ticket.id)).where(Ticket.booking_id == booking.id))
    db.commit()
    return booking.id, booking.user_id, first


def race(parallel, now, paid):  # noqa: ANN001, ANN201
    booking_id, buyer_id, ticket_id = paid
    voided = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        booking = session.get(Booking, booking_id)
        if index == 0:
            refund_booking(
                session,
                booking,
                ticket_ids=[ticket_id],
                reason="Seat swapped",
                actor_id=None,
                now=now,
                offers=OfferSettings(),
            )
            voided.set()
            wait_for_lock_waiter(session)  # the naming now waits for this refund
            return "refunded"
        assert voided.wait(WAIT), "the refund never got there"
        return guests.name_ticket(session, booking, ticket_id, "Ada", user_id=buyer_id, now=now)

    return parallel.run(2, act)


def named_void_tickets(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.status == TicketStatus.VOID, Ticket.holder_name.is_not(None))
    )


def guest_entries(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).where(AuditEntry.action.like("ticket.guest%")))


def test_a_name_during_a_refund_of_its_ticket_is_refused(db, now, parallel, paid) -> None:  # noqa: ANN001
    refunded, named = race(parallel, now, paid)
    assert refunded == "refunded"
    assert isinstance(named, TicketNotNameable), named
    assert named_void_tickets(db) == 0 and guest_entries(db) == 0


def test_control_without_the_booking_lock_a_void_ticket_gets_a_name(
    db, now, parallel, paid, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setattr(
        guests, "lock_booking", lambda session, booking_id: session.get(Booking, booking_id)
    )
    refunded, named = race(parallel, now, paid)
    assert refunded == "refunded"
    assert isinstance(named, Ticket), named
    assert named_void_tickets(db) == 1 and guest_entries(db) == 1
