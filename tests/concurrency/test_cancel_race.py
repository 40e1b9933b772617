"""Cancelling an event while people buy: a hold (or a payment's confirmation) either happens
before the cancellation, which then cancels it, or is refused. Real threads, each on its own
connection; the control tests show that without the sale gate a booking outlives the event.

The orders are forced, not hoped for: one side acts, then waits until the other is seen
waiting for the gate in pg_locks (or, in a control, until the other has committed)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import Busy
from app.domain.events.errors import EventError
from app.domain.events.lifecycle import cancel_event
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing import sale_gate
from app.domain.ticketing.allocation import hold_tier, hold_units
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.holds import expire_due_holds
from app.domain.ticketing.models import (
    Booking,
    BookingStatus,
    TicketTier,
    Unit,
    WaitlistEntry,
    WaitlistStatus,
)
from app.domain.ticketing.tiers import set_capacity
from app.domain.ticketing.waitlist import OfferSettings, join_waitlist

WAIT = 30  # seconds a step may wait for the other side before the test fails
# Sessions of this database waiting at an advisory lock (the sale gate).
_GATE_WAITERS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
)


def wait_for_gate_waiter(session: Session) -> None:
    """Return once another transaction waits for an advisory lock (the sale gate)."""
    deadline = time.monotonic() + WAIT
    while not session.scalar(_GATE_WAITERS):
        assert time.monotonic() < deadline, "nobody came to wait at the gate"
        time.sleep(0.01)


def wait_until_cancelled(session: Session, event_id: int) -> None:
    """Return once the event's cancellation has committed (each read sees the latest commit)."""
    deadline = time.monotonic() + WAIT
    status = text("SELECT status FROM events WHERE id = :id")
    while session.scalar(status, {"id": event_id}) != EventStatus.CANCELLED.value:
        assert time.monotonic() < deadline, "the cancellation never committed"
        time.sleep(0.01)


def signalled(flag: threading.Event) -> None:
    assert flag.wait(WAIT), "the other side never got there"


@pytest.fixture
def on_sale(db, make_event, make_tier, make_user):  # noqa: ANN001, ANN201
    """A published event with a paid tier, its organizer and 12 buyers, all committed."""
    tier = make_tier(capacity=50, price_minor=1500)
    buyers = [make_user() for _ in range(12)]
    db.commit()
    return tier.event_id, tier.id, tier.event.organizer_id, [b.id for b in buyers]


def cancel(session: Session, event_id: int, organizer_id: int, now):  # noqa: ANN001, ANN201
    return cancel_event(
        session,
        session.get(Event, event_id),
        actor=session.get(User, organizer_id),
        now=now,
        reason="Venue flooded",
    )


def live_bookings(db, event_id: int) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.event_id == event_id,
            Booking.status.in_([BookingStatus.PENDING, BookingStatus.CONFIRMED]),
        )
    )


def cancellation_mails(notification_mail) -> list[str]:  # noqa: ANN001
    return sorted(m["to"] for m in notification_mail(kind="event_cancelled"))


def test_a_hold_before_the_cancellation_is_cancelled_with_it(
    db, now, parallel, on_sale, notification_mail
):  # noqa: ANN001
    event_id, tier_id, organizer_id, buyers = on_sale
    held = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            booking = hold_tier(
                session,
                user=session.get(User, buyers[0]),
                event_id=event_id,
                tier_id=tier_id,
                quantity=2,
                now=now,
                hold_minutes=10,
            )
            held.set()
            wait_for_gate_waiter(session)  # the cancellation waits for this hold to commit
            return booking.id
        signalled(held)
        return cancel(session, event_id, organizer_id, now)

    booking_id, sales = parallel.run(2, act)
    assert isinstance(booking_id, int), booking_id
    assert sales.bookings == 1, sales
    assert db.get(Booking, booking_id).status == BookingStatus.CANCELLED
    assert live_bookings(db, event_id) == 0
    assert (
        db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None))) == 0
    )
    assert cancellation_mails(notification_mail) == [db.get(User, buyers[0]).email]


def test_a_hold_after_the_cancellation_began_is_refused(
    db, now, parallel, on_sale, notification_mail
):  # noqa: ANN001
    """The hold waits at the gate, and its first statement then still sees the event as it
    was when the statement began (published): the claim statement's own re-check refuses."""
    event_id, tier_id, organizer_id, buyers = on_sale
    closing = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            sales = cancel(session, event_id, organizer_id, now)
            closing.set()
            wait_for_gate_waiter(session)  # the hold now waits for this cancellation
            return sales
        signalled(closing)
        return hold_tier(
            session,
            user=session.get(User, buyers[0]),
            event_id=event_id,
            tier_id=tier_id,
            quantity=2,
            now=now,
            hold_minutes=10,
        )

    sales, refused = parallel.run(2, act)
    assert sales.bookings == 0, sales
    assert isinstance(refused, BookingError) and refused.code == "event_not_on_sale", refused
    assert live_bookings(db, event_id) == 0
    assert cancellation_mails(notification_mail) == []


def test_control_without_the_gate_a_hold_outlives_the_cancellation(
    db, now, parallel, on_sale, monkeypatch
) -> None:  # noqa: ANN001
    """With the gate off, a hold that claimed its units before the cancellation committed, and
    commits after it, is a live booking for a cancelled event."""
    event_id, tier_id, organizer_id, buyers = on_sale
    monkeypatch.setattr(sale_gate, "pass_gate", lambda *args, **kwargs: None)
    monkeypatch.setattr(sale_gate, "close", lambda *args, **kwargs: None)
    held = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            tier = session.get(TicketTier, tier_id)
            booking = hold_units(
                session,
                user=session.get(User, buyers[0]),
                event=tier.event,
                tier=tier,
                quantity=2,
                now=now,
                hold_minutes=10,
            )
            held.set()
            wait_until_cancelled(session, event_id)
            return booking.id
        signalled(held)
        return cancel(session, event_id, organizer_id, now)

    booking_id, sales = parallel.run(2, act)
    assert sales.bookings == 0, sales
    assert db.get(Event, event_id).status == EventStatus.CANCELLED
    assert db.get(Booking, booking_id).status == BookingStatus.PENDING
    assert live_bookings(db, event_id) == 1


def test_buyers_racing_a_cancellation(db, now, parallel, on_sale, notification_mail) -> None:  # noqa: ANN001
    """Twelve buyers and the organizer at once: whatever the order, nothing stays live, every
    buyer whose hold got in is told once, and the others were refused."""
    event_id, tier_id, organizer_id, buyers = on_sale

    def act(index: int, session: Session):  # noqa: ANN202
        if index == len(buyers):
            return cancel(session, event_id, organizer_id, now)
        return hold_tier(
            session,
            user=session.get(User, buyers[index]),
            event_id=event_id,
            tier_id=tier_id,
            quantity=1,
            now=now,
            hold_minutes=10,
        ).id

    *holds, sales = parallel.run(len(buyers) + 1, act)
    assert not isinstance(sales, Exception), sales
    got_in = [buyers[i] for i, result in enumerate(holds) if isinstance(result, int)]
    for result in holds:
        if not isinstance(result, int):
            assert isinstance(result, BookingError | Busy), result
            assert isinstance(result, Busy) or result.code == "event_not_on_sale", result
    assert sales.bookings == len(got_in)
    assert live_bookings(db, event_id) == 0
    emails = sorted(db.get(User, user_id).email for user_id in got_in)
    assert cancellation_mails(notification_mail) == emails


def test_two_cancellations_at_once_tell_everyone_once(
    db, now, parallel, on_sale, notification_mail
):  # noqa: ANN001
    event_id, tier_id, organizer_id, buyers = on_sale
    tier = db.get(TicketTier, tier_id)
    for user_id in buyers[:3]:
        hold_units(
            db,
            user=db.get(User, user_id),
            event=tier.event,
            tier=tier,
            quantity=1,
            now=now,
            hold_minutes=10,
        )
    db.commit()

    results = parallel.run(2, lambda _index, session: cancel(session, event_id, organizer_id, now))
    done = [r for r in results if not isinstance(r, Exception)]
    assert len(done) == 1 and done[0].bookings == 3, results
    assert [type(r) for r in results if isinstance(r, Exception)] == [EventError]
    assert cancellation_mails(notification_mail) == sorted(
        db.get(User, u).email for u in buyers[:3]
    )


@pytest.fixture
def ran_out(db, now, on_sale):  # noqa: ANN001, ANN201
    """A hold of `on_sale` that ran out (released): a late payment would re-claim it."""
    event_id, tier_id, organizer_id, buyers = on_sale
    tier = db.get(TicketTier, tier_id)
    booking = hold_units(
        db,
        user=db.get(User, buyers[0]),
        event=tier.event,
        tier=tier,
        quantity=2,
        now=now - timedelta(hours=1),
        hold_minutes=10,
    )
    expire_due_holds(db, now=now, offers=OfferSettings())
    db.commit()
    assert booking.status == BookingStatus.EXPIRED
    return booking.id


def test_a_late_payment_confirmed_before_the_cancellation_is_cancelled_and_refunded(
    db, now, parallel, on_sale, ran_out
) -> None:  # noqa: ANN001
    event_id, _, organizer_id, _ = on_sale
    confirmed = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            booking = confirm_booking(session, session.get(Booking, ran_out), now=now)
            confirmed.set()
            wait_for_gate_waiter(session)
            return booking.status
        signalled(confirmed)
        return cancel(session, event_id, organizer_id, now)

    status, sales = parallel.run(2, act)
    assert status == BookingStatus.CONFIRMED, status
    assert sales.refund_due == [ran_out], sales
    assert db.get(Booking, ran_out).status == BookingStatus.CANCELLED


def test_a_late_payment_after_the_cancellation_is_refused(db, now, parallel, on_sale, ran_out):  # noqa: ANN001
    event_id, _, organizer_id, _ = on_sale
    closing = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            sales = cancel(session, event_id, organizer_id, now)
            closing.set()
            wait_for_gate_waiter(session)
            return sales
        signalled(closing)
        return confirm_booking(session, session.get(Booking, ran_out), now=now)

    _, refused = parallel.run(2, act)
    assert isinstance(refused, BookingError) and refused.code == "event_not_on_sale", refused
    assert db.get(Booking, ran_out).status == BookingStatus.EXPIRED
    assert live_bookings(db, event_id) == 0


def test_control_without_the_gate_a_late_payment_outlives_the_cancellation(
    db, now, parallel, on_sale, ran_out, monkeypatch
) -> None:  # noqa: ANN001
    event_id, _, organizer_id, _ = on_sale
    monkeypatch.setattr(sale_gate, "pass_gate", lambda *args, **kwargs: None)
    monkeypatch.setattr(sale_gate, "close", lambda *args, **kwargs: None)
    confirmed = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            booking = confirm_booking(session, session.get(Booking, ran_out), now=now)
            confirmed.set()
            wait_until_cancelled(session, event_id)
            return booking.status
        signalled(confirmed)
        return cancel(session, event_id, organizer_id, now)

    status, sales = parallel.run(2, act)
    assert status == BookingStatus.CONFIRMED and sales.refund_due == []
    assert db.get(Event, event_id).status == EventStatus.CANCELLED
    assert live_bookings(db, event_id) == 1


@pytest.fixture
def sold_out(db, now, on_sale):  # noqa: ANN001, ANN201
    """`on_sale` with a sold-out tier of one unit, held by the first buyer."""
    event_id, _, organizer_id, buyers = on_sale
    event = db.get(Event, event_id)
    tier = TicketTier(event_id=event_id, name="Front row", capacity=0, position=9)
    db.add(tier)
    db.flush()
    set_capacity(db, tier, 1, now=now)
    hold_units(
        db,
        user=db.get(User, buyers[0]),
        event=event,
        tier=tier,
        quantity=1,
        now=now,
        hold_minutes=10,
    )
    db.commit()
    return event_id, tier.id, organizer_id, buyers[1]


def join(session: Session, tier_id: int, user_id: int, now):  # noqa: ANN001, ANN201
    tier = session.get(TicketTier, tier_id)
    return join_waitlist(session, user=session.get(User, user_id), tier=tier, quantity=1, now=now)


def waiting(db, tier_id: int) -> list[WaitlistStatus]:  # noqa: ANN001
    db.expire_all()
    return list(db.scalars(select(WaitlistEntry.status).where(WaitlistEntry.tier_id == tier_id)))


def test_a_waitlist_join_before_the_cancellation_is_closed_with_it(db, now, parallel, sold_out):  # noqa: ANN001
    event_id, tier_id, organizer_id, joiner = sold_out
    joined = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            entry = join(session, tier_id, joiner, now)
            joined.set()
            wait_for_gate_waiter(session)
            return entry.id
        signalled(joined)
        return cancel(session, event_id, organizer_id, now)

    entry_id, sales = parallel.run(2, act)
    assert isinstance(entry_id, int) and sales.waitlist_closed == 1, (entry_id, sales)
    assert waiting(db, tier_id) == [WaitlistStatus.CLOSED]


def test_a_waitlist_join_after_the_cancellation_began_is_refused(db, now, parallel, sold_out):  # noqa: ANN001
    event_id, tier_id, organizer_id, joiner = sold_out
    closing = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            sales = cancel(session, event_id, organizer_id, now)
            closing.set()
            wait_for_gate_waiter(session)
            return sales
        signalled(closing)
        return join(session, tier_id, joiner, now)

    _, refused = parallel.run(2, act)
    assert isinstance(refused, BookingError) and refused.code == "event_not_on_sale", refused
    assert waiting(db, tier_id) == []


def test_control_without_the_gate_a_waitlist_place_outlives_the_cancellation(
    db, now, parallel, sold_out, monkeypatch
) -> None:  # noqa: ANN001
    event_id, tier_id, organizer_id, joiner = sold_out
    monkeypatch.setattr(sale_gate, "pass_gate", lambda *args, **kwargs: None)
    monkeypatch.setattr(sale_gate, "close", lambda *args, **kwargs: None)
    joined = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            entry = join(session, tier_id, joiner, now)
            joined.set()
            wait_until_cancelled(session, event_id)
            return entry.id
        signalled(joined)
        return cancel(session, event_id, organizer_id, now)

    entry_id, sales = parallel.run(2, act)
    assert isinstance(entry_id, int) and sales.waitlist_closed == 0
    assert waiting(db, tier_id) == [WaitlistStatus.WAITING]


_ROW_WAITERS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')"
)


def wait_for_row_waiter(session: Session) -> None:
    """Return once another transaction waits for a row this one changed."""
    deadline = time.monotonic() + WAIT
    while not session.scalar(_ROW_WAITERS):
        assert time.monotonic() < deadline, "nobody came to wait for a row"
        time.sleep(0.01)


def offer_then_cancel(parallel, now, sold_out, *, then):  # noqa: ANN001, ANN201
    """The organizer adds a unit, which is offered to the person waiting; meanwhile the event
    is cancelled. The offer's transaction commits once `then` returns."""
    event_id, tier_id, organizer_id, joiner = sold_out
    offered = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            set_capacity(session, session.get(TicketTier, tier_id), 2, now=now)
            offered.set()
            then(session)
            return None
        signalled(offered)
        return cancel(session, event_id, organizer_id, now)

    return parallel.run(2, act)


@pytest.fixture
def in_line(db, now, sold_out):  # noqa: ANN001, ANN201
    _, tier_id, _, joiner = sold_out
    join_waitlist(
        db, user=db.get(User, joiner), tier=db.get(TicketTier, tier_id), quantity=1, now=now
    )
    db.commit()
    return sold_out


def test_an_offer_made_before_the_cancellation_is_cancelled_with_it(db, now, parallel, in_line):  # noqa: ANN001
    _, sales = offer_then_cancel(parallel, now, in_line, then=wait_for_gate_waiter)
    assert not isinstance(sales, Exception), sales
    assert sales.bookings == 2 and sales.waitlist_closed == 1  # the hold and the offer
    assert waiting(db, in_line[1]) == [WaitlistStatus.CLOSED]
    assert live_bookings(db, in_line[0]) == 0


def test_control_without_the_gate_an_offer_outlives_the_cancellation(
    db, now, parallel, in_line, monkeypatch
) -> None:  # noqa: ANN001
    """Offers only try the gate; with that check off, the offer's booking is written after the
    cancellation read the bookings, and survives it (its place is closed, its hold is not)."""
    monkeypatch.setattr(sale_gate, "try_enter", lambda *args, **kwargs: True)
    monkeypatch.setattr(sale_gate, "close", lambda *args, **kwargs: None)
    _, sales = offer_then_cancel(parallel, now, in_line, then=wait_for_row_waiter)
    assert sales.bookings == 1, sales  # only the first buyer's hold
    assert waiting(db, in_line[1]) == [WaitlistStatus.CLOSED]
    assert live_bookings(db, in_line[0]) == 1
