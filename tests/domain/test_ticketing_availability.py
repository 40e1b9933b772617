"""Availability notifications: at most one per event and interval, none lost, none for a
transaction that rolled back."""

from __future__ import annotations

import time

import psycopg
import pytest

from app.db import libpq_url
from app.domain.ticketing import availability
from app.domain.ticketing.availability import CHANNEL, publish_availability


@pytest.fixture
def heard(app):
    conn = psycopg.connect(libpq_url(app.extensions["db"].url), autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")

    def collect(seconds: float) -> list[str]:
        return [note.payload for note in conn.notifies(timeout=seconds)]

    yield collect
    conn.close()


@pytest.fixture
def interval():
    availability.configure(interval_seconds=0.3)
    yield 0.3
    availability.configure(interval_seconds=0.25)


def test_a_burst_sends_one_now_and_one_trailing(db, heard, interval):
    event_id = 900001
    for _ in range(5):
        publish_availability(db, event_id)
        db.commit()
    started = time.monotonic()
    notes = heard(1.0)
    assert notes == [str(event_id), str(event_id)]
    assert time.monotonic() - started < 1.5


def test_events_are_coalesced_separately(db, heard, interval):
    publish_availability(db, 900002)
    publish_availability(db, 900003)
    db.commit()
    assert sorted(heard(0.2)) == ["900002", "900003"]


def test_nothing_for_a_rolled_back_change(db, heard, interval):
    publish_availability(db, 900004)
    db.rollback()
    publish_availability(db, 900004)  # held back within the interval...
    db.rollback()  # ...and its transaction never committed
    assert heard(0.8) == []


def test_interval_zero_notifies_every_transaction(db, heard):
    availability.configure(interval_seconds=0)
    try:
        for _ in range(3):
            publish_availability(db, 900005)
            db.commit()
        assert heard(0.3) == ["900005"] * 3
    finally:
        availability.configure(interval_seconds=0.25)
