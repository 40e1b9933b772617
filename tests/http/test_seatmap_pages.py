"""The buyer's seat page: the map, holding chosen seats, best available; every refusal."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.events.models import EventStatus
from app.domain.ticketing.models import Booking, BookingStatus, Unit
from app.domain.ticketing.seatmap import SeatAction, change_seats, replace_layout
from tests.waiting import wait_until


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


def offered_seats(html: str) -> list[int]:
    """The seat ids of the answer's offer form."""
    form = html[html.index('class="seat-offer"') :]
    form = form[: form.index("</form>")]
    return [int(value) for value in re.findall(r'type="hidden" name="seat" value="(\d+)"', form)]


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
        db, client.post(f"/events/{event.id}/seats", data={"seat": [seat["A1"], seat["B1"]]})
    )

    assert held_seats(db, booking, seat) == ["A1", "B1"]
    assert booking.status == BookingStatus.PENDING and booking.total_minor == 6000 + 2500


def test_seats_just_taken_answer_with_the_fresh_map_and_seats_nearby(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, _, _, seat = seated
    first, second = client, client.application.test_client()
    login_as(first, make_user())
    login_as(second, make_user())
    second.get(f"/events/{event.id}/seats")  # the map as the second buyer saw it
    booking_of(db, first.post(f"/events/{event.id}/seats", data={"seat": [seat["A1"]]}))

    response = second.post(f"/events/{event.id}/seats", data={"seat": [seat["A1"], seat["A2"]]})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Sorry, Stalls, Row A seat 1 was just taken. These are free nearby:" in html
    assert f'value="{seat["A1"]}" disabled aria-label="Stalls, Row A seat 1, held"' in html
    assert re.search(r">Hold Stalls, Row A seat \d and Stalls, Row A seat \d<", html)
    assert db.scalar(select(Unit.booking_id).where(Unit.id == seat["A2"])) is None

    # The offer is a form that holds exactly those seats: two side by side in row A.
    offer = {"seat": offered_seats(html), "allow_single": "y"}
    booking = booking_of(db, second.post(f"/events/{event.id}/seats", data=offer))
    names = held_seats(db, booking, seat)
    assert names[0][0] == names[1][0] == "A" and int(names[1][1]) == int(names[0][1]) + 1


def test_htmx_gets_only_the_answer_and_the_taken_seats(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, _, _, seat = seated
    first, second = client, client.application.test_client()
    login_as(first, make_user())
    login_as(second, make_user())
    booking_of(db, first.post(f"/events/{event.id}/seats", data={"seat": [seat["B5"], seat["B6"]]}))

    response = second.post(
        f"/events/{event.id}/seats",
        data={"seat": [seat["B5"], seat["B6"]]},
        headers={"HX-Request": "true"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "<html" not in html and "seat-grid" not in html and "seatrow" not in html
    assert 'class="seat-answer" role="alert"' in html
    for name in ("B5", "B6"):  # greyed out in place, one seat at a time
        assert f'<label id="seat-{seat[name]}" class="seat held z1" hx-swap-oob="true">' in html
    assert re.search(r">Hold Stalls, Row B seat \d and Stalls, Row B seat \d<", html)
    assert len(offered_seats(html)) == 2
    assert html.count('name="seat"') == 2 + 2  # the two taken seats, the two offered


def test_a_choice_that_leaves_a_single_seat_gets_a_gentle_warning(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, _, _, seat = seated
    login_as(client, make_user())
    chosen = {"seat": [seat["B2"], seat["B3"]]}

    response = client.post(f"/events/{event.id}/seats", data=chosen)

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Stalls, Row B seat 1 would be left on its own" in html
    assert ">Hold my choice anyway<" in html
    assert db.scalar(select(Unit.id).where(Unit.booking_id.is_not(None))) is None
    booking = booking_of(
        db, client.post(f"/events/{event.id}/seats", data={**chosen, "allow_single": "y"})
    )
    assert held_seats(db, booking, seat) == ["B2", "B3"]


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
    # Three of six: the row's end, so that no single seat is left alone.
    assert held_seats(db, booking_of(db, response), seat) == ["B1", "B2", "B3"]


def test_best_available_offers_seats_not_together_and_holds_them_with_consent(
    client: FlaskClient, db: Session, seated, make_user, login_as
) -> None:
    event, standard, _, seat = seated
    taker = client.application.test_client()
    login_as(taker, make_user())
    for pick in (["B1"], ["B3"], ["B5", "B6"]):
        data = {"seat": [seat[name] for name in pick], "allow_single": "y"}
        booking_of(db, taker.post(f"/events/{event.id}/seats", data=data))
    login_as(client, make_user())

    response = client.post(
        f"/events/{event.id}/seats/best",
        data={"tier_id": standard.id, "quantity": 2},
        headers={"HX-Request": "true"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "<html" not in html
    assert "Standard: no 2 seats together are left." in html
    assert "2 seats, not together: Stalls, Row B seat 2 and Stalls, Row B seat 4." in html
    offer = {"seat": [seat["B2"], seat["B4"]], "allow_single": "y"}
    assert (
        f'name="seat" value="{seat["B2"]}"' in html and f'name="seat" value="{seat["B4"]}"' in html
    )
    booking = booking_of(db, client.post(f"/events/{event.id}/seats", data=offer))
    assert held_seats(db, booking, seat) == ["B2", "B4"]


@pytest.mark.parametrize(
    ("quantity", "tier", "status", "message"),
    [
        ("0", "standard", 422, "Choose between 1 and 20 seats."),
        ("x", "standard", 422, "Not a valid integer value."),
        ("", "standard", 422, "Say how many seats you need."),
        ("7", "standard", 409, "Standard: only 6 seats are left, fewer than the 7 you asked for."),
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


def test_a_large_venue_opens_on_an_overview_of_its_parts(
    client: FlaskClient, db: Session, make_event, make_tier, make_user, now, monkeypatch
) -> None:
    from app.domain.ticketing import seatmap_view

    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 8)
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    layout = "Section Floor\nRow A: 1-4\nRow B: 1-4\nRow C: 1-4\nSection Balcony\nRow D: 1-6"
    replace_layout(db, event=event, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()

    overview = client.get(f"/events/{event.id}/seats").get_data(as_text=True)
    assert 'name="seat"' not in overview  # no seats until a part is opened
    assert "Floor, rows A–B" in overview and "Floor, row C" in overview
    assert '<span class="part-free" data-part="2">6 free</span> of 6' in overview
    assert "Find best seats" in overview  # best available works from the overview

    part = client.get(f"/events/{event.id}/seats?section=1").get_data(as_text=True)
    assert part.count('name="seat"') == 4 and "Floor, Row C seat 1" in part
    assert 'aria-current="page">Floor, row C<' in part

    # The parts' free counts follow changes live (overview included), once the change is
    # announced (NOTIFY) and the shared rendering is renewed.
    seats_d = list(db.scalars(select(Unit.id).where(Unit.row_label == "D")))
    change_seats(
        db, event=event, action=SeatAction.BLOCK, seat_ids=seats_d[:2], actor_id=None, now=now
    )
    db.commit()
    expected = "innerHTML:.part-free[data-part='2']\">4 free</span>"
    wait_until(
        lambda: (
            expected
            in client.get(f"/events/{event.id}/availability?seats=1").get_data(as_text=True)
        ),
        what="the overview's counts to follow the change",
    )


def test_a_page_request_holding_the_last_connection_still_gets_its_map(
    database_url, tmp_path, db: Session, seated
) -> None:
    """A page asks for the shared rendering while its request holds a pooled connection (and
    other requests waiting for the same rendering hold theirs): the rendering reads through a
    pool of its own, so it never waits for them."""
    from app import create_app
    from app.db import get_session
    from app.web.public.live_fragments import fragments_for
    from tests.conftest import _stop_live_listener, _test_config

    event, *_ = seated
    small = create_app(_test_config(database_url, tmp_path, DB_POOL_SIZE=1))
    try:
        with small.test_request_context():
            get_session().execute(select(1))  # the request holds the pool's only connection
            snapshot = fragments_for(small).snapshot(event.id, seats=True, section=None)
            assert snapshot.grid.count('name="seat"') == 12
    finally:
        _stop_live_listener(small)
        small.extensions["db"].engine.dispose()
