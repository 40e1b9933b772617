"""The worker returns an expired hold to sale within about a second, and tells live pages."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import psycopg
from flask import Flask

from app.db import libpq_url
from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.availability import CHANNEL
from app.domain.ticketing.models import Booking, BookingStatus
from jobs.worker import Worker


def test_the_worker_releases_a_hold_within_seconds_of_its_expiry(
    app: Flask,
    db,  # noqa: ANN001
    make_tier,  # noqa: ANN001
    make_user,  # noqa: ANN001
) -> None:
    tier = make_tier(capacity=1, price_minor=1500)
    booking = hold_units(
        db,
        user=make_user(),
        event=tier.event,
        tier=tier,
        quantity=1,
        # Booked almost ten minutes ago: the ten-minute hold runs out three seconds from now.
        now=utcnow() - timedelta(minutes=10) + timedelta(seconds=3),
        hold_minutes=10,
    )
    db.commit()
    expires_at = booking.hold_expires_at
    listener = psycopg.connect(libpq_url(app.extensions["db"].url), autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    # The set-up's own (coalesced, trailing) notification arrives within the interval.
    list(listener.notifies(timeout=0.5))

    worker, stop = Worker(app.config), asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(worker.run(stop=stop)), daemon=True
    )
    thread.start()
    try:
        released_at = None
        deadline = time.monotonic() + 15
        while released_at is None and time.monotonic() < deadline:
            db.expire_all()
            if db.get(Booking, booking.id).status == BookingStatus.EXPIRED:
                released_at = utcnow()
            time.sleep(0.05)
        heard = [note.payload for note in listener.notifies(timeout=2, stop_after=1)]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        listener.close()
    assert released_at is not None, "the hold was never released"
    # A sweep a second, plus slack for a busy test machine.
    assert released_at - expires_at < timedelta(seconds=3)
    assert heard == [str(tier.event_id)]
