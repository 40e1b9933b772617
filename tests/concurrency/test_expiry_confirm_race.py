"""A hold expiring while its confirmation arrives (and another buyer wants the same unit)
ends in exactly one consistent state, whatever the order the three transactions run in.

Every order is played one transaction after another (each waits for the one before to end),
so each order is tested on every run, not when the scheduler happens to pick it; then the
three are released together, as they come in production."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import permutations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketTier, Unit
from app.domain.ticketing.waitlist import OfferSettings
from jobs.ticketing_tasks import expire_holds
from tests.waiting import WAIT

EXPIRE, CONFIRM, RIVAL = 0, 1, 2
ROUNDS_AT_ONCE = 6


def one_after_another(order, act):  # noqa: ANN001, ANN201
    """`act` for `parallel.run`, its calls run one at a time in `order`: each commits (or rolls
    back) before the next starts."""
    turns = [threading.Event() for _ in order]
    turns[0].set()

    def in_turn(index, session):  # noqa: ANN001, ANN202
        position = order.index(index)
        assert turns[position].wait(WAIT)
        try:
            result = act(index, session)
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise
        finally:
            if position + 1 < len(turns):
                turns[position + 1].set()

    return in_turn


@pytest.fixture
def play(db, now, parallel, make_user, make_tier):  # noqa: ANN001, ANN201
    """`play(order=None)`: one round on a fresh one-unit tier, in `order` or all at once;
    checks the end state is consistent and returns who got the unit."""
    later = now + timedelta(minutes=10, seconds=1)  # each hold has just run out

    def round_(order: tuple[int, ...] | None = None) -> str:
        tier = make_tier(capacity=1, price_minor=900)
        holder, rival = make_user(), make_user()
        held = hold_units(
            db, user=holder, event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
        )
        db.commit()

        def act(index, session, held_id=held.id, tier_id=tier.id, rival_id=rival.id):  # noqa: ANN001, ANN202
            if index == EXPIRE:
                return expire_holds(session, later, offers=OfferSettings())
            if index == CONFIRM:
                booking = session.get(Booking, held_id)
                return confirm_booking(session, booking, now=later).status
            tier_row = session.get(TicketTier, tier_id)
            return hold_units(
                session,
                user=session.get(User, rival_id),
                event=session.get(Event, tier_row.event_id),
                tier=tier_row,
                quantity=1,
                now=later,
                hold_minutes=10,
            ).id

        expired, confirmed, rival_result = parallel.run(
            3, act if order is None else one_after_another(order, act)
        )
        db.expire_all()
        booking = db.get(Booking, held.id)
        unit = db.scalars(select(Unit).where(Unit.tier_id == tier.id)).one()
        tickets = db.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.booking_id == held.id)
        )
        assert not isinstance(expired, Exception), expired
        if confirmed == BookingStatus.CONFIRMED:
            # The holder kept (or re-claimed) the unit; the rival found it sold out.
            assert booking.status == BookingStatus.CONFIRMED and tickets == 1
            assert unit.booking_id == held.id
            assert isinstance(rival_result, BookingError) and rival_result.code == "sold_out"
            return "holder"
        # The hold went back on sale first and the rival took the unit.
        assert isinstance(confirmed, BookingError) and confirmed.code == "hold_expired"
        assert booking.status == BookingStatus.EXPIRED and tickets == 0
        assert isinstance(rival_result, int) and unit.booking_id == rival_result
        return "rival"

    return round_


@pytest.mark.parametrize("order", list(permutations((EXPIRE, CONFIRM, RIVAL))))
def test_expiry_confirmation_and_a_rival_buyer_in_each_order(play, order) -> None:  # noqa: ANN001
    # Whichever of the confirmation and the rival's hold comes first gets the unit: the
    # confirmation keeps or re-claims it, the rival's hold releases the run-out hold.
    expected = "holder" if order.index(CONFIRM) < order.index(RIVAL) else "rival"
    assert play(order) == expected


def test_expiry_confirmation_and_a_rival_buyer_at_once(play) -> None:  # noqa: ANN001
    for _ in range(ROUNDS_AT_ONCE):
        # Either may win, depending on the scheduler; `play` checks the end state is one of
        # the two consistent ones.
        assert play() in ("holder", "rival")
