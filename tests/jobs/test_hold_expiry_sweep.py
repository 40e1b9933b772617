"""The worker returns an expired hold to sale at its first sweep after the hold ran out (it
sweeps every second), never before, and tells live pages."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

import psycopg
import pytest
from flask import Flask

from app.db import libpq_url
from app.domain.base import utcnow
from app.domain.ticketing import availability
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.availability import CHANNEL
from app.domain.ticketing.models import Booking, BookingStatus
from jobs.worker import Worker
from tests.waiting import WAIT, wait_until

MARKER = "end-of-test-notifications"


@pytest.fixture
def uncoalesced(app: Flask):
    """Every availability change notifies in its own transaction: the set-up's notification
    is committed before the test listens, so the only one heard is the sweep's."""
    availability.configure(interval_seconds=0)
    yield {**app.config, "AVAILABILITY_NOTIFY_INTERVAL_MS": 0}
    availability.configure_from(app.config)


def test_the_worker_releases_a_hold_at_its_first_sweep_after_expiry(
    app: Flask,
    db,  # noqa: ANN001
    make_tier,  # noqa: ANN001
    make_user,  # noqa: ANN001
    uncoalesced,  # noqa: ANN001
) -> None:
    tier = make_tier(capacity=1, price_minor=1500)
    booking = hold_units(
        db,
        user=make_user(),
        event=tier.event,
        tier=tier,
        quantity=1,
        # Booked almost ten minutes ago: the ten-minute hold runs out three seconds from now,
        # so the worker's first sweeps find it still running.
        now=utcnow() - timedelta(minutes=10) + timedelta(seconds=3),
        hold_minutes=10,
    )
    db.commit()
    expires_at = booking.hold_expires_at
    url = libpq_url(app.extensions["db"].url)
    listener = psycopg.connect(url, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")

    worker, stop = Worker(uncoalesced), asyncio.Event()
    # Each sweep: when it started and ended, and the hold's status after it.
    sweeps: list[tuple[datetime, datetime, BookingStatus]] = []
    sweep = worker.run_sweeps

    def recorded_sweep() -> None:
        started = utcnow()
        sweep()
        with worker.database.session() as session:
            status = session.get(Booking, booking.id).status
        sweeps.append((started, utcnow(), status))

    worker.run_sweeps = recorded_sweep
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(worker.run(stop=stop)), daemon=True
    )
    thread.start()
    try:
        wait_until(
            lambda: any(started >= expires_at for started, *_ in sweeps),
            what="a sweep that started after the hold ran out",
        )
        with psycopg.connect(url, autocommit=True) as sender:
            sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, MARKER))
        heard = []
        for note in listener.notifies(timeout=WAIT):
            if note.payload == MARKER:
                break
            heard.append(note.payload)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(WAIT)
        listener.close()
    # Sweeps that ended before the hold ran out left it alone; the first that started after
    # released it.
    assert all(status == BookingStatus.PENDING for _, ended, status in sweeps if ended < expires_at)
    first_after = next(status for started, _, status in sweeps if started >= expires_at)
    assert first_after == BookingStatus.EXPIRED
    assert heard == [str(tier.event_id)]
