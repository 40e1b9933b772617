"""The buyer's seat page: the map, holding chosen seats, best available; every refusal."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.events.models import EventStatus
from app.domain.ticketing.models import Booking, BookingStatus, Unit
from app.domain.ticketing.seatmap import replace_layout


@pytest.fixture
def seated(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """A published seated event with two zones; returns (event, standard, premium, seat ids)."""
    event = make_event(is_seated=True, title="Hamlet")
    standard = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    premium = make_tier(event=event, name="Premium", price_minor=6000, capacity=0)
    replace_layout(
        db,
        event=event,
        text="Section Stalls\nRow A: 1-6\nRow B: 1-6",
        new_seat_tier=standard,
        actor_id=None,
        now=now,
    )
    units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
    seat = {f"{u.row_label}{u.seat_number}": u.id for u in units}
    db.execute(
        update(Unit)
        .where(Unit.row_label == "A", Unit.event_id == event.id)
        .values(tier_id=premium.id)
    )
    db.commit()
    return event, standard, premium, seat


def booking_of(db: Session, response) -> Booking:  # noqa: ANN001
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    assert response.headers["Location"].endswith(f"/account/bookings/{reference}")
    return db.scalars(select(Booking).where(Booking.reference == reference)).one()


def held_seats(db: Session, booking: Booking, seat: dict[str, int]) -> list[str]:
    back = {v: k for k, v in seat.items()}
    return sorted(back[i] for i in db.scalars(select(Unit.id).where(Unit.booking_id == booking.id)))


def test_the_seat_page_names_every_seat(client: FlaskClient, seated) -> None:
    event, *_ = seated
    html = client.get(f"/events/{event.id}/seats").get_data(as_text=True)

    assert "<h1>Seats for Hamlet</h1>" in html
    assert 'aria-label="Stalls, Row A seat 5, Premium, USD 60.00"' in html
    assert 'aria-label="Stalls, Row B seat 1, Standard, USD 25.00"' in html
    assert html.count('name="seat"') == 12
    assert f'sse-connect="/events/{event.id}/live?seats=1"' in html
    assert '<span class="remaining" data-tier=' in html


def test_the_htmx_request_gets_the_fragment(client: FlaskClient, seated) -> None:
    event, *_ = seated
    response = client.get(f"/events/{event.id}/seats", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'class="seatmap"' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("change", ["draft", "unseated", "missing"])
def test_only_published_seated_events_have_a_seat_page(
    client: FlaskClient, db: Session, seated, change: str
) -> None:
    event, *_ = seated
    if change == "draft":
        event.status = EventStatus.DRAFT
    elif change == "unseated":
        event.is_seated = False
    db.commit()
    event_id = 999_999 if change == "missing" else event.id
    assert client.get(f"/events/{event_id}/seats").status_code == 404


def test_anonymous_buyers_log_in_first(client: FlaskClient, db: Session, seated) -> None:
    event, _, _, seat = seated
    response = client.post(f"/events/{event.id}/seats", data={"seat": [seat["A1"]]})
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    assert db.scalar(select(Unit.booking_id).where(Unit.id == seat["A1"])) is None


def test_hold_the_chosen_seats(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, _, _, seat = seated
    login_as(client, make_user())

    booking = booking_of(
        db, client.post(f"/events/{event.id}/seats", data={"seat": [seat["A1"], seat["B2"]]})
    )

    assert held_seats(db, booking, seat) == ["A1", "B2"]
    assert booking.status == BookingStatus.PENDING and booking.total_minor == 6000 + 2500


def test_seats_just_taken_answer_with_the_fresh_map(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, _, _, seat = seated
    first, second = client, client.application.test_client()
    login_as(first, make_user())
    login_as(second, make_user())
    booking_of(db, first.post(f"/events/{event.id}/seats", data={"seat": [seat["A2"]]}))

    response = second.post(f"/events/{event.id}/seats", data={"seat": [seat["A2"], seat["A3"]]})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "These seats were just taken" in html
    assert f'value="{seat["A2"]}" disabled aria-label="Stalls, Row A seat 2, held"' in html
    assert db.scalar(select(Unit.booking_id).where(Unit.id == seat["A3"])) is None


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 422, "Choose at least one seat."),
        ({"seat": ["abc"]}, 422, "Those seats do not exist."),
        ({"seat": ["999999"]}, 422, "Some of those seats cannot be booked."),
    ],
)
def test_bad_seat_choices(
    client: FlaskClient, db: Session, seated, make_user, login_as, data, status, message
) -> None:
    event, *_ = seated
    login_as(client, make_user())
    response = client.post(f"/events/{event.id}/seats", data=data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(Unit.id).where(Unit.booking_id.is_not(None))) is None


def test_blocked_seats_and_seats_of_other_events_cannot_be_held(
    client: FlaskClient, db: Session, seated, make_event, make_tier, make_user, login_as, now
) -> None:
    event, _, _, seat = seated
    other = make_event(is_seated=True)
    replace_layout(
        db,
        event=other,
        text="Row Z: 1",
        new_seat_tier=make_tier(event=other, capacity=0),
        actor_id=None,
        now=now,
    )
    foreign = db.scalar(select(Unit.id).where(Unit.event_id == other.id))
    db.execute(update(Unit).where(Unit.id == seat["B6"]).values(blocked=True))
    db.commit()
    login_as(client, make_user())
    for seat_id in (foreign, seat["B6"]):
        response = client.post(f"/events/{event.id}/seats", data={"seat": [seat_id]})
        assert response.status_code == 422
        assert "Some of those seats cannot be booked" in response.get_data(as_text=True)
    assert db.scalar(select(Unit.id).where(Unit.booking_id.is_not(None))) is None


def test_best_available_holds_seats_side_by_side(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, standard, _, seat = seated
    login_as(client, make_user())
    response = client.post(
        f"/events/{event.id}/seats/best", data={"tier_id": standard.id, "quantity": 3}
    )
    assert held_seats(db, booking_of(db, response), seat) == ["B2", "B3", "B4"]


@pytest.mark.parametrize(
    ("quantity", "tier", "status", "message"),
    [
        ("0", "standard", 422, "Choose between 1 and 20 seats."),
        ("x", "standard", 422, "Not a valid integer value."),
        ("", "standard", 422, "Say how many seats you need."),
        ("7", "standard", 409, "Standard: fewer than 7 seats are left."),
        ("2", "foreign", 422, "That ticket type is not available for this event."),
        ("2", "missing", 422, "That ticket type is not available for this event."),
    ],
)
def test_bad_best_available_requests(
    client: FlaskClient,
    db: Session,
    seated,
    make_tier,
    make_user,
    login_as,
    quantity,
    tier,
    status,
    message,
) -> None:
    event, standard, *_ = seated
    tier_id = {"standard": standard.id, "foreign": make_tier().id, "missing": 999_999}[tier]
    db.commit()
    login_as(client, make_user())
    response = client.post(
        f"/events/{event.id}/seats/best", data={"tier_id": tier_id, "quantity": quantity}
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(Unit.id).where(Unit.booking_id.is_not(None))) is None


def test_the_largest_page_of_seats_stays_under_300_kb(
    client: FlaskClient, db: Session, make_event, make_tier, now
) -> None:
    from app.config import ROOT
    from app.domain.ticketing.seatmap_view import PAGE_SEATS

    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    rows = PAGE_SEATS // 40
    layout = "\n".join(f"Row R{n}: 1-40" for n in range(1, rows + 1))
    replace_layout(db, event=event, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()

    html = client.get(f"/events/{event.id}/seats").get_data()
    assert html.count(b'name="seat"') == PAGE_SEATS
    assets = [
        "vendor/htmx-2.0.11.min.js",
        "vendor/htmx-ext-sse-2.2.4.min.js",
        "css/site.css",
        "css/seatmap.css",
        "js/site.js",
        "js/seatmap.js",
    ]
    weight = len(html) + sum((ROOT / "static" / asset).stat().st_size for asset in assets)
    assert weight < 300_000, weight
