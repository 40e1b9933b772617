"""Fifty buyers ask best available for a pair at once on a 100-seat tier: every one of them gets
two seats side by side, no seat is sold twice, nobody hears "sold out", and no buyer collides
with another. The control shows why: without the row lock, buyers compute the same seats from
the same snapshot and collide."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import BigInteger, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from app.domain.accounts.models import User
from app.domain.ticketing import best_seats, claims
from app.domain.ticketing.best_seats import hold_best_by_id
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking, Unit
from app.domain.ticketing.seatmap import replace_layout

BUYERS = 50
LAYOUT = "\n".join(f"Row {row}: 1-10" for row in "ABCDEFGHIJ")  # 100 seats


@pytest.fixture
def hall(db, make_event, make_tier, make_user, now):
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Stalls", price_minor=3000, capacity=0)
    replace_layout(db, event=event, text=LAYOUT, new_seat_tier=tier, actor_id=None, now=now)
    buyers = [make_user().id for _ in range(BUYERS)]
    db.commit()
    return event.id, tier.id, buyers


@pytest.fixture
def collisions(monkeypatch) -> list[int]:
    """Counts claims that found some of their chosen seats taken by another buyer."""
    failed: list[int] = []
    claim = claims.claim_row_seats

    def counting(*args, **kwargs):
        booking = claim(*args, **kwargs)
        if booking is None:
            failed.append(1)
        return booking

    monkeypatch.setattr(claims, "claim_row_seats", counting)
    return failed


def rush(parallel, now, hall) -> list:
    event_id, tier_id, buyers = hall

    def buy(index, session):
        return hold_best_by_id(
            session,
            user=session.get(User, buyers[index]),
            event_id=event_id,
            tier_id=tier_id,
            quantity=2,
            now=now,
            hold_minutes=10,
        ).id

    return parallel.run(BUYERS, buy)


def pairs(db, event_id: int) -> list[list[tuple[str, int]]]:
    rows = db.execute(
        select(Unit.booking_id, Unit.row_label, Unit.grid_x)
        .where(Unit.event_id == event_id, Unit.booking_id.is_not(None))
        .order_by(Unit.booking_id, Unit.grid_x)
    )
    seats: dict[int, list[tuple[str, int]]] = {}
    for booking_id, row, x in rows:
        seats.setdefault(booking_id, []).append((row, x))
    return list(seats.values())


def test_fifty_pairs_for_a_hundred_seats(db, now, parallel, hall, collisions) -> None:
    results = rush(parallel, now, hall)

    refused = [r for r in results if isinstance(r, Exception)]
    assert refused == []  # no false "sold out", no "not together", no "busy"
    db.expire_all()
    sold = pairs(db, hall[0])
    assert len(sold) == BUYERS
    for (row_a, x_a), (row_b, x_b) in sold:
        assert row_a == row_b and x_b == x_a + 1  # side by side, never split
    assert db.scalar(select(func.count()).select_from(Booking)) == BUYERS
    assert (
        db.scalar(select(func.count(func.distinct(Unit.id))).where(Unit.booking_id.is_not(None)))
        == 2 * BUYERS
    )
    assert collisions == []  # nobody computed seats another buyer was claiming


def test_control_without_the_row_lock_buyers_collide(
    db, now, parallel, hall, collisions, monkeypatch
) -> None:
    """The same rush with the row read unlocked, and every buyer reading before anyone claims
    (a barrier), as happens under load: they pick the same seats and collide."""
    unlocked = text(
        "SELECT id, grid_y, section, row_label, free_x, centre_x2 FROM tier_rows"
        " WHERE tier_id = :tier_id AND max_run >= :quantity AND id <> ALL(:skip)"
        " ORDER BY grid_y, id LIMIT 1"
    ).bindparams(bindparam("skip", type_=ARRAY(BigInteger)))
    monkeypatch.setattr(best_seats, "_SKIP_LOCKED_ROW", unlocked)
    everyone_read = threading.Barrier(BUYERS)
    first_read = threading.local()
    lock_row = best_seats._lock_row

    def read_then_wait(*args, **kwargs):
        row = lock_row(*args, **kwargs)
        if not getattr(first_read, "done", False):
            first_read.done = True
            everyone_read.wait(timeout=30)
        return row

    monkeypatch.setattr(best_seats, "_lock_row", read_then_wait)

    results = rush(parallel, now, hall)

    assert len(collisions) >= BUYERS - 1, results  # all but one lost the same seats
    db.expire_all()
    sold = [seat for pair in pairs(db, hall[0]) for seat in pair]
    assert len(sold) == len(set(sold))  # the seat locks still never sell a seat twice
    refused = [r for r in results if isinstance(r, BookingError)]
    assert all(isinstance(r, (int, BookingError)) for r in results), results
    assert len(sold) // 2 + len(refused) == BUYERS
