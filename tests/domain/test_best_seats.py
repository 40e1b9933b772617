"""Best available on a real database: tier rows follow every change of seats, buyers get the
best seats together, and a refusal tells the truth."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.best_seats import (
    ALTERNATIVES,
    hold_best_available,
    hold_best_by_id,
    nearest_alternative,
    stranded_seats,
)
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.errors import BookingError, LeavesSingleSeats, SeatsNotTogether
from app.domain.ticketing.holds import expire_due_holds
from app.domain.ticketing.models import Booking, BookingStatus, TierRow, Unit
from app.domain.ticketing.seatmap import SeatAction, change_seats, replace_layout
from app.domain.ticketing.waitlist import OfferSettings


@pytest.fixture
def venue(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """Lay out `text` in a fresh seated event; returns (event, tier, seat id by 'A5')."""

    def build(text: str, **tier_fields):  # noqa: ANN202
        event = make_event(is_seated=True)
        tier = make_tier(event=event, name="Standard", price_minor=2000, capacity=0, **tier_fields)
        replace_layout(db, event=event, text=text, new_seat_tier=tier, actor_id=None, now=now)
        units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
        return event, tier, {f"{u.row_label}{u.seat_number}": u.id for u in units}

    return build


def names(db: Session, ids, seat: dict[str, int]) -> list[str]:  # noqa: ANN001
    back = {v: k for k, v in seat.items()}
    return sorted((back[i] for i in ids), key=lambda n: (n[0], int(n[1:])))


def held(db: Session, booking: Booking, seat: dict[str, int]) -> list[str]:
    return names(db, db.scalars(select(Unit.id).where(Unit.booking_id == booking.id)), seat)


def take(db: Session, seat: dict[str, int], *seats: str) -> None:
    """Someone else's booking of these seats (a bare booking row is enough)."""
    event_id = db.get(Unit, seat[seats[0]]).event_id
    booking = Booking(reference=f"T{seats[0]}{len(seats)}", event_id=event_id, quantity=len(seats))
    db.add(booking)
    db.flush()
    db.execute(
        update(Unit).where(Unit.id.in_([seat[s] for s in seats])).values(booking_id=booking.id)
    )


def best(db: Session, event, tier, user, now, quantity: int = 2) -> Booking:  # noqa: ANN001
    return hold_best_available(
        db, user=user, event=event, tier=tier, quantity=quantity, now=now, hold_minutes=10
    )


@contextmanager
def locked_elsewhere(app, statement) -> Iterator[None]:  # noqa: ANN001
    """Another transaction holds the row locks `statement` takes, until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def other() -> None:
        with app.extensions["db"].session() as session:
            session.execute(statement)
            locked.set()
            release.wait(10)
            session.rollback()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert locked.wait(5)
        yield
    finally:
        release.set()
        thread.join()


def tier_rows_from_scratch(db: Session, event_id: int) -> dict[tuple, list[int]]:
    """What the trigger should have kept, recomputed from units."""
    rows = db.execute(
        text(
            "SELECT tier_id, coalesce(section, ''), row_label,"
            " coalesce(array_agg(grid_x ORDER BY grid_x) FILTER (WHERE booking_id IS NULL"
            "   AND NOT blocked AND NOT accessible), '{}')"
            " FROM units WHERE event_id = :e AND seat_number IS NOT NULL AND tier_id IS NOT NULL"
            " GROUP BY 1, 2, 3"
        ),
        {"e": event_id},
    )
    return {(t, s, r): list(free) for t, s, r, free in rows if free}


def tier_rows_kept(db: Session, event_id: int) -> dict[tuple, list[int]]:
    rows = db.execute(
        select(TierRow.tier_id, TierRow.section, TierRow.row_label, TierRow.free_x).where(
            TierRow.event_id == event_id
        )
    )
    return {(t, s, r): list(free) for t, s, r, free in rows if free}


def test_tier_rows_follow_every_change_of_seats(
    db: Session, venue, make_tier, make_user, now
) -> None:
    event, tier, seat = venue("Section Stalls\nRow A: 1-6\nRow B: 1-4, 7-8")
    other = make_tier(event=event, name="Premium", price_minor=5000, capacity=0)

    def check() -> None:
        db.flush()
        assert tier_rows_kept(db, event.id) == tier_rows_from_scratch(db, event.id)

    check()
    booking = hold_units(
        db,
        user=make_user(),
        event=event,
        tier=None,
        quantity=2,
        seat_ids=[seat["A2"], seat["B7"]],
        now=now,
        hold_minutes=10,
    )
    check()
    for action, ids, zone in (
        (SeatAction.BLOCK, [seat["A5"]], None),
        (SeatAction.WHEELCHAIR, [seat["A6"]], None),
        (SeatAction.ZONE, [seat["B1"], seat["B2"]], other),
        (SeatAction.UNZONE, [seat["B3"]], None),
        (SeatAction.UNBLOCK, [seat["A5"]], None),
    ):
        change_seats(
            db, event=event, action=action, seat_ids=ids, tier=zone, actor_id=None, now=now
        )
        check()
    cancel_booking(db, booking, actor_id=booking.user_id, now=now, offers=OfferSettings())
    check()
    # A new layout moves, adds and removes seats.
    replace_layout(
        db,
        event=event,
        text="Section Stalls\nRow A: 1-8\nRow C: 1-3",
        new_seat_tier=tier,
        actor_id=None,
        now=now,
    )
    check()
    db.execute(delete(Unit).where(Unit.id == seat["A1"]))
    check()
    assert tier_rows_kept(db, event.id)[(tier.id, "Stalls", "C")] == [0, 1, 2]


def test_tier_rows_know_the_middle_of_their_section(db: Session, venue) -> None:
    event, tier, _ = venue("Section Stalls\nRow A: 3-6\nRow B: 1-8")
    centres = dict(
        db.execute(
            select(TierRow.row_label, TierRow.centre_x2).where(TierRow.tier_id == tier.id)
        ).all()
    )
    assert centres == {"A": 7, "B": 7}  # grid 0..7: the middle is 3.5


def test_the_front_row_nearest_the_middle(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-10\nRow B: 1-10")
    assert held(db, best(db, event, tier, make_user(), now), seat) == ["A5", "A6"]
    # Three of A1-A4 or A7-A10 leave a seat alone whichever way: the nearer run, the lower end.
    assert held(db, best(db, event, tier, make_user(), now, 3), seat) == ["A2", "A3", "A4"]
    # A pair from A7-A10: the end next to the taken seats, keeping A9+A10 together.
    assert held(db, best(db, event, tier, make_user(), now), seat) == ["A7", "A8"]


def test_a_row_without_enough_seats_together_is_skipped(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-10\nRow B: 1-10")
    take(db, seat, "A3", "A6", "A9")
    assert held(db, best(db, event, tier, make_user(), now, 3), seat) == ["B4", "B5", "B6"]


def test_an_aisle_breaks_adjacency(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-2, 5-6\nRow B: 1-4")
    assert held(db, best(db, event, tier, make_user(), now, 3), seat) == ["B2", "B3", "B4"]


def test_blocked_wheelchair_and_other_zones_are_not_handed_out(
    db: Session, venue, make_tier, make_user, now
) -> None:
    event, tier, seat = venue("Row A: 1-4\nRow B: 1-4")
    premium = make_tier(event=event, name="Premium", capacity=0)
    change_seats(
        db, event=event, action=SeatAction.BLOCK, seat_ids=[seat["A1"]], actor_id=None, now=now
    )
    change_seats(
        db, event=event, action=SeatAction.WHEELCHAIR, seat_ids=[seat["A2"]], actor_id=None, now=now
    )
    change_seats(
        db,
        event=event,
        action=SeatAction.ZONE,
        seat_ids=[seat["A3"]],
        tier=premium,
        actor_id=None,
        now=now,
    )
    assert held(db, best(db, event, tier, make_user(), now), seat) == ["B1", "B2"]
    assert held(db, best(db, event, premium, make_user(), now, 1), seat) == ["A3"]


def test_no_seats_together_offers_the_seats_left(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-4\nRow B: 1-4")
    take(db, seat, "A1", "A3", "B1", "B2", "B4")  # left: A2, A4 and B3
    with pytest.raises(SeatsNotTogether) as refused:
        best(db, event, tier, make_user(), now)
    assert refused.value.code == "not_together"
    assert [s.label for s in refused.value.seats] == ["Row A seat 2", "Row A seat 4"]
    assert "2 seats, not together: Row A seat 2 and Row A seat 4" in refused.value.message
    with pytest.raises(SeatsNotTogether) as refused:
        best(db, event, tier, make_user(), now, 3)
    assert sorted(s.id for s in refused.value.seats) == sorted([seat["A2"], seat["A4"], seat["B3"]])
    assert db.scalar(select(func.count()).select_from(Booking)) == 1  # nothing was held


def test_sold_out_only_when_fewer_seats_are_left(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-3")
    take(db, seat, "A2")
    with pytest.raises(BookingError, match="only 2 seats are left, fewer than the 3") as refused:
        best(db, event, tier, make_user(), now, 3)
    assert refused.value.code == "sold_out"
    take(db, seat, "A1", "A3")
    with pytest.raises(BookingError, match="Standard is sold out") as refused:
        best(db, event, tier, make_user(), now, 1)


def test_an_expired_hold_is_released_on_the_spot(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-2")
    first = best(db, event, tier, make_user(), now)
    later = now + timedelta(minutes=11)
    second = best(db, event, tier, make_user(), later)
    db.refresh(first)
    assert first.status == BookingStatus.EXPIRED and held(db, second, seat) == ["A1", "A2"]


def test_bad_requests_change_nothing(
    db: Session, venue, make_event, make_tier, make_user, now
) -> None:
    event, tier, _ = venue("Row A: 1-8", max_per_order=3, per_user_limit=4)
    user = make_user()
    for quantity, code in ((0, "invalid_quantity"), (4, "invalid_quantity")):
        with pytest.raises(BookingError) as refused:
            best(db, event, tier, user, now, quantity)
        assert refused.value.code == code
    best(db, event, tier, user, now, 3)
    with pytest.raises(BookingError) as refused:
        best(db, event, tier, user, now, 2)
    assert refused.value.code == "limit_exceeded"
    general = make_tier(event=make_event(), capacity=5)
    for event_id, tier_id in (
        (event.id, general.id),
        (event.id, 999_999),
        (general.event_id, general.id),
    ):
        with pytest.raises(BookingError) as refused:
            hold_best_by_id(
                db,
                user=user,
                event_id=event_id,
                tier_id=tier_id,
                quantity=1,
                now=now,
                hold_minutes=10,
            )
        assert refused.value.code == "invalid_tier"
    assert db.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_row_another_buyer_is_working_in_is_skipped(
    db: Session, app, venue, make_user, now
) -> None:
    """While another best-available buyer holds row A's lock, the next buyer takes row B at
    once: no waiting, no collision."""
    event, tier, seat = venue("Row A: 1-10\nRow B: 1-10")
    user = make_user()
    db.commit()
    row_a = select(TierRow.id).where(TierRow.tier_id == tier.id, TierRow.row_label == "A")
    with locked_elsewhere(app, row_a.with_for_update()):
        assert held(db, best(db, event, tier, user, now), seat) == ["B5", "B6"]


def test_seats_picked_by_hand_meanwhile_are_left_out(
    db: Session, app, venue, make_user, now
) -> None:
    """A hand-picked claim in flight (seats locked, row not) does not make best available wait
    or fail: it takes other seats of the same row."""
    event, tier, seat = venue("Row A: 1-10")
    user = make_user()
    db.commit()
    middle = select(Unit.id).where(Unit.id.in_([seat["A5"], seat["A6"]]))
    with locked_elsewhere(app, middle.with_for_update()):
        assert held(db, best(db, event, tier, user, now), seat) in (["A3", "A4"], ["A7", "A8"])


def test_stranded_seats_and_a_gentle_warning(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-6")
    assert [s.label for s in stranded_seats(db, event_id=event.id, seat_ids=[seat["A2"]])] == [
        "Row A seat 1"
    ]
    assert stranded_seats(db, event_id=event.id, seat_ids=[seat["A1"], seat["A2"]]) == []
    user = make_user()
    with pytest.raises(LeavesSingleSeats, match="Row A seat 1 would be left on its own"):
        hold_units(
            db,
            user=user,
            event=event,
            tier=None,
            quantity=2,
            seat_ids=[seat["A2"], seat["A3"]],
            now=now,
            hold_minutes=10,
            allow_single_seats=False,
        )
    assert db.scalar(select(func.count()).select_from(Booking)) == 0
    booking = hold_units(
        db,
        user=user,
        event=event,
        tier=None,
        quantity=2,
        seat_ids=[seat["A2"], seat["A3"]],
        now=now,
        hold_minutes=10,
    )
    assert held(db, booking, seat) == ["A2", "A3"]


def test_the_nearest_alternative_of_the_same_size(db: Session, venue, now) -> None:
    event, tier, seat = venue("Row A: 1-8\nRow B: 1-8\nRow C: 1-8")
    take(db, seat, "B1", "B2", "B3", "B4", "B5", "B6")
    wanted = [seat["B4"], seat["B5"]]

    def offer(buyer_id: int) -> list[str]:
        found = nearest_alternative(db, event_id=event.id, seat_ids=wanted, buyer_id=buyer_id)
        return [s.label for s in found]

    # Someone wanted B4+B5 (taken). Buyers who lost them are spread over the nearest groups
    # of two (B7+B8 in the same row first, then rows A and C), not all sent to the same seats.
    offers = {tuple(offer(buyer)) for buyer in range(40)}
    assert ("Row B seat 7", "Row B seat 8") in offers
    assert ("Row A seat 3", "Row A seat 4") in offers and len(offers) == ALTERNATIVES
    for first, second in offers:
        assert first[:-1] == second[:-1] and int(second[-1]) == int(first[-1]) + 1
    take(db, seat, "B7", "B8")
    assert all(offer(buyer)[0][:5] in ("Row A", "Row C") for buyer in range(10))
    everything = list(seat.values())
    assert nearest_alternative(db, event_id=event.id, seat_ids=everything, buyer_id=1) == []


def test_expired_holds_sweep_back_into_tier_rows(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-4")
    best(db, event, tier, make_user(), now, 4)
    assert tier_rows_kept(db, event.id) == {}
    expire_due_holds(db, now=now + timedelta(minutes=11), offers=OfferSettings())
    assert tier_rows_kept(db, event.id) == {(tier.id, "", "A"): [0, 1, 2, 3]}
