"""Live door counters: check-ins notify on their own channel, heard by the process's one LISTEN
connection, and every staff phone's stream gets the new counters without reloading."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from app.db import libpq_url
from app.domain.checkin.scans import CHANNEL as CHECK_INS
from app.domain.checkin.scans import scan, undo
from app.domain.ticketing.availability import CHANNEL as AVAILABILITY
from app.domain.ticketing.models import Booking
from app.live import LiveHub
from tests.http.test_live import Stream
from tests.waiting import WAIT


def notify(app: Flask, channel: str, event_id: int) -> None:
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": channel, "payload": str(event_id)},
        )


@pytest.fixture
def hub(app: Flask) -> Iterator[LiveHub]:
    hub = LiveHub(libpq_url(app.config["DATABASE_URL"]), coalesce_seconds=0.1)
    yield hub
    hub.stop()


def test_each_channel_wakes_only_its_own_subscribers(app: Flask, hub: LiveHub) -> None:
    with (
        hub.subscribe(7, CHECK_INS) as door,
        hub.subscribe(7, AVAILABILITY) as shop,
    ):
        assert hub.listening.wait(WAIT)
        assert door.wait(WAIT) and shop.wait(WAIT)  # the wake-up every (re)connect gives
        before = hub.version(7, AVAILABILITY)
        notify(app, CHECK_INS, 7)
        assert door.wait(WAIT)
        assert not shop.wait(0.5)
        assert hub.version(7, AVAILABILITY) == before
        notify(app, AVAILABILITY, 7)
        assert shop.wait(WAIT)
        assert not door.wait(0.5)
    with pytest.raises(ValueError), hub.subscribe(7, "no_such_channel"):
        pass


@pytest.fixture(scope="module", autouse=True)
def _quick_streams(csrf_app: Flask) -> Iterator[None]:
    csrf_app.config["SSE_KEEPALIVE_SECONDS"] = 1  # closed test streams are noticed quickly
    yield


def test_every_phone_sees_the_counters_move(
    live_server,
    csrf_app: Flask,
    db,
    now,
    make_tickets,
    make_staff,
    login_as,  # noqa: ANN001
) -> None:
    tickets = make_tickets(quantity=2)
    event = db.get(Booking, tickets[0].booking_id).event
    staff = make_staff(event)
    phone = csrf_app.test_client()
    login_as(phone, staff)  # commits
    cookie = phone.get_cookie("session")
    assert cookie is not None
    headers = {"Cookie": f"session={cookie.value}"}
    streams = [
        Stream(live_server.url, f"/checkin/{event.id}/counters/stream", headers) for _ in range(2)
    ]
    try:
        for stream in streams:
            assert stream.response.status == 200
            first = stream.next_event()
            assert first["event"] == "counters" and "0</strong> / 2" in first["data"]
        result = scan(
            db, event, ticket_id=tickets[0].id, gate="North", staff=staff, scan_id=None, now=now
        )
        db.commit()
        for stream in streams:
            moved = stream.next_event_with("1</strong> / 2")
            assert "North" in moved["data"]
        undo(db, event, result.check_in.id, staff=staff, now=now)
        db.commit()
        for stream in streams:
            stream.next_event_with("0</strong> / 2")
    finally:
        for stream in streams:
            stream.close()
    stranger = Stream(live_server.url, f"/checkin/{event.id}/counters/stream")
    assert stranger.response.status in (302, 401)  # signed out: to the login page
    stranger.close()
