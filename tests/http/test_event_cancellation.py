"""Cancelling an event over HTTP: the organizer's form, what buyers then see, and every way of
buying that is refused afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking, BookingStatus

NOTE = "The venue is flooded <b>sorry</b>"


@pytest.fixture
def sold(db, make_user, make_event, make_tier):  # noqa: ANN001, ANN201
    """An upcoming event with a free tier, two buyers holding tickets, and its organizer."""
    from app.domain.ticketing.allocation import hold_units

    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, starts_at=utcnow() + timedelta(days=10))
    tier = make_tier(event=event, capacity=10, name="Standing")
    buyers = [make_user(), make_user()]
    bookings = [
        hold_units(db, user=b, event=event, tier=tier, quantity=1, now=utcnow(), hold_minutes=10)
        for b in buyers
    ]
    db.commit()
    return organizer, event, tier, buyers, bookings


def test_the_organizer_cancels_and_buyers_see_it(
    client, db, login_as, sold, notification_mail
) -> None:  # noqa: ANN001
    organizer, event, tier, buyers, bookings = sold
    login_as(client, organizer)
    response = client.post(
        f"/organizer/events/{event.id}/cancel", data={"reason": NOTE}, follow_redirects=True
    )
    assert "Event cancelled, with its 2 bookings" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.CANCELLED
    assert {db.get(Booking, b.id).status for b in bookings} == {BookingStatus.CANCELLED}
    assert len(notification_mail(kind="event_cancelled")) == 2

    login_as(client, buyers[0])
    page = client.get(f"/events/{event.id}-{event.slug}").get_data(as_text=True)
    assert "This event has been cancelled." in page
    assert "The venue is flooded &lt;b&gt;sorry&lt;/b&gt;" in page
    assert "no tickets are on sale" in page and 'name="quantity"' not in page
    booking_page = client.get(f"/account/bookings/{bookings[0].reference}").get_data(as_text=True)
    assert "The organizer cancelled this event." in booking_page
    assert "&lt;b&gt;sorry" in booking_page and "Cancelled" in booking_page

    refused = client.post(f"/events/{event.id}/book", data={"tier_id": tier.id, "quantity": 1})
    assert refused.status_code == 422
    assert "This event is not selling tickets." in refused.get_data(as_text=True)
    joined = client.post(f"/events/{event.id}/waitlist", data={"tier_id": tier.id, "quantity": 1})
    assert joined.status_code == 422
    assert client.get(f"/events/{event.id}/tickets").status_code == 200
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Booking)) == 2


def test_a_repeated_or_oversized_cancellation_changes_nothing(
    client, db, login_as, sold, notification_mail
) -> None:  # noqa: ANN001
    organizer, event, *_ = sold
    login_as(client, organizer)
    url = f"/organizer/events/{event.id}/cancel"
    too_long = client.post(url, data={"reason": "x" * 2001}, follow_redirects=True)
    assert "at most 2000 characters" in too_long.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.PUBLISHED
    assert notification_mail(kind="event_cancelled") == []
    assert client.post(url, data={"reason": "Storm"}).status_code == 303
    again = client.post(url, data={"reason": "Storm"}, follow_redirects=True)
    assert "A cancelled event cannot be cancelled." in again.get_data(as_text=True)
    assert len(notification_mail(kind="event_cancelled")) == 2
