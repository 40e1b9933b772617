"""The live stream, the availability fragment and the seat page name a page by `seats` and
`section`: a wrong type or a part the venue does not have is a 404, and never a new entry in
the shared rendering cache (app/web/public/live_fragments.py) nor a rendering."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.ticketing.seatmap import replace_layout
from app.web.public.live_fragments import fragments_for

WRONG_TYPES = ["abc", "", "-1", "+1", " 1", "1 ", "1_0", "1.0", "٣", "0x1", "9999999"]


@pytest.fixture
def large(db: Session, make_event, make_tier, now, monkeypatch):  # noqa: ANN001, ANN201
    """A venue shown a part at a time: Floor rows A-B, Floor row C, Balcony (parts 0-2)."""
    from app.domain.ticketing import seatmap_view

    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 8)
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    layout = "Section Floor\nRow A: 1-4\nRow B: 1-4\nRow C: 1-4\nSection Balcony\nRow D: 1-6"
    replace_layout(db, event=event, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()
    return event


@pytest.fixture
def small(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """A venue shown whole: two sections, parts 0 and 1."""
    event = make_event(is_seated=True)
    tier = make_tier(event=event, name="Standard", price_minor=2500, capacity=0)
    layout = "Section Stalls\nRow A: 1-4\nSection Circle\nRow B: 1-4"
    replace_layout(db, event=event, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()
    return event


def cached_pages(app: Flask) -> set[tuple[int, bool, int | None]]:
    return set(fragments_for(app)._pages)


def urls(event_id: int, query: str) -> list[str]:
    return [
        f"/events/{event_id}/seats?{query}",
        f"/events/{event_id}/availability?seats=1&{query}",
        f"/events/{event_id}/live?seats=1&{query}",
    ]


def test_the_parts_a_venue_has_are_pages(app: Flask, client: FlaskClient, large) -> None:  # noqa: ANN001
    part = client.get(f"/events/{large.id}/seats?section=2").get_data(as_text=True)
    assert part.count('name="seat"') == 6 and "Balcony, Row D seat 1" in part
    fragment = client.get(f"/events/{large.id}/availability?seats=1&section=0")
    assert fragment.status_code == 200 and "Row A seat 1" in fragment.get_data(as_text=True)
    assert {(large.id, True, 2), (large.id, True, 0)} <= cached_pages(app)


@pytest.mark.parametrize("section", WRONG_TYPES + ["3", "4", "99"])
def test_a_made_up_part_is_not_found(app: Flask, client: FlaskClient, large, section: str) -> None:  # noqa: ANN001
    client.get(f"/events/{large.id}/seats")  # the venue's parts are known from here on
    before = cached_pages(app)
    for url in urls(large.id, f"section={section}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "text/event-stream" not in response.content_type
    assert cached_pages(app) == before


def test_made_up_parts_cost_no_rendering_once_the_layout_is_known(
    app: Flask, client: FlaskClient, large, monkeypatch
) -> None:  # noqa: ANN001
    from app.live import hub_for
    from app.web.public import live_fragments

    monkeypatch.setattr(live_fragments, "MAX_AGE_SECONDS", 60.0)  # however slow this machine
    client.get(f"/events/{large.id}/seats?section=1")  # starts following changes (LISTEN)
    assert hub_for(app).listening.wait(5)  # connected: a new epoch, so the next page is read
    client.get(f"/events/{large.id}/seats?section=1")  # ...with the layout, once per change
    # No change from here on: a stray NOTIFY (a coalescer's timer from an earlier test, whose
    # event had the same id) would rightly make the next page read the layout again.
    hub = hub_for(app)
    version = hub.version(large.id)
    monkeypatch.setattr(hub, "version", lambda event_id: version)
    statements: list[str] = []
    engine = fragments_for(app).database.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        for section in range(3, 103):
            assert client.get(f"/events/{large.id}/seats?section={section}").status_code == 404
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    assert statements == []


@pytest.mark.parametrize("seats", ["2", "yes", "true", "", "01", "1,1"])
def test_seats_of_the_wrong_type_is_not_found(
    app: Flask, client: FlaskClient, large, seats: str
) -> None:  # noqa: ANN001
    before = cached_pages(app)
    for path in ("availability", "live"):
        assert client.get(f"/events/{large.id}/{path}?seats={seats}").status_code == 404
    assert cached_pages(app) == before


def test_a_venue_shown_whole_has_one_page_for_its_parts(
    app: Flask, client: FlaskClient, small
) -> None:  # noqa: ANN001
    whole = client.get(f"/events/{small.id}/seats").get_data(as_text=True)
    for section in ("0", "1"):
        page = client.get(f"/events/{small.id}/seats?section={section}")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('name="seat"') == whole.count('name="seat"') == 8
    for url in urls(small.id, "section=2"):
        assert client.get(url).status_code == 404, url
    assert {key for key in cached_pages(app) if key[0] == small.id} == {(small.id, True, None)}


def test_general_admission_has_no_parts(
    app: Flask, client: FlaskClient, db: Session, make_event, make_tier
) -> None:  # noqa: ANN001
    event = make_event()
    make_tier(event=event, capacity=10)
    db.commit()
    assert client.get(f"/events/{event.id}/availability").status_code == 200
    for query in ("section=0", "seats=1&section=0", "section=x"):
        for path in ("availability", "live"):
            response = client.get(f"/events/{event.id}/{path}?{query}")
            assert response.status_code == 404, (path, query)
    assert not [key for key in cached_pages(app) if key[0] == event.id and key[2] is not None]


def test_a_part_removed_by_a_new_layout_is_not_found(
    app: Flask, client: FlaskClient, db: Session, large, now
) -> None:  # noqa: ANN001
    from app.domain.ticketing.models import TicketTier
    from app.live import hub_for

    assert client.get(f"/events/{large.id}/seats?section=2").status_code == 200
    hub = hub_for(app)
    assert hub.listening.wait(5)
    before = hub.version(large.id)
    tier = db.scalars(select(TicketTier).where(TicketTier.event_id == large.id)).one()
    layout = "Section Floor\nRow A: 1-4\nRow B: 1-4\nRow C: 1-4"  # no balcony: parts 0-1
    replace_layout(db, event=large, text=layout, new_seat_tier=tier, actor_id=None, now=now)
    db.commit()
    ends = time.monotonic() + 5
    while hub.version(large.id) == before:  # the change is announced
        assert time.monotonic() < ends
        time.sleep(0.01)

    # Part 2 is still remembered (rendered, and counted in the layout) but no more: 404.
    assert client.get(f"/events/{large.id}/seats?section=2").status_code == 404
    assert (large.id, True, 2) not in cached_pages(app)
    assert client.get(f"/events/{large.id}/seats?section=1").status_code == 200
