"""Open live streams are capped per client network (429) and per process (503), both with
Retry-After; a stream's place is given back however it ends."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.web.public.stream_gate import client_network, gate_for
from tests.http.test_live import Stream, wait_until


@pytest.fixture
def event(db: Session, make_event, make_tier):  # noqa: ANN001, ANN201
    shown = make_event()
    make_tier(event=shown, capacity=10)
    db.commit()
    return shown


@pytest.fixture
def limits(app: Flask) -> Iterator[dict[str, object]]:
    keys = ("LIVE_STREAMS_PER_CLIENT", "LIVE_STREAMS_PER_PROCESS", "SSE_STREAM_SECONDS")
    before = {key: app.config[key] for key in keys}
    app.config.update(LIVE_STREAMS_PER_CLIENT=2, LIVE_STREAMS_PER_PROCESS=5)
    yield app.config
    app.config.update(before)


class Streams:
    """Streams opened through the test client, held open until closed."""

    def __init__(self, client: FlaskClient, event_id: int) -> None:
        self.client, self.event_id, self.open = client, event_id, []

    def get(self, address: str):  # noqa: ANN201
        response = self.client.get(
            f"/events/{self.event_id}/live", environ_base={"REMOTE_ADDR": address}
        )
        if response.status_code == 200:
            self.open.append(response)
        return response

    def close_all(self) -> None:
        for response in self.open:
            response.close()


@pytest.fixture
def streams(client: FlaskClient, event) -> Iterator[Streams]:  # noqa: ANN001
    opened = Streams(client, event.id)
    yield opened
    opened.close_all()


def test_one_client_network_is_capped_with_retry_after(app: Flask, limits, streams) -> None:  # noqa: ANN001
    gate = gate_for(app)
    assert [streams.get("198.51.100.7").status_code for _ in range(2)] == [200, 200]
    refused = streams.get("198.51.100.7")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(app.config["SSE_KEEPALIVE_SECONDS"])
    assert "Too many live views" in refused.get_data(as_text=True)
    assert "text/event-stream" not in refused.content_type
    assert streams.get("198.51.100.8").status_code == 200  # another client
    assert gate.open_streams("198.51.100.7") == 2 and gate.open_streams() == 3

    streams.open[0].close()  # a browser leaves: its place is free again
    assert gate.open_streams("198.51.100.7") == 1
    assert streams.get("198.51.100.7").status_code == 200


def test_an_ipv6_client_network_is_its_64(limits, streams) -> None:  # noqa: ANN001
    limits["LIVE_STREAMS_PER_PROCESS"] = 50
    assert streams.get("2001:db8:1:2::a").status_code == 200
    assert streams.get("2001:db8:1:2:ffff::b").status_code == 200
    assert streams.get("2001:db8:1:2::c").status_code == 429  # same /64
    assert streams.get("2001:db8:1:3::a").status_code == 200  # the next /64
    assert streams.get("198.51.100.9").status_code == 200
    assert streams.get("::ffff:198.51.100.9").status_code == 200  # the same IPv4 client
    assert streams.get("198.51.100.9").status_code == 429


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8:0:0:ffff::1", "2001:db8::/64"),
        ("", ""),
        (None, ""),
    ],
)
def test_client_networks(address: str | None, network: str) -> None:
    assert client_network(address) == network


def test_the_process_is_capped_with_retry_after(app: Flask, limits, streams) -> None:  # noqa: ANN001
    limits["LIVE_STREAMS_PER_CLIENT"] = 10
    for n in range(5):
        assert streams.get(f"203.0.113.{n}").status_code == 200
    refused = streams.get("203.0.113.99")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == str(app.config["SSE_KEEPALIVE_SECONDS"])
    streams.open[2].close()
    assert streams.get("203.0.113.99").status_code == 200


def test_refused_and_unknown_streams_take_no_place(
    app: Flask, client: FlaskClient, db: Session, make_event, limits, streams
) -> None:  # noqa: ANN001
    from app.domain.events.models import EventStatus

    gate = gate_for(app)
    draft = make_event(status=EventStatus.DRAFT)
    db.commit()
    for _ in range(3):
        streams.get("192.0.2.1")
    assert gate.open_streams() == 2
    for path in (f"/events/{draft.id}/live", "/events/999999/live", "/events/1/live?seats=x"):
        assert client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 404
    assert gate.open_streams() == 2
    streams.close_all()
    assert gate.open_streams() == 0


def test_a_stream_that_runs_its_course_gives_its_place_back(
    app: Flask, client: FlaskClient, event, limits
) -> None:  # noqa: ANN001
    limits["SSE_STREAM_SECONDS"] = 0  # the stream ends after its `retry` line
    response = client.get(f"/events/{event.id}/live")
    assert response.get_data(as_text=True) == "retry: 3000\n\n"
    response.close()
    assert gate_for(app).open_streams() == 0


def test_a_stream_dropped_unclosed_gives_its_place_back(app: Flask, event) -> None:  # noqa: ANN001
    """As when a hook after the view fails and the error page replaces the stream unsent."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=f"/events/{event.id}/live").get_environ()
    unsent = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
    assert gate_for(app).open_streams() == 1
    del unsent
    gc.collect()
    assert gate_for(app).open_streams() == 0


@pytest.fixture
def one_per_client(csrf_app: Flask) -> Iterator[None]:
    before = (csrf_app.config["LIVE_STREAMS_PER_CLIENT"], csrf_app.config["SSE_KEEPALIVE_SECONDS"])
    csrf_app.config.update(LIVE_STREAMS_PER_CLIENT=1, SSE_KEEPALIVE_SECONDS=1)
    yield
    csrf_app.config.update(LIVE_STREAMS_PER_CLIENT=before[0], SSE_KEEPALIVE_SECONDS=before[1])


def test_a_browser_that_leaves_gives_its_place_back_over_http(
    live_server, csrf_app: Flask, event, one_per_client
) -> None:  # noqa: ANN001
    gate = gate_for(csrf_app)
    first = Stream(live_server.url, f"/events/{event.id}/live")
    try:
        assert first.response.status == 200
        first.next_event()
        second = Stream(live_server.url, f"/events/{event.id}/live")
        assert second.response.status == 429 and second.response.getheader("Retry-After") == "1"
        second.close()
    finally:
        first.close()
    # The server notices the closed connection at the stream's next keep-alive line.
    assert wait_until(lambda: gate.open_streams() == 0, timeout=10)
    again = Stream(live_server.url, f"/events/{event.id}/live")
    try:
        assert again.response.status == 200
    finally:
        again.close()
    start = time.monotonic()
    assert wait_until(lambda: gate.open_streams() == 0, timeout=10), time.monotonic() - start
