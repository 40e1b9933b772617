"""Live availability end to end over real HTTP: LISTEN/NOTIFY, the fan-out, the SSE stream."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.availability import CHANNEL, publish_availability
from app.domain.ticketing.models import Unit
from app.domain.ticketing.seatmap import replace_layout
from app.live import APPLICATION_NAME, LiveHub, hub_for
from tests.waiting import WAIT, wait_until


class Stream:
    """A minimal server-sent-event client: one connection, events read one at a time."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
        self.conn.request("GET", path, headers=headers or {})
        self.sock = self.conn.sock  # the response keeps it after the connection lets go
        self.response = self.conn.getresponse()

    def next_event(self, timeout: float = WAIT) -> dict[str, str]:
        self.sock.settimeout(timeout)
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if not line:
                if "event" in fields:
                    return fields
                fields = {}
                continue
            name, _, value = line.partition(":")
            if name:  # ":" lines are comments
                value = value[1:] if value.startswith(" ") else value
                fields[name] = fields[name] + "\n" + value if name in fields else value

    def next_event_with(self, text: str, timeout: float = WAIT) -> dict[str, str]:
        """The first event whose data contains `text` (earlier ones may carry other news)."""
        ends = time.monotonic() + timeout
        while (left := ends - time.monotonic()) > 0:
            event = self.next_event(left)
            if text in event["data"]:
                return event
        raise AssertionError(f"no event with {text!r} within {timeout} s")

    def close(self) -> None:
        self.response.close()
        self.conn.close()


def listeners(db: Session) -> int:
    db.execute(text("SELECT pg_stat_clear_snapshot()"))  # the view is cached per transaction
    return db.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
            "AND datname = current_database()"
        ),
        {"name": APPLICATION_NAME},
    )


def backends(db: Session) -> int:
    db.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.scalar(
        text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
    )


def notify(app: Flask, event_id: int) -> None:
    """A bare NOTIFY, as a committed change sends it (the publisher's own coalescing aside)."""
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": str(event_id)},
        )


@pytest.fixture
def hub(app: Flask) -> Iterator[LiveHub]:
    from app.db import libpq_url

    hub = LiveHub(
        libpq_url(app.config["DATABASE_URL"]), coalesce_seconds=0.3, reconnect_seconds=0.1
    )
    yield hub
    hub.stop()


def test_the_listener_starts_with_the_first_subscriber(
    app: Flask, db: Session, hub: LiveHub
) -> None:
    assert listeners(db) == 0
    with hub.subscribe(41) as subscription:
        assert hub.listening.wait(WAIT)
        assert listeners(db) == 1
        assert subscription.wait(WAIT)  # the wake-up every (re)connect gives
        before = hub.version(41)
        notify(app, 41)
        assert subscription.wait(WAIT)
        assert hub.version(41) > before
        notify(app, 42)  # another event: no wake-up
        assert not subscription.wait(0.5)
    hub.stop()
    wait_until(lambda: listeners(db) == 0, what="the LISTEN connection to close")


def test_bursts_are_coalesced(app: Flask, hub: LiveHub) -> None:
    with hub.subscribe(7) as subscription:
        assert hub.listening.wait(WAIT)
        assert subscription.wait(WAIT)  # the wake-up every (re)connect gives
        start = hub.version(7)
        wakeups = 0
        sender = threading.Thread(target=lambda: [notify(app, 7) for _ in range(30)])
        started = time.monotonic()
        sender.start()
        deadline = started + WAIT
        # Count the wake-ups until the hub has heard all thirty changes.
        while hub.version(7)[1] - start[1] < 30:
            assert time.monotonic() < deadline, "the hub never heard all thirty changes"
            wakeups += subscription.wait(0.05)
        listened_for = time.monotonic() - started
        sender.join()
    # Every change counted, but the subscriber woken at most once per 0.3 s window (the first
    # at once): a bound from the time it took, so a slow machine only widens it.
    assert 1 <= wakeups <= listened_for / 0.3 + 1


def test_a_lost_connection_is_reopened(app: Flask, db: Session, hub: LiveHub) -> None:
    with hub.subscribe(5) as subscription:
        assert hub.listening.wait(WAIT)
        assert subscription.wait(WAIT)  # the wake-up every (re)connect gives
        epoch = hub.version(5)[0]
        db.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        db.commit()
        wait_until(lambda: hub.version(5)[0] > epoch, what="a new epoch: reconnected")
        assert subscription.wait(WAIT)  # everyone re-reads: changes may have been missed
        notify(app, 5)
        assert subscription.wait(WAIT)
    assert listeners(db) == 1


def test_the_listener_stops_when_idle(app: Flask, db: Session) -> None:
    from app.db import libpq_url

    hub = LiveHub(libpq_url(app.config["DATABASE_URL"]), idle_seconds=0.2)
    with hub.subscribe(1):
        assert hub.listening.wait(WAIT)
    wait_until(lambda: listeners(db) == 0, what="the idle listener to stop")
    with hub.subscribe(1):  # and comes back for the next subscriber
        wait_until(lambda: listeners(db) == 1, what="the listener to start again")
    hub.stop()


# --- the SSE endpoint, served by the threaded test server -------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _quick_streams(csrf_app: Flask) -> Iterator[None]:
    csrf_app.config["SSE_KEEPALIVE_SECONDS"] = 1  # closed test streams are noticed quickly
    yield


@pytest.fixture
def theatre(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    replace_layout(
        db, event=event, text="Row A: 1-6\nRow B: 1-6", new_seat_tier=tier, actor_id=None, now=now
    )
    db.commit()
    units = db.scalars(select(Unit).where(Unit.event_id == event.id)).all()
    return event, tier, {f"{u.row_label}{u.seat_number}": u.id for u in units}


def test_the_stream_sends_the_map_then_each_committed_change(
    live_server, db: Session, theatre, make_user, now
) -> None:
    event, tier, seat = theatre
    stream = Stream(live_server.url, f"/events/{event.id}/live?seats=1")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        first = stream.next_event()
        assert first["event"] == "availability"
        assert f'id="seatmap-grid-{event.id}" hx-swap-oob="true"' in first["data"]
        assert f"innerHTML:.remaining[data-tier='{tier.id}']\">12 left" in first["data"]

        hold_units(
            db,
            user=make_user(),
            event=event,
            tier=None,
            quantity=2,
            seat_ids=[seat["B3"], seat["B4"]],
            now=utcnow(),  # the stream renders at the real time: the hold must not have run out
            hold_minutes=10,
        )
        db.commit()
        change = stream.next_event()
        assert f'id="seatrow-{event.id}-s0r1" hx-swap-oob="true"' in change["data"]
        assert f"seatrow-{event.id}-s0r0" not in change["data"]  # row A did not change
        assert "seatmap-grid" not in change["data"]
        assert 'aria-label="Row B seat 3, held"' in change["data"]
        assert ">10 left<" in change["data"]
    finally:
        stream.close()

    # A browser that reconnects with the last id it saw gets only what it missed.
    db.execute(text("UPDATE units SET blocked = true WHERE id = :id"), {"id": seat["A1"]})
    publish_availability(db, event.id)
    db.commit()
    again = Stream(
        live_server.url, f"/events/{event.id}/live?seats=1", {"Last-Event-ID": change["id"]}
    )
    try:
        missed = again.next_event()
        assert "seatmap-grid" not in missed["data"]
        assert 'aria-label="Row A seat 1, not available"' in missed["data"]
        assert f"seatrow-{event.id}-s0r1" not in missed["data"]
    finally:
        again.close()


def test_without_seats_the_stream_carries_only_counts(live_server, db: Session, theatre) -> None:
    event, tier, _ = theatre
    stream = Stream(live_server.url, f"/events/{event.id}/live")
    try:
        data = stream.next_event()["data"]
        assert "seat" not in data and f"data-tier='{tier.id}'" in data
    finally:
        stream.close()


def test_the_stream_is_only_for_published_events(live_server, db: Session, make_event) -> None:
    from app.domain.events.models import EventStatus

    draft = make_event(status=EventStatus.DRAFT)
    db.commit()
    for path in (f"/events/{draft.id}/live", "/events/999999/live"):
        stream = Stream(live_server.url, path)
        assert stream.response.status == 404
        stream.close()


def test_many_streams_share_one_database_connection(
    live_server, csrf_app: Flask, db: Session, theatre
) -> None:
    event, _, _ = theatre
    hub = hub_for(csrf_app)
    streams = [Stream(live_server.url, f"/events/{event.id}/live?seats=1")]
    try:
        streams[0].next_event()
        wait_until(lambda: hub.subscriber_count() >= 1, what="the first stream to subscribe")
        with_one = backends(db)
        streams += [Stream(live_server.url, f"/events/{event.id}/live?seats=1") for _ in range(29)]
        for stream in streams[1:]:
            stream.next_event()
        wait_until(lambda: hub.subscriber_count() == 30, what="thirty streams to subscribe")

        assert listeners(db) == 1
        assert backends(db) <= with_one + 1  # thirty open browsers, no new connections held

        notify(csrf_app, event.id)
        # Nothing visible changed, so nobody gets a message; a real change reaches all thirty.
        db.execute(
            text("UPDATE units SET blocked = true WHERE event_id = :e AND row_label = 'A'"),
            {"e": event.id},
        )
        publish_availability(db, event.id)
        db.commit()
        for stream in streams:
            stream.next_event_with("Row A seat 6, not available")
        assert listeners(db) == 1
    finally:
        for stream in streams:
            stream.close()
    wait_until(lambda: hub.subscriber_count() == 0, what="the closed streams to unsubscribe")


def test_the_plain_fragment_for_a_reread(client, theatre) -> None:  # noqa: ANN001
    event, tier, _ = theatre
    counts = client.get(f"/events/{event.id}/availability").get_data(as_text=True)
    assert f"data-tier='{tier.id}']\">12 left</span>" in counts and "seat-grid" not in counts
    both = client.get(f"/events/{event.id}/availability?seats=1").get_data(as_text=True)
    assert f'id="seatmap-grid-{event.id}" hx-swap-oob="true"' in both
    assert client.get("/events/999999/availability").status_code == 404


def test_the_overview_of_a_large_venue_follows_sales_live(
    live_server, db: Session, theatre, make_user, monkeypatch
) -> None:
    from app.domain.ticketing import seatmap_view

    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 6)  # rows A and B: two parts
    event, tier, seat = theatre
    stream = Stream(live_server.url, f"/events/{event.id}/live?seats=1")
    try:
        first = stream.next_event()
        assert "seatrow" not in first["data"]  # the overview has no seats
        assert "innerHTML:.part-free[data-part='1']\">6 free</span>" in first["data"]

        hold_units(
            db,
            user=make_user(),
            event=event,
            tier=None,
            quantity=2,
            seat_ids=[seat["B1"], seat["B2"]],
            now=utcnow(),
            hold_minutes=10,
        )
        db.commit()
        change = stream.next_event_with("data-part='1']\">4 free</span>")
        assert "innerHTML:.part-free[data-part='0']\">6 free</span>" in change["data"]
    finally:
        stream.close()


def test_a_closed_hub_never_listens_again(app: Flask, db: Session) -> None:
    """An app going away closes its hub: a stream still open (its browser left, and it has not
    noticed yet) must not reconnect to a database that may be gone."""
    from app.db import libpq_url

    hub = LiveHub(libpq_url(app.config["DATABASE_URL"]))
    with hub.subscribe(1):
        assert hub.listening.wait(WAIT)
        hub.close()
        wait_until(lambda: listeners(db) == 0, what="the LISTEN connection to close")
        hub.keep_listening()
        with hub.subscribe(2):
            assert not hub.listening.wait(0.3)
    assert listeners(db) == 0
