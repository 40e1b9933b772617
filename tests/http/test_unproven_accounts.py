"""An account whose address is not proven (created through a provider that does not vouch
for it) cannot book, pick seats, join a waitlist, report an event or apply to organize: it
may have been made with someone else's address."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import OrganizerApplication
from app.domain.events.models import EventReport
from app.domain.ticketing.models import Booking, Unit, WaitlistEntry
from app.domain.ticketing.seatmap import replace_layout

REFUSAL = "Confirm your email address first"


@pytest.fixture
def unproven(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user(verified=False)
    user.password_hash = None  # signed in through a provider that did not vouch
    login_as(client, user)
    return user


@pytest.fixture
def seated(db, make_event, make_tier, now):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Stalls", price_minor=2500, capacity=0)
    replace_layout(
        db,
        event=event,
        text="Section Stalls\nRow A: 1-4",
        new_seat_tier=tier,
        actor_id=None,
        now=now,
    )
    seat = db.scalar(select(Unit.id).where(Unit.event_id == event.id).limit(1))
    db.commit()
    return event, tier, seat


def _count(db, model) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _refused(client, response) -> None:  # noqa: ANN001
    assert response.status_code == 303 and response.headers["Location"] == "/account/profile"
    page = client.get("/account/profile").get_data(as_text=True)
    assert REFUSAL in page and "Send a new link" in page


def test_booking_and_joining_a_waitlist_are_refused(db, client, unproven, make_tier) -> None:  # noqa: ANN001
    tier = make_tier(capacity=5)
    db.commit()
    _refused(
        client,
        client.post(f"/events/{tier.event_id}/book", data={"tier_id": tier.id, "quantity": 1}),
    )
    _refused(
        client,
        client.post(f"/events/{tier.event_id}/waitlist", data={"tier_id": tier.id, "quantity": 1}),
    )
    assert _count(db, Booking) == 0 and _count(db, WaitlistEntry) == 0


def test_htmx_gets_a_redirect_header(db, client, unproven, make_tier) -> None:  # noqa: ANN001
    tier = make_tier(capacity=5)
    db.commit()
    response = client.post(
        f"/events/{tier.event_id}/book",
        data={"tier_id": tier.id, "quantity": 1},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/account/profile"
    assert _count(db, Booking) == 0


def test_picking_seats_and_best_available_are_refused(db, client, unproven, seated) -> None:  # noqa: ANN001
    event, tier, seat = seated
    _refused(client, client.post(f"/events/{event.id}/seats", data={"seat": [seat]}))
    _refused(
        client,
        client.post(f"/events/{event.id}/seats/best", data={"tier_id": tier.id, "quantity": 2}),
    )
    assert _count(db, Booking) == 0


def test_reporting_and_applying_are_refused(db, client, unproven, make_event) -> None:  # noqa: ANN001
    event = make_event()
    db.commit()
    _refused(client, client.post(f"/events/{event.id}/report", data={"reason": "This is a scam."}))
    applied = client.post(
        "/account/organizer-application", data={"organization_name": "Squat Ltd", "details": ""}
    )
    assert applied.status_code == 422
    assert "Confirm your email address before applying" in applied.get_data(as_text=True)
    assert _count(db, EventReport) == 0 and _count(db, OrganizerApplication) == 0


def test_a_proven_account_books_as_before(db, client, make_user, login_as, make_tier) -> None:  # noqa: ANN001
    login_as(client, make_user())
    tier = make_tier(capacity=5)
    db.commit()
    response = client.post(
        f"/events/{tier.event_id}/book", data={"tier_id": tier.id, "quantity": 1}
    )
    assert response.status_code == 303 and "/account/bookings/" in response.headers["Location"]
    assert _count(db, Booking) == 1
