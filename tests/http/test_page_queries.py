"""Statements per page on the buyer's path (event page, booking page) and on the admin's
dashboard: a guard against a change that quietly adds a query per speaker, tier or request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from app.domain.accounts.models import Role
from app.domain.events.models import EventType, Speaker
from tests.factories.sales import sell

# The signed-in user (1), the event with organizer, category and speakers (1), the ticket
# panel with what is left per tier (1).
EVENT_PAGE_STATEMENTS = 3
# The signed-in user (1), the booking with its event, lines and tiers (1).
BOOKING_PAGE_STATEMENTS = 2


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    """The statements the requests made in the block run, on the app's engine.

    The test client serves a request in the calling thread, so only this thread's statements
    are counted: the availability coalescer sends its trailing NOTIFY on the same engine from
    a timer thread whenever an earlier change's window ends, which may fall inside the block.
    """
    engine = app.extensions["db"].engine
    statements: list[str] = []
    requests_thread = threading.get_ident()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if threading.get_ident() == requests_thread:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def buyer(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user()
    login_as(client, user)
    return user


@pytest.fixture
def full_tier(db, make_event, make_tier, make_category):  # noqa: ANN001, ANN201
    """A tier of an event with everything its page shows: category, speakers, more tiers."""
    shown = make_event(category=make_category())
    shown.speakers.extend([Speaker(name="Ada", position=1), Speaker(name="Grace", position=2)])
    tiers = [make_tier(event=shown, capacity=5, name=f"Tier {n}") for n in range(3)]
    make_tier(event=shown, capacity=5, hidden=True, access_code="SECRET1")
    db.commit()
    return tiers[0]


def test_event_page_statements(app, client, buyer, full_tier) -> None:  # noqa: ANN001
    shown = full_tier.event
    url = f"/events/{shown.id}-{shown.slug}"
    client.get(url)  # first use of the connection (type lookups) is not what we count
    with counted_statements(app) as statements:
        page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Tier 2" in html
    assert html.index("Ada") < html.index("Grace")  # speakers in their order
    assert len(statements) <= EVENT_PAGE_STATEMENTS, statements


def test_online_event_page_adds_only_the_ticket_holder_check(
    app, client, buyer, make_event, make_tier, db
) -> None:  # noqa: ANN001
    online = make_event(event_type=EventType.ONLINE, online_url="https://meet.example/room")
    make_tier(event=online, capacity=5)
    db.commit()
    url = f"/events/{online.id}-{online.slug}"
    client.get(url)
    with counted_statements(app) as statements:
        assert client.get(url).status_code == 200
    assert len(statements) <= EVENT_PAGE_STATEMENTS + 1, statements


def test_booking_page_statements(app, client, buyer, full_tier) -> None:  # noqa: ANN001
    booked = client.post(
        f"/events/{full_tier.event_id}/book", data={"tier_id": full_tier.id, "quantity": 2}
    )
    assert booked.status_code == 303
    with counted_statements(app) as statements:
        page = client.get(booked.headers["Location"])
    assert page.status_code == 200 and "Confirmed" in page.get_data(as_text=True)
    assert len(statements) <= BOOKING_PAGE_STATEMENTS, statements


# The signed-in user (1), the event (1): the map itself comes from the shared rendering.
SEAT_PAGE_STATEMENTS = 2
# The signed-in user (1), the tier with its event and the buyer's limit lock (1), the best
# row nobody else is in (1), the seats and the booking (1), the availability NOTIFY (1).
BEST_AVAILABLE_STATEMENTS = 5


@pytest.fixture
def seated_tier(db, make_event, make_tier, now):  # noqa: ANN001, ANN201
    from app.domain.ticketing.seatmap import replace_layout

    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Stalls", price_minor=2500, capacity=0, per_user_limit=8)
    layout = "\n".join(f"Row {row}: 1-20" for row in "ABCDE")
    replace_layout(db, event=event, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()
    return tier


def test_seat_page_statements(app, client, buyer, seated_tier, monkeypatch) -> None:  # noqa: ANN001
    from app.live import hub_for
    from app.web.public import live_fragments

    monkeypatch.setattr(live_fragments, "MAX_AGE_SECONDS", 60.0)  # however slow this machine

    url = f"/events/{seated_tier.event_id}/seats"
    client.get(url)  # starts following changes (LISTEN)
    assert hub_for(app).listening.wait(5)
    client.get(url)  # renders the map once for every viewer until it changes
    with counted_statements(app) as statements:
        page = client.get(url)
    assert page.status_code == 200 and page.get_data(as_text=True).count('name="seat"') == 100
    assert len(statements) <= SEAT_PAGE_STATEMENTS, statements


def test_best_available_statements(app, client, buyer, seated_tier) -> None:  # noqa: ANN001
    url = f"/events/{seated_tier.event_id}/seats/best"
    form = {"tier_id": seated_tier.id, "quantity": 2}
    assert client.post(url, data=form).status_code == 303
    with counted_statements(app) as statements:
        assert client.post(url, data=form).status_code == 303
    assert len(statements) <= BEST_AVAILABLE_STATEMENTS, statements


# The signed-in user (1), the booking with its event, lines and tiers (1), its tickets with
# their seats and tiers (1), the event's signing key (2: made on first use, then read).
TICKET_PAGE_STATEMENTS = 5


def test_ticket_page_statements(app, client, buyer, make_seated_booking, db) -> None:  # noqa: ANN001
    booking = make_seated_booking(buyer=buyer, quantity=4)
    db.commit()
    url = f"/account/bookings/{booking.reference}/tickets"
    client.get(url)
    with counted_statements(app) as statements:
        page = client.get(url)
    assert page.status_code == 200 and page.get_data(as_text=True).count("<svg") == 4
    assert len(statements) <= TICKET_PAGE_STATEMENTS, statements


# The signed-in user (1), tickets (1), money (1), what waits (1), sales per day (1), revenue
# by category (1), top events (1): a fixed number, whatever the bookings.
ADMIN_DASHBOARD_STATEMENTS = 7


def test_admin_dashboard_statements(app, db, now, make_user, login_as, make_event) -> None:  # noqa: ANN001
    for n in range(3):
        sell(db, make_event(), n + 1, now - timedelta(days=n), paid=1000)
    db.commit()
    client = app.test_client()
    login_as(client, make_user(role=Role.ADMIN))
    client.get("/admin/dashboard")  # first use of the connection is not what we count
    with counted_statements(app) as statements:
        assert client.get("/admin/dashboard").status_code == 200
    assert len(statements) <= ADMIN_DASHBOARD_STATEMENTS, statements


# The signed-in user (1), the event (1), its tiers (1), then one aggregate each: sales per
# day, charged payments, discounts, coupons, waitlist, tickets per tier, check-ins (7).
ANALYTICS_PAGE_STATEMENTS = 10


def test_analytics_page_statements(app, client, db, sales_scenario, login_as) -> None:  # noqa: ANN001
    scenario = sales_scenario()
    db.commit()
    login_as(client, scenario.organizer)
    url = f"/organizer/events/{scenario.event.id}/analytics"
    client.get(url)
    with counted_statements(app) as statements:
        assert client.get(url).status_code == 200
    assert len(statements) <= ANALYTICS_PAGE_STATEMENTS, statements


# The signed-in user (1), the organizer's events (1), their pending changes (1), sales today
# and this week (1), the coming week's events' sold and capacity (1): not one per event.
DASHBOARD_STATEMENTS = 5


def test_organizer_dashboard_statements(
    app, client, db, make_user, make_event, make_tier, make_tickets, login_as, now
) -> None:  # noqa: ANN001
    from app.domain.accounts.models import Role

    organizer = make_user(role=Role.ORGANIZER)
    for days in (1, 2, 3, 20):
        shown = make_event(organizer=organizer, starts_at=now + timedelta(days=days))
        make_tickets(tier=make_tier(event=shown, price_minor=1000, capacity=10), quantity=2)
    db.commit()
    login_as(client, organizer)
    client.get("/organizer/")
    with counted_statements(app) as statements:
        page = client.get("/organizer/")
    assert page.status_code == 200 and page.get_data(as_text=True).count(" of 10 sold") == 3
    assert len(statements) <= DASHBOARD_STATEMENTS, statements
