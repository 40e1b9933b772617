"""The production web server (gunicorn.conf.py: gevent workers): many open live streams do not
starve ordinary requests, and the process's one LISTEN connection feeds them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import ROOT
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.seatmap import replace_layout
from app.live import APPLICATION_NAME
from tests.http.test_live import Stream
from tests.waiting import WAIT

STREAMS = 120
# gunicorn imports the whole app under gevent before it answers: over 30 s on a machine busy
# with two other test runs. A crash is noticed at once (the first request's connection is
# reset), so only a slow start waits this long.
STARTUP = 120


@pytest.fixture(scope="module")
def gunicorn(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # gunicorn serves a socket bound here and handed over (`fd://`): a port picked here and
    # bound by gunicorn later could be taken in between. Requests sent before gunicorn
    # accepts wait in the socket's backlog, so the first one is the readiness check.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "production",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": "gevent-test-" + "x" * 32,
        "LIVE_STREAMS_PER_CLIENT": str(STREAMS + 10),  # every stream comes from this machine
        "INSTANCE_DIR": str(tmp_path_factory.mktemp("gunicorn")),
        "WEB_WORKERS": "1",
        "SSE_KEEPALIVE_SECONDS": "1",
    }
    env.pop("WEB_WORKER_CLASS", None)  # the configured default is what is tested
    with listener:
        bind = f"--bind=fd://{listener.fileno()}"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", bind, "wsgi:app"],
            cwd=ROOT,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=STARTUP) as response:
            assert response.status == 200
        yield base
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(WAIT)


@pytest.mark.timeout(STARTUP + 180)  # the server's start is part of this test's set-up
def test_open_streams_leave_room_for_ordinary_requests(
    gunicorn: str, db: Session, make_event, make_tier, now
) -> None:
    event = make_event(is_seated=True)
    tier = make_tier(event=event, price_minor=1000, capacity=0)
    replace_layout(db, event=event, text="Row A: 1-10", new_seat_tier=tier, actor_id=None, now=now)
    db.commit()
    page = f"{gunicorn}/events/{event.id}/seats"

    with ThreadPoolExecutor(max_workers=32) as pool:
        streams = list(
            pool.map(lambda _: Stream(gunicorn, f"/events/{event.id}/live?seats=1"), range(STREAMS))
        )
        try:
            assert all(
                first["event"] == "availability"
                for first in pool.map(lambda s: s.next_event(), streams)
            )

            # One worker with 120 open streams (more than any thread pool here) still answers.
            # Starved, as under gthread, these would wait for a stream to end (10 minutes).
            for _ in range(10):
                with urllib.request.urlopen(page, timeout=WAIT) as response:
                    assert response.status == 200

            db.execute(text("SELECT pg_stat_clear_snapshot()"))
            listening = db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :n AND datname = current_database()"
                ),
                {"n": APPLICATION_NAME},
            )
            assert listening == 1

            db.execute(text("UPDATE units SET blocked = true WHERE event_id = :e"), {"e": event.id})
            publish_availability(db, event.id)
            db.commit()
            changes = list(pool.map(lambda s: s.next_event()["data"], streams))
            assert all("Row A seat 10, not available" in change for change in changes)
        finally:
            for stream in streams:
                stream.close()
