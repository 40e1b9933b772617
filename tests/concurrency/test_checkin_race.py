"""Twenty gates scan one ticket at the same moment, each on its own connection: exactly one is
green, the others are told it is already in (and by which gate). The control shows the race is
real: a look-then-insert admission lets every gate see the ticket as not yet in before any of
them commits, and only the partial unique index on live check-ins keeps the second admission
out (the real admission leans on that index in its one statement)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain.accounts.models import User
from app.domain.checkin.models import CheckIn
from app.domain.checkin.scans import Outcome, scan
from app.domain.events.models import Event
from app.domain.ticketing.models import Booking

GATES = 20


@pytest.fixture
def ticket(db, make_tickets, make_staff, ticket_code):  # noqa: ANN001, ANN201
    """(event id, the ticket, its code, the staff ids of twenty gates), committed."""
    (one,) = make_tickets()
    event = db.get(Booking, one.booking_id).event
    staff = [make_staff(event).id for _ in range(GATES)]
    code = ticket_code(one)
    db.commit()
    return event.id, one, code, staff


def live(db, ticket_id: int) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(
        select(func.count()).where(CheckIn.ticket_id == ticket_id, CheckIn.undone_at.is_(None))
    )


def test_one_ticket_scanned_at_twenty_gates_at_once_is_admitted_once(
    db,
    now,
    parallel,
    ticket,  # noqa: ANN001
) -> None:
    event_id, one, code, staff = ticket
    ticket_id = one.id

    def at_gate(index, session):  # noqa: ANN001, ANN202
        return scan(
            session,
            session.get(Event, event_id),
            code=code,
            gate=f"G{index}",
            staff=session.get(User, staff[index]),
            scan_id=f"gate-{index}",
            now=now,
        )

    results = parallel.run(GATES, at_gate)
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.ADMITTED) == 1, outcomes
    assert outcomes.count(Outcome.ALREADY_CHECKED_IN) == GATES - 1
    (winner,) = [r for r in results if r.outcome == Outcome.ADMITTED]
    # Every other gate is told who let the ticket in, and where.
    assert {r.check_in.id for r in results} == {winner.check_in.id}
    assert {r.check_in.gate for r in results} == {winner.check_in.gate}
    assert live(db, ticket_id) == 1


def test_control_look_then_insert_races_and_only_the_index_stops_it(
    db,
    now,
    parallel,
    ticket,  # noqa: ANN001
) -> None:
    event_id, one, _code, staff = ticket
    ticket_id = one.id
    looked = threading.Barrier(GATES)

    def look_then_insert(index, session):  # noqa: ANN001, ANN202
        already = session.scalar(
            select(func.count()).where(CheckIn.ticket_id == ticket_id, CheckIn.undone_at.is_(None))
        )
        looked.wait(timeout=30)  # every gate has looked before any inserts
        if already:
            return "already in"
        session.add(
            CheckIn(
                ticket_id=ticket_id,
                event_id=event_id,
                tier_id=one.tier_id,
                gate=f"G{index}",
                staff_id=staff[index],
                scanned_at=now,
                recorded_at=now,
            )
        )
        session.flush()
        return "admitted"

    results = parallel.run(GATES, look_then_insert)
    # All twenty saw the ticket as not yet in: the gates really scanned at the same moment.
    assert "already in" not in results
    assert results.count("admitted") == 1
    assert sum(isinstance(r, IntegrityError) for r in results) == GATES - 1
    assert live(db, ticket_id) == 1
