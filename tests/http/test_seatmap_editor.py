"""The organizer's seat map editor: layout, seat actions, and what it refuses."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Unit


@pytest.fixture
def organizer(client: FlaskClient, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user(role=Role.ORGANIZER)
    login_as(client, user)
    return user


@pytest.fixture
def event(db: Session, organizer, make_event):  # noqa: ANN001, ANN201
    event = make_event(organizer=organizer, is_seated=True, title="Hamlet")
    db.commit()
    return event


def seat_count(db: Session, event) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.event_id == event.id))


def unit(db: Session, event, name: str) -> Unit:  # noqa: ANN001
    db.expire_all()
    return db.scalars(
        select(Unit).where(
            Unit.event_id == event.id,
            Unit.row_label == name[0],
            Unit.seat_number == name[1:],
        )
    ).one()


def save(client: FlaskClient, event, layout: str, tier_id: int = 0):  # noqa: ANN001, ANN201
    return client.post(
        f"/organizer/events/{event.id}/seats/layout",
        data={"layout": layout, "new_seat_tier": tier_id},
    )


def test_lay_out_a_venue_then_see_it(client: FlaskClient, db: Session, event, make_tier) -> None:
    tier = make_tier(event=event, name="Standard", capacity=0)
    db.commit()
    assert "No seats" not in client.get(f"/organizer/events/{event.id}/seats").get_data(
        as_text=True
    )

    response = save(client, event, "Row A: 1-4\nRow B: 1-2, 5", tier.id)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organizer/events/{event.id}/seats")
    assert seat_count(db, event) == 7 and unit(db, event, "B5").tier_id == tier.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Seat map saved: 7 seats added, 0 removed, 0 kept." in html
    assert "Row A: 1-4\nRow B: 1-2, 5</textarea>" in html
    assert 'aria-label="Row B seat 5, Standard, free"' in html
    assert 'aria-label="All of Row B"' in html


def test_a_bad_layout_is_explained_and_changes_nothing(
    client: FlaskClient, db: Session, event
) -> None:
    save(client, event, "Row A: 1-4")
    response = save(client, event, "Row A: 1-4\nRow B 1-4\nRow C: 9-2")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 2: expected “Section NAME” or “Row LABEL: 1-20”" in html
    assert "Line 3: 9-2 goes down; write it as 2-9." in html
    assert 'aria-invalid="true"' in html
    assert seat_count(db, event) == 4


def test_an_empty_layout_is_refused(client: FlaskClient, db: Session, event) -> None:
    response = save(client, event, "  ")
    assert response.status_code == 422
    assert "Write at least one row" in response.get_data(as_text=True)


def test_held_seats_stay_in_the_layout(
    client: FlaskClient, db: Session, event, make_tier, make_user, now
) -> None:
    tier = make_tier(event=event, price_minor=1000, capacity=0)
    db.commit()
    save(client, event, "Row A: 1-4", tier.id)
    hold_units(
        db,
        user=make_user(),
        event=event,
        tier=None,
        quantity=1,
        seat_ids=[unit(db, event, "A4").id],
        now=now,
        hold_minutes=10,
    )
    db.commit()

    response = save(client, event, "Row A: 1-3")

    assert response.status_code == 409
    assert "These seats are held, sold or have tickets" in response.get_data(as_text=True)
    assert seat_count(db, event) == 4


def edit(client: FlaskClient, event, action: str, **data):  # noqa: ANN001, ANN201
    return client.post(f"/organizer/events/{event.id}/seats/edit", data={"action": action, **data})


def test_block_rows_mark_wheelchairs_and_zone_seats(
    client: FlaskClient, db: Session, event, make_tier
) -> None:
    premium = make_tier(event=event, name="Premium", capacity=0)
    db.commit()
    save(client, event, "Row A: 1-4\nRow B: 1-4")
    a1, b1 = unit(db, event, "A1"), unit(db, event, "B1")

    assert edit(client, event, "block", row=[a1.id]).status_code == 303
    assert edit(client, event, "wheelchair", seat=[b1.id]).status_code == 303
    assert (
        edit(
            client, event, "zone", seat=[b1.id, unit(db, event, "B2").id], tier=premium.id
        ).status_code
        == 303
    )

    assert all(unit(db, event, f"A{n}").blocked for n in range(1, 5))
    assert unit(db, event, "B1").accessible and unit(db, event, "B2").tier_id == premium.id
    html = client.get(f"/organizer/events/{event.id}/seats").get_data(as_text=True)
    assert "2 seats changed." in html
    assert 'aria-label="Row B seat 1, wheelchair space, Premium, free"' in html


@pytest.mark.parametrize(
    ("action", "data", "status", "message"),
    [
        ("block", {}, 422, "Choose at least one seat or row."),
        ("explode", {"seat": "A1"}, 422, "Choose an action and existing seats."),
        ("block", {"seat": "nonsense"}, 422, "Choose an action and existing seats."),
        ("zone", {"seat": "A1"}, 422, "Choose the ticket type (price zone) for these seats."),
        ("block", {"seat": "999999"}, 404, "Some of those seats are not part of this event."),
    ],
)
def test_bad_seat_edits(
    client: FlaskClient, db: Session, event, action, data, status, message
) -> None:
    save(client, event, "Row A: 1-4")
    if data.get("seat") == "A1":
        data = {"seat": unit(db, event, "A1").id}
    response = edit(client, event, action, **data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert not unit(db, event, "A1").blocked


def test_held_seats_cannot_be_edited(
    client: FlaskClient, db: Session, event, make_tier, make_user, now
) -> None:
    tier = make_tier(event=event, price_minor=1000, capacity=0)
    db.commit()
    save(client, event, "Row A: 1-4", tier.id)
    hold_units(
        db,
        user=make_user(),
        event=event,
        tier=None,
        quantity=1,
        seat_ids=[unit(db, event, "A2").id],
        now=now,
        hold_minutes=10,
    )
    db.commit()

    response = edit(client, event, "block", row=[unit(db, event, "A1").id])

    assert response.status_code == 409
    assert "held or sold and cannot be changed: Row A seat 2" in response.get_data(as_text=True)
    assert not unit(db, event, "A1").blocked
    assert 'disabled aria-label="Row A seat 2, ' in response.get_data(as_text=True)


def test_another_organizers_event_is_not_found(
    client: FlaskClient, db: Session, make_event, organizer
) -> None:
    stranger = make_event(is_seated=True)
    db.commit()
    assert client.get(f"/organizer/events/{stranger.id}/seats").status_code == 404
    assert save(client, stranger, "Row A: 1").status_code == 404
    assert edit(client, stranger, "block", seat="1").status_code == 404
    assert seat_count(db, stranger) == 0


def test_htmx_gets_the_editor_fragment(client: FlaskClient, event) -> None:
    response = client.get(f"/organizer/events/{event.id}/seats", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="seat-editor"' in html
