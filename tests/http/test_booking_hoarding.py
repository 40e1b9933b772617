"""The hoarding rules over HTTP: the settings apply to the booking form, best available and
hand-picked seats, and the refusal says how long to wait (429, in the panel or the answer)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.ticketing import availability
from app.domain.ticketing.models import Booking, Unit
from app.domain.ticketing.seatmap import replace_layout
from tests.http.test_page_queries import counted_statements


@pytest.fixture
def buyer(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user()
    login_as(client, user)
    return user


@pytest.fixture(autouse=True)
def two_holds(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "HOLD_RATE_MAX", 2)
    monkeypatch.setitem(app.config, "HOLD_RATE_WINDOW_SECONDS", 600)


@pytest.fixture(autouse=True)
def notify_every_change(app: Flask) -> Iterator[None]:
    """No coalescing in this module: a NOTIFY held back would be sent by a timer thread on the
    same engine, whenever it fires, and be counted with a request's statements."""
    availability.configure(interval_seconds=0)
    yield
    availability.configure_from(app.config)


def bookings(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking))


def test_the_booking_form_refuses_a_third_hold_with_the_wait(
    db: Session, client: FlaskClient, buyer, make_tier
) -> None:  # noqa: ANN001
    tier = make_tier(capacity=20, price_minor=1500, per_user_limit=None)
    db.commit()
    url = f"/events/{tier.event_id}/book"
    form = {"tier_id": tier.id, "quantity": 1}
    for _ in range(2):
        assert client.post(url, data=form).status_code == 303
    page = client.post(url, data=form)
    assert page.status_code == 429
    assert "many bookings for this event" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)  # a plain post gets the page
    fragment = client.post(url, data=form, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 429 and "<html" not in html and 'id="tickets"' in html
    assert 'role="alert"' in html and re.search(r"try again in \d+ minutes", html)
    assert bookings(db) == 2


@pytest.fixture
def seated(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    stalls = make_tier(event=event, name="Stalls", price_minor=2500, capacity=0)
    replace_layout(
        db,
        event=event,
        text="Row A: 1-10\nRow B: 1-10",
        new_seat_tier=stalls,
        actor_id=None,
        now=now,
    )
    seats = db.scalars(select(Unit.id).where(Unit.event_id == event.id).order_by(Unit.id)).all()
    db.commit()
    return event, stalls, list(seats)


def test_best_available_and_chosen_seats_share_the_rate(
    db: Session, client: FlaskClient, buyer, seated
) -> None:  # noqa: ANN001
    event, stalls, seats = seated
    best = f"/events/{event.id}/seats/best"
    assert client.post(best, data={"tier_id": stalls.id, "quantity": 2}).status_code == 303
    picked = client.post(f"/events/{event.id}/seats", data={"seat": [seats[-1]]})
    assert picked.status_code == 303
    refused = client.post(
        best, data={"tier_id": stalls.id, "quantity": 2}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 429 and "many bookings" in refused.get_data(as_text=True)
    refused = client.post(f"/events/{event.id}/seats", data={"seat": [seats[-2]]})
    assert refused.status_code == 429 and "many bookings" in refused.get_data(as_text=True)
    assert bookings(db) == 2


# The signed-in user (1), the tier with its event and the buyer's lock (1), the claim that
# counts the per-user limit and the hoarding rules (1), the availability NOTIFY (1).
GENERAL_ADMISSION_STATEMENTS = 4


def test_a_hold_counts_everything_without_an_extra_statement(
    app: Flask, db: Session, client: FlaskClient, buyer, make_tier
) -> None:  # noqa: ANN001
    tier = make_tier(capacity=20, price_minor=1500, per_user_limit=4)
    db.commit()
    url, form = f"/events/{tier.event_id}/book", {"tier_id": tier.id, "quantity": 1}
    assert client.post(url, data=form).status_code == 303
    with counted_statements(app) as statements:
        assert client.post(url, data=form).status_code == 303
    assert len(statements) == GENERAL_ADMISSION_STATEMENTS, statements
