"""Seat map services: laying out a venue, editing seats, and what may not be touched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import TicketTier, Unit
from app.domain.ticketing.seat_layout import SeatLayoutError
from app.domain.ticketing.seatmap import (
    SeatAction,
    SeatMapError,
    SeatsInUse,
    change_seats,
    current_layout,
    replace_layout,
)
from app.domain.ticketing.tiers import set_capacity

LAYOUT = "Section Stalls\nRow A: 1-6\nRow B: 1-3, 6-8"


@pytest.fixture
def seated(make_event, make_tier):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    return event, tier


def seats(db: Session, event) -> dict[str, Unit]:  # noqa: ANN001
    units = db.scalars(
        select(Unit)
        .where(Unit.event_id == event.id)
        .order_by(Unit.seat_order)
        .execution_options(populate_existing=True)
    )
    return {f"{u.row_label}{u.seat_number}": u for u in units}


def lay_out(db: Session, event, tier, now, text: str = LAYOUT):  # noqa: ANN001, ANN201
    return replace_layout(db, event=event, text=text, new_seat_tier=tier, actor_id=None, now=now)


def test_a_layout_creates_the_seats_in_the_new_seat_zone(db: Session, seated, now) -> None:
    event, tier = seated
    change = lay_out(db, event, tier, now)

    assert (change.added, change.removed, change.kept) == (12, 0, 0)
    found = seats(db, event)
    assert list(found) == ["A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3", "B6", "B7", "B8"]
    b6 = found["B6"]
    assert (b6.section, b6.grid_x, b6.grid_y, b6.seat_order, b6.tier_id) == (
        "Stalls",
        5,
        1,
        10,
        tier.id,
    )
    assert tier.capacity == 12
    assert current_layout(db, event) == LAYOUT
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "seatmap.layout_saved")).one()
    assert audit.data == {"added": 12, "removed": 0, "seats": 12}


def test_a_new_layout_keeps_the_settings_of_seats_that_stay(db: Session, seated, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    before = seats(db, event)
    change_seats(
        db, event=event, action=SeatAction.BLOCK, seat_ids=[before["A1"].id], actor_id=None, now=now
    )
    change_seats(
        db,
        event=event,
        action=SeatAction.WHEELCHAIR,
        seat_ids=[before["A2"].id],
        actor_id=None,
        now=now,
    )

    change = lay_out(db, event, None, now, "Section Stalls\nRow A: 1-4\nRow B: 1-3, 6-9")

    assert (change.added, change.removed, change.kept) == (1, 2, 10)
    after = seats(db, event)
    assert "A5" not in after and "A6" not in after
    assert after["A1"].id == before["A1"].id and after["A1"].blocked
    assert after["A2"].accessible and after["A2"].tier_id == tier.id
    assert after["B9"].tier_id is None  # no zone chosen for new seats: not for sale yet
    assert [u.seat_order for u in after.values()] == list(range(1, 12))
    assert tier.capacity == 10


def test_a_bad_layout_changes_nothing(db: Session, seated, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    with pytest.raises(SeatLayoutError):
        lay_out(db, event, tier, now, "Row A: 1-3\nRow A: 4")
    assert len(seats(db, event)) == 12


def test_held_seats_cannot_leave_the_layout(db: Session, seated, make_user, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    held = seats(db, event)["A6"]
    hold_units(
        db,
        user=make_user(),
        event=event,
        tier=None,
        quantity=1,
        seat_ids=[held.id],
        now=now,
        hold_minutes=10,
    )

    with pytest.raises(SeatsInUse, match="Stalls, Row A seat 6"):
        lay_out(db, event, tier, now, "Section Stalls\nRow A: 1-5")
    assert len(seats(db, event)) == 12
    # Keeping the held seat (and moving everything else) is fine.
    change = lay_out(db, event, tier, now, "Section Stalls\nRow A: 1-6")
    assert change.removed == 6 and seats(db, event)["A6"].booking_id is not None


def test_new_seats_of_another_events_tier_are_refused(db: Session, seated, make_tier, now) -> None:
    event, _ = seated
    stranger = make_tier(name="Elsewhere")
    with pytest.raises(NotFound):
        lay_out(db, event, stranger, now)
    assert seats(db, event) == {}


def test_a_layout_replaces_unsold_general_admission(
    db: Session, make_event, make_tier, now
) -> None:
    event = make_event()
    tier = make_tier(event=event, capacity=5)
    assert db.scalar(select(func.count()).select_from(Unit).where(Unit.tier_id == tier.id)) == 5

    lay_out(db, event, tier, now)

    assert event.is_seated
    units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
    assert len(units) == 12 and all(u.seat_number is not None for u in units)
    assert tier.capacity == 12


def test_sold_general_admission_cannot_become_seated(
    db: Session, make_event, make_tier, make_user, now
) -> None:
    event = make_event()
    tier = make_tier(event=event, capacity=5)
    hold_units(db, user=make_user(), event=event, tier=tier, quantity=1, now=now, hold_minutes=10)
    with pytest.raises(SeatsInUse, match="general-admission bookings"):
        lay_out(db, event, tier, now)
    assert not event.is_seated


def test_block_and_unblock_seats_and_whole_rows(db: Session, seated, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    found = seats(db, event)

    changed = change_seats(
        db,
        event=event,
        action=SeatAction.BLOCK,
        seat_ids=[found["A1"].id],
        row_seat_ids=[found["B8"].id],
        actor_id=7,
        now=now,
    )

    assert changed == 7
    assert sorted(k for k, u in seats(db, event).items() if u.blocked) == sorted(
        ["A1", "B1", "B2", "B3", "B6", "B7", "B8"]
    )
    change_seats(
        db, event=event, action=SeatAction.UNBLOCK, seat_ids=[found["B2"].id], actor_id=7, now=now
    )
    assert not seats(db, event)["B2"].blocked
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == 7)).all()
    assert actions == ["seatmap.block", "seatmap.unblock"]


def test_wheelchair_spaces(db: Session, seated, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    a3 = seats(db, event)["A3"]
    change_seats(
        db, event=event, action=SeatAction.WHEELCHAIR, seat_ids=[a3.id], actor_id=None, now=now
    )
    assert a3.accessible
    change_seats(
        db, event=event, action=SeatAction.NO_WHEELCHAIR, seat_ids=[a3.id], actor_id=None, now=now
    )
    assert not a3.accessible


def test_price_zones_move_seats_between_tiers(db: Session, seated, make_tier, now) -> None:
    event, standard = seated
    premium = make_tier(event=event, name="Premium", price_minor=6000, capacity=0)
    lay_out(db, event, standard, now)
    row_a = seats(db, event)["A1"]

    change_seats(
        db,
        event=event,
        action=SeatAction.ZONE,
        row_seat_ids=[row_a.id],
        tier=premium,
        actor_id=None,
        now=now,
    )

    by_tier = {k: u.tier_id for k, u in seats(db, event).items()}
    assert {by_tier[f"A{n}"] for n in range(1, 7)} == {premium.id}
    assert by_tier["B1"] == standard.id
    assert (premium.capacity, standard.capacity) == (6, 6)
    change_seats(
        db, event=event, action=SeatAction.UNZONE, seat_ids=[row_a.id], actor_id=None, now=now
    )
    assert row_a.tier_id is None and premium.capacity == 5


def test_held_or_sold_seats_are_never_changed(db: Session, seated, make_user, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    found = seats(db, event)
    hold_units(
        db,
        user=make_user(),
        event=event,
        tier=None,
        quantity=1,
        seat_ids=[found["A2"].id],
        now=now,
        hold_minutes=10,
    )

    for action in SeatAction:
        with pytest.raises(SeatsInUse, match="Stalls, Row A seat 2"):
            change_seats(
                db,
                event=event,
                action=action,
                row_seat_ids=[found["A1"].id],
                tier=tier,
                actor_id=None,
                now=now,
            )
    assert not any(u.blocked or u.accessible for u in seats(db, event).values())


def test_seats_of_another_event_are_not_found(
    db: Session, seated, make_event, make_tier, now
) -> None:
    event, tier = seated
    other = make_event(is_seated=True)
    other_tier = make_tier(event=other, capacity=0)
    lay_out(db, event, tier, now)
    lay_out(db, other, other_tier, now)
    mine, theirs = seats(db, event)["A1"], seats(db, other)["A1"]

    with pytest.raises(NotFound):
        change_seats(
            db,
            event=event,
            action=SeatAction.BLOCK,
            seat_ids=[mine.id, theirs.id],
            actor_id=None,
            now=now,
        )
    with pytest.raises(NotFound):
        change_seats(
            db, event=event, action=SeatAction.BLOCK, seat_ids=[999_999], actor_id=None, now=now
        )
    assert not mine.blocked and not theirs.blocked


def test_edits_need_seats_and_a_zone_of_the_event(db: Session, seated, make_tier, now) -> None:
    event, tier = seated
    lay_out(db, event, tier, now)
    a1 = seats(db, event)["A1"]
    with pytest.raises(SeatMapError, match="at least one seat"):
        change_seats(db, event=event, action=SeatAction.BLOCK, actor_id=None, now=now)
    with pytest.raises(SeatMapError, match="price zone"):
        change_seats(
            db, event=event, action=SeatAction.ZONE, seat_ids=[a1.id], actor_id=None, now=now
        )
    with pytest.raises(SeatMapError, match="price zone"):
        change_seats(
            db,
            event=event,
            action=SeatAction.ZONE,
            seat_ids=[a1.id],
            tier=make_tier(),
            actor_id=None,
            now=now,
        )
    assert a1.tier_id == tier.id


def test_seats_added_to_a_zone_go_to_its_waitlist_first(
    db: Session, seated, make_user, now
) -> None:
    from app.domain.ticketing.waitlist import join_waitlist

    event, tier = seated
    lay_out(db, event, tier, now, "Row A: 1")
    buyer, waiting = make_user(), make_user()
    hold_units(db, user=buyer, event=event, tier=tier, quantity=1, now=now, hold_minutes=10)
    entry = join_waitlist(db, user=waiting, tier=tier, quantity=1, now=now)

    lay_out(db, event, tier, now, "Row A: 1-2")

    assert entry.status == "offered"
    assert seats(db, event)["A2"].booking_id == entry.booking_id


def test_set_capacity_leaves_seats_alone(db: Session, seated, now) -> None:
    """Guard: the seat map owns a seated tier's units, general-admission capacity never does."""
    event, tier = seated
    lay_out(db, event, tier, now)
    assert db.get(TicketTier, tier.id).capacity == 12
    set_capacity(db, tier, 0, now=now)
    assert len(seats(db, event)) == 12


def test_deleting_a_zones_tier_keeps_its_seats(db: Session, seated, make_tier, now) -> None:
    from app.domain.ticketing.tiers import delete_tier

    event, _ = seated
    unused = make_tier(event=event, name="Unused", capacity=0)
    lay_out(db, event, unused, now)

    delete_tier(db, tier=unused, actor_id=None, now=now)

    found = seats(db, event)
    assert len(found) == 12 and all(u.tier_id is None for u in found.values())


def test_two_first_layouts_at_once_do_not_collide(app, db: Session, seated, now) -> None:  # noqa: ANN001
    """Two organizers (or two tabs) save the first layout at the same moment: one waits for the
    other instead of both inserting the same seats (a unique violation without the lock)."""
    import threading

    from app.domain.events.models import Event

    event, tier = seated
    db.commit()
    barrier, errors, changes = threading.Barrier(2), [], []

    def save() -> None:
        with app.extensions["db"].session() as session:
            mine = session.get(Event, event.id)
            barrier.wait()
            try:
                changes.append(
                    replace_layout(
                        session, event=mine, text=LAYOUT, new_seat_tier=None, actor_id=None, now=now
                    )
                )
                session.commit()
            except Exception as error:  # noqa: BLE001 - the test reports it
                errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(c.added for c in changes) == [0, 12]
    assert len(seats(db, event)) == 12
