"""Availability notifications: at most one per event and interval, none lost, none for a
transaction that rolled back.

Nothing here waits for a silence or times anything: the coalescer's clock is frozen (every
publish of a test falls in one window, however slow the machine), its trailing timers are
recorded and joined, and `heard()` ends at a marker notification sent after everything else.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import psycopg
import pytest

from app.db import libpq_url
from app.domain import live_notify
from app.domain.ticketing import availability
from app.domain.ticketing.availability import CHANNEL, publish_availability

MARKER = "end-of-test-notifications"  # not an event id: live listeners ignore it


@pytest.fixture
def heard(app):
    url = libpq_url(app.extensions["db"].url)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")

    def collect() -> list[str]:
        """Every notification committed so far, in order. PostgreSQL delivers notifications
        in commit order, so the marker committed now comes after all of them."""
        with psycopg.connect(url, autocommit=True) as sender:
            sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, MARKER))
        payloads = []
        for note in conn.notifies(timeout=60):
            if note.payload == MARKER:
                return payloads
            payloads.append(note.payload)
        raise AssertionError(f"the marker notification never came; heard {payloads}")

    yield collect
    conn.close()


@pytest.fixture
def timers(monkeypatch) -> list[threading.Timer]:
    """Freeze the coalescer's clock and record the trailing timers it starts."""
    frozen = time.monotonic()
    started: list[threading.Timer] = []

    def timer(delay: float, function, args=()) -> threading.Timer:
        created = threading.Timer(delay, function, args)
        started.append(created)
        return created

    monkeypatch.setattr(live_notify, "time", SimpleNamespace(monotonic=lambda: frozen))
    monkeypatch.setattr(live_notify, "threading", SimpleNamespace(Timer=timer))
    yield started
    for created in started:  # none may fire into the next test
        created.join()


@pytest.fixture
def interval():
    availability.configure(interval_seconds=0.3)
    yield 0.3
    availability.configure(interval_seconds=0.25)


def test_a_burst_sends_one_now_and_one_trailing(db, heard, timers, interval):
    event_id = 900001
    for _ in range(5):
        publish_availability(db, event_id)
        db.commit()
    # One trailing notification for the four held back, due when the window ends.
    assert [t.interval for t in timers] == [pytest.approx(interval)]
    timers[0].join()
    assert heard() == [str(event_id), str(event_id)]


def test_events_are_coalesced_separately(db, heard, timers, interval):
    publish_availability(db, 900002)
    publish_availability(db, 900003)
    db.commit()
    assert sorted(heard()) == ["900002", "900003"]
    assert timers == []


def test_nothing_for_a_rolled_back_change(db, heard, timers, interval):
    publish_availability(db, 900004)
    db.rollback()
    publish_availability(db, 900004)  # held back within the interval...
    db.rollback()  # ...and its transaction never committed
    assert timers == []
    assert heard() == []


def test_interval_zero_notifies_every_transaction(db, heard, timers):
    availability.configure(interval_seconds=0)
    try:
        for _ in range(3):
            publish_availability(db, 900005)
            db.commit()
        assert heard() == ["900005"] * 3
        assert timers == []
    finally:
        availability.configure(interval_seconds=0.25)
