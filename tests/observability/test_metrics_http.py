"""`/metrics`: refused without its token, and its counters move when the real pages are used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.domain.outbox import enqueue
from app.domain.ticketing.models import Booking
from app.observability import metrics

TOKEN = "scrape-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def scraping(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_not_found_without_a_token_setting(app: Flask, client: FlaskClient) -> None:
    assert not app.config["METRICS_TOKEN"]
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.usefixtures("scraping")
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
    ],
)
def test_metrics_refuses_a_missing_or_wrong_token(client: FlaskClient, headers: dict) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"eventhall" not in response.data


@pytest.mark.usefixtures("scraping")
def test_a_booking_a_hold_and_a_check_in_move_their_counters(
    db, client, make_user, make_tier, make_tickets, make_staff, ticket_code, login_as
) -> None:  # noqa: ANN001
    free = make_tier(capacity=5)
    paid = make_tier(capacity=5, price_minor=1500)
    tickets = make_tickets(quantity=1)
    event = db.get(Booking, tickets[0].booking_id).event
    staff = make_staff(event)
    buyer = make_user()
    code = ticket_code(tickets[0])
    db.commit()
    before = scrape(client)

    login_as(client, buyer)
    assert client.post(f"/events/{free.event_id}/book", data={"tier_id": free.id, "quantity": 1})
    assert client.post(f"/events/{paid.event_id}/book", data={"tier_id": paid.id, "quantity": 2})
    # A refused booking (more than the tier holds) counts nothing.
    refused = client.post(f"/events/{paid.event_id}/book", data={"tier_id": paid.id, "quantity": 9})
    assert refused.status_code >= 400
    login_as(client, staff)
    scan = client.post(
        f"/checkin/{event.id}/scan",
        data={"code": code, "gate": "North"},
        headers={"Accept": "application/json"},
    )
    assert scan.status_code == 200 and scan.json["result"] == "admitted"
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("eventhall_bookings_confirmed_total") == 1
    assert moved("eventhall_holds_total") == 1
    assert moved("eventhall_checkin_scans_total", outcome="admitted") == 1
    route = {"route": "/events/<int:event_id>/book", "method": "POST"}
    requests = "eventhall_http_request_duration_seconds_count"
    assert moved(requests, **route, status="303") == 2
    assert moved(requests, **route, status=str(refused.status_code)) == 1
    # Routes are URL rules, never raw paths (one series per route, not one per event).
    routes = {dict(labels).get("route", "") for _name, labels in after}
    assert f"/events/{paid.event_id}/book" not in routes


@pytest.mark.usefixtures("scraping")
def test_queue_depth_and_age_come_from_the_database(db, client, now) -> None:  # noqa: ANN001
    enqueue(db, "email", {"to": "a@example.test"}, available_at=now - timedelta(minutes=5))
    enqueue(db, "email", {"to": "b@example.test"}, available_at=now + timedelta(hours=1))
    db.commit()
    samples = scrape(client)
    assert value(samples, "eventhall_queue_depth", queue="outbox") == 2
    assert 290 <= value(samples, "eventhall_queue_oldest_age_seconds", queue="outbox") < 3600
    assert value(samples, "eventhall_queue_depth", queue="webhooks") == 0
    assert value(samples, "eventhall_queue_oldest_age_seconds", queue="notifications") == 0


def test_a_rolled_back_change_counts_nothing(db) -> None:  # noqa: ANN001
    start = metrics.HOLDS._value.get()
    metrics.count(db, metrics.HOLDS)  # before the transaction began: gone with its rollback
    db.execute(select(1))
    metrics.count(db, metrics.HOLDS)
    db.rollback()
    db.execute(select(1))
    metrics.count(db, metrics.HOLDS, 2)
    with db.begin_nested() as savepoint:
        metrics.count(db, metrics.HOLDS, 100)
        savepoint.rollback()
    with db.begin_nested():
        metrics.count(db, metrics.HOLDS, 10)
    assert metrics.HOLDS._value.get() == start  # nothing before the commit
    db.commit()
    assert metrics.HOLDS._value.get() == start + 12
