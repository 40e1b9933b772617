"""Best available seats: side by side in the front-most row, nearest the middle, else spread."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, BookingStatus, Unit
from app.domain.ticketing.seatmap import best_available, hold_best_available, replace_layout


@pytest.fixture
def venue(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """Lay out `text` in a fresh seated event; returns (event, tier, seat id by 'A5')."""

    def build(text: str):  # noqa: ANN202
        event = make_event(is_seated=True)
        tier = make_tier(event=event, name="Standard", price_minor=2000, capacity=0)
        replace_layout(db, event=event, text=text, new_seat_tier=tier, actor_id=None, now=now)
        units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
        return event, tier, {f"{u.row_label}{u.seat_number}": u.id for u in units}

    return build


def names(ids: list[int], by_name: dict[str, int]) -> list[str]:
    back = {v: k for k, v in by_name.items()}
    return [back[i] for i in ids]


def take(db: Session, by_name: dict[str, int], *seats: str) -> None:
    """Mark seats as someone else's (a bare booking row is enough for the seat map)."""
    booking = Booking(
        reference=f"T{len(seats)}{seats[0]}",
        event_id=db.get(Unit, by_name[seats[0]]).event_id,
        quantity=len(seats),
    )
    db.add(booking)
    db.flush()
    db.execute(
        update(Unit).where(Unit.id.in_([by_name[s] for s in seats])).values(booking_id=booking.id)
    )


def test_adjacent_seats_in_the_front_row_nearest_the_middle(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-10\nRow B: 1-10")
    assert names(best_available(db, event=event, tier=tier, quantity=2), seat) == ["A5", "A6"]
    assert names(best_available(db, event=event, tier=tier, quantity=3), seat) == ["A4", "A5", "A6"]


def test_a_row_without_enough_seats_together_is_skipped(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-10\nRow B: 1-10")
    take(db, seat, "A3", "A6", "A9")  # row A: free runs of 2, 2, 2 and 1
    assert names(best_available(db, event=event, tier=tier, quantity=3), seat) == ["B4", "B5", "B6"]
    assert names(best_available(db, event=event, tier=tier, quantity=2), seat) == ["A4", "A5"]


def test_an_aisle_breaks_adjacency(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-2, 5-6\nRow B: 1-4")
    assert names(best_available(db, event=event, tier=tier, quantity=3), seat) == ["B2", "B3", "B4"]


def test_blocked_wheelchair_and_other_zones_are_not_handed_out(
    db: Session, venue, make_tier
) -> None:
    event, tier, seat = venue("Row A: 1-4\nRow B: 1-4")
    premium = make_tier(event=event, name="Premium", capacity=0)
    db.execute(update(Unit).where(Unit.id == seat["A1"]).values(blocked=True))
    db.execute(update(Unit).where(Unit.id == seat["A2"]).values(accessible=True))
    db.execute(update(Unit).where(Unit.id == seat["A3"]).values(tier_id=premium.id))
    assert names(best_available(db, event=event, tier=tier, quantity=2), seat) == ["B2", "B3"]
    assert names(best_available(db, event=event, tier=premium, quantity=1), seat) == ["A3"]


def test_one_row_with_gaps_before_several_rows(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-6\nRow B: 1-6")
    take(db, seat, "A2", "A4", "B2", "B3", "B4", "B5")
    # No row has 3 together; row A still has 4 free seats: the 3 nearest its middle.
    assert names(best_available(db, event=event, tier=tier, quantity=3), seat) == ["A3", "A5", "A6"]


def test_spread_over_the_fewest_neighbouring_rows(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-4\nRow B: 1-4\nRow C: 1-4")
    take(db, seat, "A1", "A2", "A3", "B1", "B3", "C2", "C3")
    # Free: A4 | B2 B4 | C1 C4. Four seats: rows B and C (two rows) beat A+B+C.
    found = names(best_available(db, event=event, tier=tier, quantity=4), seat)
    assert sorted(found) == ["B2", "B4", "C1", "C4"]


def test_not_enough_free_seats_gives_nothing(db: Session, venue) -> None:
    event, tier, seat = venue("Row A: 1-3")
    take(db, seat, "A2")
    assert best_available(db, event=event, tier=tier, quantity=3) == []
    assert best_available(db, event=event, tier=tier, quantity=0) == []


def test_hold_best_available_holds_them(db: Session, venue, make_user, now) -> None:
    event, tier, seat = venue("Row A: 1-10")
    booking = hold_best_available(
        db, user=make_user(), event=event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    assert booking.status == BookingStatus.PENDING
    held = db.scalars(select(Unit.id).where(Unit.booking_id == booking.id)).all()
    assert sorted(names(list(held), seat)) == ["A5", "A6"]


def test_hold_best_available_refuses_bad_quantities_and_sold_out(
    db: Session, venue, make_user, now
) -> None:
    event, tier, _ = venue("Row A: 1-3")
    user = make_user()
    with pytest.raises(BookingError) as error:
        hold_best_available(
            db, user=user, event=event, tier=tier, quantity=0, now=now, hold_minutes=10
        )
    assert error.value.code == "invalid_quantity"
    with pytest.raises(BookingError, match="fewer than 4 seats are left") as error:
        hold_best_available(
            db, user=user, event=event, tier=tier, quantity=4, now=now, hold_minutes=10
        )
    assert error.value.code == "sold_out"


def test_seats_another_buyer_is_claiming_are_skipped(
    db: Session, app, venue, make_user, now
) -> None:
    """While another transaction holds the best seats' row locks (a buyer mid-claim), the next
    best are held instead: no waiting, no error."""
    event, tier, seat = venue("Row A: 1-10")
    user = make_user()
    db.commit()
    locked, release = threading.Event(), threading.Event()

    def other_buyer() -> None:
        with app.extensions["db"].session() as other:
            other.execute(
                select(Unit.id).where(Unit.id.in_([seat["A5"], seat["A6"]])).with_for_update()
            )
            locked.set()
            release.wait(10)
            other.rollback()

    thread = threading.Thread(target=other_buyer)
    thread.start()
    try:
        assert locked.wait(5)
        booking = hold_best_available(
            db, user=user, event=event, tier=tier, quantity=2, now=now, hold_minutes=10
        )
        held = db.scalars(select(Unit.id).where(Unit.booking_id == booking.id)).all()
        assert sorted(names(list(held), seat)) in (["A3", "A4"], ["A7", "A8"])
    finally:
        release.set()
        thread.join()
