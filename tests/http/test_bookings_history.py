"""/account/bookings: the list, a booking's page, cancel, claim, leave a waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, BookingStatus, Unit, WaitlistStatus
from app.domain.ticketing.waitlist import join_waitlist


@pytest.fixture
def buyer(db, client, make_user, login_as):
    user = make_user()
    login_as(client, user)
    return user


def hold(db, user, tier, quantity=1, *, now=None):
    return hold_units(
        db,
        user=user,
        event=tier.event,
        tier=tier,
        quantity=quantity,
        now=now or utcnow(),
        hold_minutes=10,
    )


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/account/bookings")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert client.get("/account/bookings/ABCDEFGH").status_code in (302, 303)


def test_list_shows_upcoming_and_past_with_status(db, client, buyer, make_tier, make_event):
    now = utcnow()
    soon = make_tier(event=make_event(title="Spring Gala"), capacity=3, price_minor=900)
    hold(db, buyer, soon, 2)
    old_event = make_event(title="Last Year", starts_at=now - timedelta(days=20))
    hold(db, buyer, make_tier(event=old_event, capacity=2), now=now - timedelta(days=30))
    db.commit()
    html = client.get("/account/bookings").get_data(as_text=True)
    upcoming, past = html.split('id="past-heading"')
    assert "Spring Gala" in upcoming and "Pending" in upcoming and "2 ×" in upcoming
    assert "Last Year" in past and "Confirmed" in past


def test_detail_page_and_someone_elses_booking(db, client, buyer, make_tier, make_user):
    tier = make_tier(capacity=3, price_minor=900, name="Balcony")
    mine = hold(db, buyer, tier)
    theirs = hold(db, make_user(), tier)
    db.commit()
    page = client.get(f"/account/bookings/{mine.reference}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1 × Balcony" in html and "held for" in html and "Release these tickets" in html
    assert client.get(f"/account/bookings/{theirs.reference}").status_code == 404
    assert client.post(f"/account/bookings/{theirs.reference}/cancel").status_code == 404
    db.expire_all()
    assert db.get(Booking, theirs.id).status == BookingStatus.PENDING


def test_an_expired_hold_shows_expired_and_is_released(db, client, buyer, make_tier):
    tier = make_tier(capacity=1, price_minor=900)
    booking = hold(db, buyer, tier, now=utcnow() - timedelta(minutes=11))
    db.commit()
    html = client.get(f"/account/bookings/{booking.reference}").get_data(as_text=True)
    assert "Expired" in html and "went back on sale" in html
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.EXPIRED
    assert (
        db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None))) == 0
    )


def test_cancel_then_cancel_again(db, client, buyer, make_tier):
    tier = make_tier(capacity=2)
    booking = hold(db, buyer, tier, 2)
    db.commit()
    response = client.post(f"/account/bookings/{booking.reference}/cancel")
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.CANCELLED
    again = client.post(f"/account/bookings/{booking.reference}/cancel")
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    claim = client.post(f"/account/bookings/{booking.reference}/claim")
    assert claim.status_code == 409 and "cancelled" in claim.get_data(as_text=True)


def test_claiming_a_free_waitlist_offer(db, client, buyer, make_tier, make_user):
    now = utcnow()
    tier = make_tier(capacity=1)
    owner = make_user()
    taken = hold(db, owner, tier)
    entry = join_waitlist(db, user=buyer, tier=tier, quantity=1, now=now)
    db.commit()
    cancel_booking(db, taken, actor_id=owner.id, now=now)
    db.commit()
    db.refresh(entry)
    offer = db.get(Booking, entry.booking_id)
    html = client.get(f"/account/bookings/{offer.reference}").get_data(as_text=True)
    assert "Confirm these tickets" in html
    response = client.post(f"/account/bookings/{offer.reference}/claim")
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Booking, offer.id).status == BookingStatus.CONFIRMED
    assert db.get(type(entry), entry.id).status == WaitlistStatus.CONVERTED


def test_leave_a_waitlist(db, client, buyer, make_tier, make_user):
    tier = make_tier(capacity=1)
    hold(db, make_user(), tier)
    entry = join_waitlist(db, user=buyer, tier=tier, quantity=1, now=utcnow())
    other = join_waitlist(db, user=make_user(), tier=tier, quantity=1, now=utcnow())
    db.commit()
    assert client.post(f"/account/waitlist/{other.id}/leave").status_code == 404
    response = client.post(f"/account/waitlist/{entry.id}/leave", follow_redirects=True)
    assert "You left the waitlist" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(type(entry), entry.id).status == WaitlistStatus.LEFT
    assert db.get(type(other), other.id).status == WaitlistStatus.WAITING  # not theirs to leave


def test_past_bookings_come_a_page_at_a_time(db, client, buyer, make_tier, make_event):
    from app.domain.ticketing.bookings import PAST_PAGE_SIZE

    now = utcnow()
    ended = make_event(title="Old Show", starts_at=now - timedelta(days=40))
    tier = make_tier(event=ended, capacity=PAST_PAGE_SIZE + 5)
    for n in range(PAST_PAGE_SIZE + 5):
        hold(db, buyer, tier, now=now - timedelta(days=60, minutes=n))
    db.commit()

    def past_of(page: str) -> str:
        html = client.get(f"/account/bookings{page}").get_data(as_text=True)
        return html.split('id="past-heading"')[1]

    first = past_of("")
    assert first.count('class="card booking-item"') == PAST_PAGE_SIZE
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = past_of("?page=2")
    assert second.count('class="card booking-item"') == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # The newest come first: together the pages hold every booking once.
    refs = db.scalars(
        select(Booking.reference)
        .where(Booking.user_id == buyer.id)
        .order_by(Booking.created_at.desc())
    ).all()
    assert all(ref in first for ref in refs[:PAST_PAGE_SIZE])
    assert all(ref in second for ref in refs[PAST_PAGE_SIZE:])
    # Bad page numbers answer the first page; one past the end says there is nothing more.
    assert past_of("?page=abc") == first
    assert past_of("?page=-3") == first
    assert "No more past bookings." in past_of("?page=9")
