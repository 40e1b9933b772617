"""Organizers' tiers pages: create, edit (capacity rules), delete, waitlist; only one's own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import TicketTier, Unit
from app.domain.ticketing.waitlist import join_waitlist

FORM = {
    "name": "Early bird",
    "kind": "paid",
    "description": "Cheaper, for the quick ones.",
    "price": "19.50",
    "currency": "EUR",
    "capacity": "40",
    "sales_start": "",
    "sales_end": "",
    "min_per_order": "1",
    "max_per_order": "6",
    "per_user_limit": "4",
    "access_code": "",
    "position": "1",
}


@pytest.fixture
def organizer(db, client, make_user, login_as):
    user = make_user(role=Role.ORGANIZER)
    login_as(client, user)
    return user


@pytest.fixture
def event(db, organizer, make_event):
    event = make_event(organizer=organizer, currency="EUR")
    db.commit()
    return event


def units(db, tier_id) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.tier_id == tier_id))


def test_create_a_tier(db, client, event):
    assert client.get(f"/organizer/events/{event.id}/tiers/new").status_code == 200
    response = client.post(f"/organizer/events/{event.id}/tiers/new", data=FORM)
    assert response.status_code == 303
    tier = db.scalars(select(TicketTier)).one()
    assert (tier.name, tier.price_minor, tier.currency, tier.capacity) == (
        "Early bird",
        1950,
        "EUR",
        40,
    )
    assert tier.per_user_limit == 4 and units(db, tier.id) == 40
    html = client.get(f"/organizer/events/{event.id}/tiers").get_data(as_text=True)
    assert "Early bird" in html and "EUR 19.50" in html


def test_sales_window_is_read_in_the_event_time_zone(db, client, event):
    data = {**FORM, "sales_start": "2027-01-10T09:00", "sales_end": "2027-01-20T18:30"}
    assert client.post(f"/organizer/events/{event.id}/tiers/new", data=data).status_code == 303
    tier = db.scalars(select(TicketTier)).one()
    # Europe/Berlin is UTC+1 in January.
    assert tier.sales_start.isoformat() == "2027-01-10T08:00:00+00:00"
    assert tier.sales_end.isoformat() == "2027-01-20T17:30:00+00:00"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"price": "abc"}, "Enter a price"),
        ({"price": "-5"}, "Enter a price"),
        ({"price": "1.234"}, "EUR has at most 2 decimals"),
        ({"capacity": "-1"}, "Number must be"),
        ({"capacity": "lots"}, "Not a valid integer"),
        ({"kind": "free"}, "free ticket type has no price"),
        ({"kind": "gold"}, "Not a valid choice"),
        ({"max_per_order": "0"}, "Number must be"),
        ({"min_per_order": "5", "max_per_order": "2"}, "Per order"),
        ({"hidden": "y"}, "access code"),
        ({"sales_start": "2027-02-01T10:00", "sales_end": "2027-01-01T10:00"}, "end after"),
        ({"currency": "EURO"}, "Three letters"),
    ],
)
def test_bad_tier_settings_are_refused(db, client, event, changes, message):
    response = client.post(f"/organizer/events/{event.id}/tiers/new", data={**FORM, **changes})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(TicketTier)) == 0


def test_capacity_can_go_down_only_to_what_is_sold_or_held(db, client, event, make_tier, make_user):
    tier = make_tier(event=event, capacity=10, price_minor=1000, currency="EUR")
    hold_units(
        db, user=make_user(), event=event, tier=tier, quantity=3, now=utcnow(), hold_minutes=10
    )
    db.commit()
    edit = f"/organizer/events/{event.id}/tiers/{tier.id}/edit"
    assert "10.00" in client.get(edit).get_data(as_text=True)
    form = {**FORM, "name": tier.name, "price": "10.00", "per_user_limit": ""}
    too_low = client.post(edit, data={**form, "capacity": "2"})
    assert too_low.status_code == 422
    assert "below the 3 sold or held" in too_low.get_data(as_text=True)
    assert units(db, tier.id) == 10
    assert client.post(edit, data={**form, "capacity": "3"}).status_code == 303
    assert units(db, tier.id) == 3
    assert client.post(edit, data={**form, "capacity": "25"}).status_code == 303
    assert units(db, tier.id) == 25


def test_delete_an_unbooked_tier_only(db, client, event, make_tier, make_user):
    booked = make_tier(event=event, capacity=2, currency="EUR")
    spare = make_tier(event=event, capacity=2, currency="EUR")
    hold_units(
        db, user=make_user(), event=event, tier=booked, quantity=1, now=utcnow(), hold_minutes=10
    )
    db.commit()
    booked_id, spare_id = booked.id, spare.id
    base = f"/organizer/events/{event.id}/tiers"
    refused = client.post(f"{base}/{booked.id}/delete", follow_redirects=True)
    assert "has bookings" in refused.get_data(as_text=True)
    assert client.post(f"{base}/{spare_id}/delete").status_code == 303
    db.expunge_all()
    assert db.get(TicketTier, booked_id) is not None and db.get(TicketTier, spare_id) is None


def test_waitlist_page_shows_the_queue(db, client, event, make_tier, make_user):
    tier = make_tier(event=event, capacity=1, currency="EUR", name="Main floor")
    hold_units(
        db, user=make_user(), event=event, tier=tier, quantity=1, now=utcnow(), hold_minutes=10
    )
    join_waitlist(db, user=make_user(name="Ada Waiting"), tier=tier, quantity=2, now=utcnow())
    db.commit()
    html = client.get(f"/organizer/events/{event.id}/waitlist").get_data(as_text=True)
    assert "Main floor" in html and "Ada Waiting" in html and "1</strong> waiting" in html


def test_another_organizers_event_answers_404(db, client, organizer, make_event, make_tier):
    theirs = make_event()
    tier = make_tier(event=theirs, capacity=2)
    db.commit()
    base = f"/organizer/events/{theirs.id}"
    for path in ("/tiers", "/tiers/new", f"/tiers/{tier.id}/edit", "/waitlist"):
        assert client.get(base + path).status_code == 404, path
    assert client.post(base + "/tiers/new", data=FORM).status_code == 404
    assert client.post(f"{base}/tiers/{tier.id}/edit", data=FORM).status_code == 404
    assert client.post(f"{base}/tiers/{tier.id}/delete").status_code == 404
    assert units(db, tier.id) == 2


def test_a_tier_id_of_another_event_answers_404(db, client, event, make_tier):
    foreign = make_tier(capacity=2)
    db.commit()
    path = f"/organizer/events/{event.id}/tiers/{foreign.id}/edit"
    assert client.get(path).status_code == 404
    assert client.post(path, data=FORM).status_code == 404
