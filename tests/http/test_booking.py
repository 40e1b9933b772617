"""The booking endpoint: from the ticket panel's form to the booking page, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.domain.base import utcnow
from app.domain.events.models import EventStatus
from app.domain.ticketing.models import Booking, BookingStatus, Unit, WaitlistEntry


def claimed(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None)))


def count_bookings(db) -> int:
    return db.scalar(select(func.count()).select_from(Booking))


@pytest.fixture
def buyer(db, client, make_user, login_as):
    user = make_user()
    login_as(client, user)
    return user


def post_booking(client, event_id, **form):
    return client.post(f"/events/{event_id}/book", data=form)


def test_free_booking_redirects_to_the_confirmed_booking_page(db, client, buyer, make_tier):
    tier = make_tier(capacity=5, name="Standing")
    db.commit()
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=2)
    assert response.status_code == 303
    booking = db.scalars(select(Booking)).one()
    assert response.headers["Location"].endswith(f"/account/bookings/{booking.reference}")
    assert booking.status == BookingStatus.CONFIRMED and booking.user_id == buyer.id
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert booking.reference in html and "Confirmed" in html and "2 × Standing" in html


def test_paid_booking_shows_the_hold_countdown(db, client, buyer, make_tier):
    tier = make_tier(capacity=5, price_minor=2500)
    db.commit()
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pending" in html and 'class="countdown" data-seconds="' in html
    assert "9 min" in html or "10 min" in html


def test_htmx_success_answers_with_a_redirect_header(db, client, buyer, make_tier):
    tier = make_tier(capacity=5)
    db.commit()
    response = client.post(
        f"/events/{tier.event_id}/book",
        data={"tier_id": tier.id, "quantity": 1},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/account/bookings/")


def test_anonymous_buyer_is_sent_to_log_in(db, client, make_tier):
    tier = make_tier(capacity=5)
    db.commit()
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
    assert unquote(response.headers["Location"]).endswith(f"next=/events/{tier.event_id}/tickets")
    assert claimed(db) == 0


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "whole number of tickets, between 1 and 100"),
        ("-3", "whole number of tickets, between 1 and 100"),
        ("abc", "whole number of tickets, between 1 and 100"),
        ("", "whole number of tickets, between 1 and 100"),
        ("2.5", "whole number of tickets, between 1 and 100"),
        ("11", "between 1 and 10 tickets per order"),
        ("101", "whole number of tickets, between 1 and 100"),
    ],
)
def test_bad_quantities_are_refused_and_claim_nothing(
    db, client, buyer, make_tier, quantity, message
):
    tier = make_tier(capacity=50)
    db.commit()
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=quantity)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert claimed(db) == 0 and count_bookings(db) == 0


def test_tier_id_of_another_event_is_refused(db, client, buyer, make_tier, make_event):
    tier = make_tier(capacity=5)
    other = make_event()
    db.commit()
    response = post_booking(client, other.id, tier_id=tier.id, quantity=1)
    assert response.status_code == 422
    assert "not available for this event" in response.get_data(as_text=True)
    assert claimed(db) == 0


def test_unknown_tier_id_and_non_numeric_id(db, client, buyer, make_event):
    event = make_event()
    db.commit()
    assert post_booking(client, event.id, tier_id=987654, quantity=1).status_code == 422
    assert post_booking(client, event.id, tier_id="1; DROP", quantity=1).status_code == 422
    assert count_bookings(db) == 0


def test_unpublished_event_answers_404(db, client, buyer, make_tier, make_event):
    tier = make_tier(event=make_event(status=EventStatus.DRAFT), capacity=5)
    db.commit()
    assert post_booking(client, tier.event_id, tier_id=tier.id, quantity=1).status_code == 404
    assert client.get(f"/events/{tier.event_id}/tickets").status_code == 404
    assert claimed(db) == 0


def test_sold_out_answers_409_and_offers_the_waitlist(db, client, buyer, make_tier, make_user):
    tier = make_tier(capacity=2)
    db.commit()
    assert post_booking(client, tier.event_id, tier_id=tier.id, quantity=2).status_code == 303
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "not enough tickets left" in html and "Join the waitlist" in html
    assert claimed(db) == 2 and count_bookings(db) == 1


def test_sales_window_is_enforced(db, client, buyer, make_tier):
    now = utcnow()
    tier = make_tier(capacity=5, sales_start=now + timedelta(days=1))
    ended = make_tier(event=tier.event, capacity=5, sales_end=now - timedelta(minutes=1))
    db.commit()
    for refused in (tier, ended):
        response = post_booking(client, tier.event_id, tier_id=refused.id, quantity=1)
        assert response.status_code == 422
        assert "sales have" in response.get_data(as_text=True)
    assert claimed(db) == 0


def test_hidden_tier_needs_the_code(db, client, buyer, make_tier):
    tier = make_tier(capacity=5, hidden=True, access_code="CREW-ONLY", name="Crew")
    db.commit()
    page = client.get(f"/events/{tier.event_id}/tickets").get_data(as_text=True)
    assert "Crew" not in page and "Have an access code?" in page
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    assert response.status_code == 422 and "access code" in response.get_data(as_text=True)
    wrong = client.get(f"/events/{tier.event_id}/tickets?code=nope").get_data(as_text=True)
    assert "does not unlock" in wrong and "Crew" not in wrong
    unlocked = client.get(f"/events/{tier.event_id}/tickets?code=CREW-ONLY").get_data(as_text=True)
    assert "Crew" in unlocked and 'name="access_code" value="CREW-ONLY"' in unlocked
    assert claimed(db) == 0
    ok = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1, access_code="CREW-ONLY")
    assert ok.status_code == 303 and claimed(db) == 1


def test_per_user_limit_message(db, client, buyer, make_tier):
    tier = make_tier(capacity=20, per_user_limit=2)
    db.commit()
    assert post_booking(client, tier.event_id, tier_id=tier.id, quantity=2).status_code == 303
    response = post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    assert response.status_code == 422
    assert "at most 2 per person" in response.get_data(as_text=True)
    assert claimed(db) == 2


def test_htmx_refusal_gets_the_panel_fragment(db, client, buyer, make_tier):
    tier = make_tier(capacity=5)
    db.commit()
    response = client.post(
        f"/events/{tier.event_id}/book",
        data={"tier_id": tier.id, "quantity": 0},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("{#") is False and "<html" not in html
    assert 'id="tickets"' in html and 'role="alert"' in html


def test_join_the_waitlist_when_sold_out(db, client, buyer, make_tier, make_user):
    tier = make_tier(capacity=1)
    db.commit()
    # Not sold out yet: joining is refused, booking is the way.
    early = client.post(
        f"/events/{tier.event_id}/waitlist", data={"tier_id": tier.id, "quantity": 1}
    )
    assert early.status_code == 422 and "still available" in early.get_data(as_text=True)
    post_booking(client, tier.event_id, tier_id=tier.id, quantity=1)
    response = client.post(
        f"/events/{tier.event_id}/waitlist", data={"tier_id": tier.id, "quantity": 2}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#waitlist")
    entry = db.scalars(select(WaitlistEntry)).one()
    assert (entry.user_id, entry.quantity, entry.status) == (buyer.id, 2, "waiting")
    again = client.post(
        f"/events/{tier.event_id}/waitlist", data={"tier_id": tier.id, "quantity": 1}
    )
    assert again.status_code == 409 and "already on the waitlist" in again.get_data(as_text=True)
    history = client.get("/account/bookings").get_data(as_text=True)
    assert "Leave the waitlist" in history
