"""Per-network limits of the booking, seat and waitlist posts: a burst, then a refill rate, per
network (an IPv4 address, an IPv6 /64) and process; generous enough for a crowd behind one
address; a refusal says how long to wait and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.ticketing.models import Booking, Unit
from app.domain.ticketing.seatmap import replace_layout
from app.web import network
from app.web.network import NetworkBuckets, client_network

NAT = {"REMOTE_ADDR": "198.51.100.7"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


def test_a_bucket_allows_a_burst_then_its_rate():
    buckets = NetworkBuckets(per_minute=60, burst=3)
    assert [buckets.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 100.0) == pytest.approx(1.0)  # one a second comes back
    assert buckets.take("b", 100.0) == 0.0  # another network has its own
    assert buckets.take("a", 101.0) == 0.0
    assert buckets.take("a", 101.0) > 0
    assert buckets.take("a", 200.0) == 0.0  # refilled, never past the burst
    assert [buckets.take("a", 200.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("a", 200.0) > 0


def test_a_bucket_forgets_the_network_seen_longest_ago():
    buckets = NetworkBuckets(per_minute=60, burst=1, max_networks=2)
    for name in ("a", "b", "c"):
        buckets.take(name, 0.0)
    assert buckets.take("a", 0.0) == 0.0  # forgotten, so a full bucket again
    assert buckets.take("c", 0.0) > 0


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_a_client_counts_in_its_network(app: Flask, address: str, counted_as: str) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_network() == counted_as


@pytest.fixture(autouse=True)
def stopped_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fresh buckets on a clock that stands still: nothing refills however slow the test."""
    monkeypatch.setattr(network, "clock", lambda: 1000.0)
    app.extensions.pop("network_buckets", None)
    yield
    app.extensions.pop("network_buckets", None)


@pytest.fixture
def budget(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three posts at once per network, one a second after that."""
    monkeypatch.setitem(app.config, "NETWORK_BOOKING_BURST", 3)
    monkeypatch.setitem(app.config, "NETWORK_BOOKING_PER_MINUTE", 60)


@pytest.fixture
def buyer(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user()
    login_as(client, user)
    return user


def booked(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking))


def test_the_booking_endpoints_share_one_budget_per_network(
    db: Session, client: FlaskClient, buyer, make_tier, make_event, now, budget
) -> None:  # noqa: ANN001
    tier = make_tier(capacity=50, price_minor=1500)
    seated = make_event(is_seated=True)
    stalls = make_tier(event=seated, name="Stalls", price_minor=2500, capacity=0)
    replace_layout(
        db, event=seated, text="Row A: 1-10", new_seat_tier=stalls, actor_id=None, now=now
    )
    seat = db.scalars(select(Unit.id).where(Unit.event_id == seated.id).limit(1)).one()
    db.commit()
    form = {"tier_id": tier.id, "quantity": 1}
    for _ in range(3):
        assert (
            client.post(f"/events/{tier.event_id}/book", data=form, environ_base=NAT).status_code
            == 303
        )
    posts = [
        (f"/events/{tier.event_id}/book", form),
        (f"/events/{tier.event_id}/waitlist", form),
        (f"/events/{seated.id}/seats", {"seat": [seat]}),
        (f"/events/{seated.id}/seats/best", {"tier_id": stalls.id, "quantity": 2}),
    ]
    for url, data in posts:
        refused = client.post(url, data=data, environ_base=NAT)
        assert refused.status_code == 429, url
        assert refused.headers["Retry-After"] == "1"
        assert "coming from your network" in refused.text and "1 second." in refused.text
    assert booked(db) == 3
    # Another network is not held up by this one.
    other = client.post(f"/events/{tier.event_id}/book", data=form, environ_base=ELSEWHERE)
    assert other.status_code == 303 and booked(db) == 4


def test_htmx_gets_the_refusal_in_the_panel(
    db: Session, client: FlaskClient, buyer, make_tier, budget
) -> None:  # noqa: ANN001
    tier = make_tier(capacity=5)
    db.commit()
    url = f"/events/{tier.event_id}/book"
    for _ in range(3):
        client.post(url, data={"tier_id": tier.id, "quantity": 0}, environ_base=NAT)
    refused = client.post(
        url,
        data={"tier_id": tier.id, "quantity": 1},
        headers={"HX-Request": "true"},
        environ_base=NAT,
    )
    assert refused.status_code == 429 and "<html" not in refused.text
    assert 'id="tickets"' in refused.text and 'role="alert"' in refused.text
    assert booked(db) == 0


def test_a_crowd_behind_one_address_is_not_held_up(db: Session, client: FlaskClient, make_tier):  # noqa: ANN001
    """The default budget: 600 posts at once from one address (here anonymous, so cheap: each
    is sent to log in) all go through; the next one waits for the refill (1,200 a minute)."""
    tier = make_tier(capacity=5)
    db.commit()
    url = f"/events/{tier.event_id}/book"
    assert {client.post(url, environ_base=NAT).status_code for _ in range(600)} == {303}
    refused = client.post(url, environ_base=NAT)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
