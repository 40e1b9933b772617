"""The public read API over HTTP: the event search with the page's filters and cursor pages,
an event, its tiers with live availability, its seat map, ETags, and the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.events.models import EventStatus, EventType
from app.domain.ticketing.allocation import hold_units

PROBLEM = "application/problem+json"


def _problem(response, status: int, code: str) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


def _all_pages(client: FlaskClient, query: str, limit: int) -> list[list[int]]:
    pages, cursor = [], None
    for _ in range(50):
        url = f"/api/v1/events?{query}&limit={limit}"
        if cursor:
            url += f"&cursor={cursor}"
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the pages never ended")


def test_search_uses_the_page_filters(client: FlaskClient, db: Session, make_event) -> None:  # noqa: ANN001
    online = make_event(title="Rust meetup", event_type=EventType.ONLINE, city="Paris")
    make_event(title="Jazz night", city="Berlin")
    make_event(title="Rust draft", status=EventStatus.DRAFT)
    hidden = make_event(title="Rust hidden")
    hidden.hidden_at = utcnow()
    db.commit()

    body = client.get("/api/v1/events?q=rust").get_json()
    assert [item["id"] for item in body["items"]] == [online.id]
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert item["title"] == "Rust meetup" and item["event_type"] == "online"
    assert item["url"].endswith(f"/events/{online.id}-{online.slug}")

    assert [i["id"] for i in client.get("/api/v1/events?type=online").get_json()["items"]] == [
        online.id
    ]
    assert [i["id"] for i in client.get("/api/v1/events?city=paris").get_json()["items"]] == [
        online.id
    ]


def test_category_tag_and_price_filters(
    client: FlaskClient,
    db: Session,
    make_event,
    make_category,  # noqa: ANN001
) -> None:
    music = make_category(name="Music", slug="music")
    jazz = make_event(category_id=music.id, tags=["jazz", "live"], min_price_minor=1500)
    make_event(category_id=music.id, tags=["rock"], min_price_minor=0)
    make_event(tags=["jazz"], min_price_minor=0)
    db.commit()

    def ids(query: str) -> list[int]:
        return [item["id"] for item in client.get(f"/api/v1/events?{query}").get_json()["items"]]

    assert ids("category=music&tag=jazz") == [jazz.id]
    assert ids("category=music&price=paid") == [jazz.id]
    assert ids("tag=jazz&tag=live") == [jazz.id]
    item = client.get("/api/v1/events?tag=live").get_json()["items"][0]
    assert item["category"] == "music" and item["min_price_minor"] == 1500


def test_bad_filters_are_problems_not_ignored(client: FlaskClient) -> None:
    assert (
        "sort order"
        in _problem(client.get("/api/v1/events?sort=cheapest"), 400, "bad_search")["detail"]
    )
    _problem(client.get("/api/v1/events?from=yesterday"), 400, "bad_search")
    _problem(client.get("/api/v1/events?category=no-such"), 400, "bad_search")
    _problem(client.get("/api/v1/events?limit=0"), 400, "bad_query")
    _problem(client.get("/api/v1/events?limit=many"), 400, "bad_query")


@pytest.mark.parametrize("sort", ["soonest", "newest", "popular", "price", "relevance"])
def test_cursor_pages_have_no_duplicates_and_no_holes(
    client: FlaskClient,
    db: Session,
    make_event,
    now,
    sort: str,  # noqa: ANN001
) -> None:
    start = now + timedelta(days=20)
    events = [
        # Ties on every sort key but the id, to show the id breaks them.
        make_event(
            title=f"Concert {n}",
            starts_at=start + timedelta(hours=n // 3),
            ends_at=start + timedelta(hours=n // 3 + 2),
            published_at=now - timedelta(minutes=n // 2),
            sold_count=n % 2,
            min_price_minor=None if n % 4 == 0 else 500,
        )
        for n in range(11)
    ]
    db.commit()
    query = f"sort={sort}&q=concert"
    pages = _all_pages(client, query, limit=3)
    seen = [event_id for page in pages for event_id in page]
    assert len(pages) == 4 and all(len(page) == 3 for page in pages[:3])
    assert sorted(seen) == sorted(event.id for event in events)
    whole = client.get(f"/api/v1/events?{query}&limit=100").get_json()["items"]
    assert [item["id"] for item in whole] == seen


def test_a_bad_or_foreign_cursor_is_a_400(client: FlaskClient, db: Session, make_event) -> None:  # noqa: ANN001
    for _ in range(3):
        make_event()
    db.commit()
    cursor = client.get("/api/v1/events?limit=1").get_json()["next_cursor"]
    assert cursor
    _problem(client.get("/api/v1/events?limit=1&cursor=nonsense"), 400, "bad_cursor")
    _problem(client.get(f"/api/v1/events?limit=1&cursor={cursor}x"), 400, "bad_cursor")
    body = _problem(
        client.get(f"/api/v1/events?limit=1&sort=newest&cursor={cursor}"), 400, "bad_cursor"
    )
    assert "another search" in body["detail"]


def test_event_detail_and_what_is_not_found(client: FlaskClient, db: Session, make_event) -> None:  # noqa: ANN001
    event = make_event(title="Open air", description="**Bring** a chair")
    draft = make_event(status=EventStatus.DRAFT)
    hidden = make_event()
    hidden.hidden_at = utcnow()
    db.commit()

    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert body["id"] == event.id and body["description"] == "**Bring** a chair"
    assert body["organizer"] == event.organizer.name
    assert "online_url" not in body
    for missing in (draft.id, hidden.id, 10**12, 0):
        _problem(client.get(f"/api/v1/events/{missing}"), 404, "not_found")
        _problem(client.get(f"/api/v1/events/{missing}/tiers"), 404, "not_found")
        _problem(client.get(f"/api/v1/events/{missing}/seatmap"), 404, "not_found")


def test_tiers_show_live_availability_without_hidden_tiers(
    client: FlaskClient,
    db: Session,
    make_tier,
    make_seated_booking,  # noqa: ANN001
) -> None:
    tier = make_tier(capacity=5, price_minor=1200)
    make_tier(event=tier.event, capacity=5, hidden=True, access_code="SECRET")
    db.commit()
    body = client.get(f"/api/v1/events/{tier.event_id}/tiers").get_json()
    assert body["has_hidden"] is True and body["on_sale"] is True
    assert [(t["id"], t["remaining"], t["price_minor"]) for t in body["tiers"]] == [
        (tier.id, 5, 1200)
    ]
    booking = make_seated_booking(quantity=2)
    db.commit()
    tiers = client.get(f"/api/v1/events/{booking.event_id}/tiers").get_json()["tiers"]
    assert [t["remaining"] for t in tiers] == [14]


def test_seat_map_shows_seats_as_the_picker_does(
    client: FlaskClient,
    db: Session,
    make_seated_booking,
    make_event,  # noqa: ANN001
) -> None:
    booking = make_seated_booking(quantity=2)
    plain = make_event()
    db.commit()
    body = client.get(f"/api/v1/events/{booking.event_id}/seatmap").get_json()
    rows = body["sections"][0]["rows"]
    assert [row["label"] for row in rows] == ["A", "B"]
    states = [seat["state"] for seat in rows[1]["seats"]]
    assert states[:2] == ["sold", "sold"] and set(states[2:]) == {"free"}
    assert body["zones"][0]["name"] == "Stalls"
    _problem(client.get(f"/api/v1/events/{plain.id}/seatmap"), 404, "not_found")
    _problem(client.get(f"/api/v1/events/{booking.event_id}/seatmap?section=x"), 400, "bad_query")


def test_etag_revalidation_and_no_stale_availability(
    client: FlaskClient,
    db: Session,
    make_tier,
    make_user,
    now,  # noqa: ANN001
) -> None:
    tier = make_tier(capacity=3)
    db.commit()
    url = f"/api/v1/events/{tier.event_id}/tiers"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    db.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["tiers"][0]["remaining"] == 2


def test_openapi_document_is_valid_and_lists_the_routes(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/{event_id}/tiers",
        "/api/v1/events/{event_id}/seatmap",
    ):
        assert "200" in paths[path]["get"]["responses"]
    names = {p["name"] for p in paths["/api/v1/events"]["get"]["parameters"]}
    assert {"q", "category", "type", "when", "from", "to", "tag", "price", "city", "sort"} <= names
    assert {"cursor", "limit"} <= names
    # The sign-in routes are described from the code too.
    assert "requestBody" in paths["/api/v1/auth/token"]["post"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearer": []}]


def test_docs_page_is_a_static_file(client: FlaskClient) -> None:
    response = client.get("/static/api/docs.html")
    assert response.status_code == 200
    assert b"/api/v1/openapi.json" in response.get_data() or b"docs.js" in response.get_data()


def test_far_dates_are_refused_not_errors(client: FlaskClient) -> None:
    for query in ("to=9999-12-31", "from=0001-01-01", "from=9999-12-31", "to=0001-01-01"):
        response = client.get(f"/api/v1/events?{query}")
        assert "between years" in _problem(response, 400, "bad_search")["detail"]
