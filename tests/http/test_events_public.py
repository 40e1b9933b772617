"""Public event pages over HTTP: search (full page and htmx fragment), event page, .ics, media."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from app.domain.accounts.models import Role
from app.domain.events.models import EventStatus, EventType, Speaker
from app.domain.ticketing.models import Booking, BookingStatus

XSS = '<script>alert("x")</script>'


@pytest.fixture
def upcoming(now):  # noqa: ANN001, ANN201
    from app.domain.base import utcnow

    return utcnow() + timedelta(days=5)


def test_search_page_and_htmx_fragment_show_the_same_results(
    client, db, make_event, upcoming
) -> None:  # noqa: ANN001, E501
    make_event(title="Jazz night", starts_at=upcoming)
    make_event(title="Chess club", starts_at=upcoming)
    db.commit()
    page = client.get("/events?q=jaz")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "Jazz night" in html and "Chess club" not in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert 'hx-push-url="true"' in html
    fragment = client.get("/events?q=jaz", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "Jazz night" in body and "1 event" in body
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]
    # Back to a pushed search after htmx's history cache missed: the whole page.
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/events?q=jaz", headers=restore).get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "q=%27%3B+DROP+TABLE+events%3B+--",
        "q=" + "a" * 5000,
        "q=%00%01",
        "sort=1;drop&type=x&from=nope&page=-4&when=%3Cb%3E",
        "tag=%3Cscript%3E&city=%27+OR+1%3D1",
    ],
)
def test_hostile_search_input_answers_normally(client, db, make_event, upcoming, query) -> None:  # noqa: ANN001
    make_event(title="Jazz night", starts_at=upcoming)
    db.commit()
    response = client.get(f"/events?{query}")
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("</head>")[1]


def test_long_search_is_shortened_with_a_message(client) -> None:  # noqa: ANN001
    html = client.get("/events?q=" + "jazz " * 100).get_data(as_text=True)
    assert "shortened to its first 200 characters" in html


def test_event_page_renders_text_as_text(client, db, make_event, upcoming) -> None:  # noqa: ANN001
    event = make_event(
        title=f"Title {XSS}",
        description=f"**Bold** {XSS} [link](https://example.com)",
        venue_name=XSS,
        city=XSS,
        tags=["safe"],
        starts_at=upcoming,
    )
    event.speakers.append(Speaker(name=XSS, bio=XSS))
    db.commit()
    response = client.get(f"/events/{event.id}-{event.slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert XSS not in html
    assert "&lt;script&gt;" in html
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.com" rel="nofollow noopener"' in html
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(ld)
    assert data["@type"] == "Event" and data["name"] == f"Title {XSS}"
    assert '<meta property="og:title" content="Title &lt;script&gt;' in html
    assert 'id="tickets"' in html  # the ticket panel is included


def test_event_url_without_or_with_a_wrong_slug_redirects(client, db, make_event) -> None:  # noqa: ANN001
    event = make_event(title="Jazz night")
    db.commit()
    for path in (f"/events/{event.id}", f"/events/{event.id}-old-title"):
        response = client.get(path)
        assert response.status_code == 301
        assert response.headers["Location"].endswith(f"/events/{event.id}-{event.slug}")


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.SUBMITTED, EventStatus.REJECTED])
def test_unpublished_events_are_not_found_for_strangers(
    client, db, make_event, make_user, login_as, status
) -> None:  # noqa: ANN001
    event = make_event(status=status)
    db.commit()
    assert client.get(f"/events/{event.id}-{event.slug}").status_code == 404
    assert client.get(f"/events/{event.id}.ics").status_code == 404
    login_as(client, make_user(role=Role.ORGANIZER))
    assert client.get(f"/events/{event.id}-{event.slug}").status_code == 404
    login_as(client, event.organizer)
    page = client.get(f"/events/{event.id}-{event.slug}")
    assert page.status_code == 200 and "Preview" in page.get_data(as_text=True)
    login_as(client, make_user(role=Role.ADMIN))
    assert client.get(f"/events/{event.id}-{event.slug}").status_code == 200


def test_join_link_only_for_confirmed_ticket_holders(
    client, db, make_event, make_user, login_as
) -> None:  # noqa: ANN001, E501
    event = make_event(
        event_type=EventType.ONLINE, online_url="https://meet.example/secret-room", city=None
    )
    holder, pending, stranger = make_user(), make_user(), make_user()
    for user, status in ((holder, BookingStatus.CONFIRMED), (pending, BookingStatus.PENDING)):
        db.add(
            Booking(
                reference=f"B{user.id:07d}",
                user_id=user.id,
                event_id=event.id,
                status=status,
                quantity=1,
            )
        )
    db.commit()
    url = f"/events/{event.id}-{event.slug}"
    assert "secret-room" not in client.get(url).get_data(as_text=True)
    for user in (pending, stranger):
        login_as(client, user)
        assert "secret-room" not in client.get(url).get_data(as_text=True)
    login_as(client, holder)
    assert "secret-room" in client.get(url).get_data(as_text=True)


def test_ics_download(client, db, make_event) -> None:  # noqa: ANN001
    event = make_event(title="Jazz, night")
    db.commit()
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert "SUMMARY:Jazz\\, night" in body and "BEGIN:VEVENT" in body


def test_media_route_serves_only_stored_keys(client, app) -> None:  # noqa: ANN001
    from app.integrations.storage import COVER, LocalStorage, store_image
    from tests.domain.test_events_storage import image_bytes

    key = store_image(LocalStorage(app.config["MEDIA_DIR"]), image_bytes(size=(50, 50)), COVER)
    response = client.get(f"/media/{key}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    for bad in ("../secret_key", "covers/../../secret_key", "covers/" + "0" * 40 + ".jpg"):
        assert client.get(f"/media/{bad}").status_code == 404


def test_home_shows_soon_and_popular_or_for_you(
    client, db, make_event, make_category, make_user, login_as, upcoming
) -> None:  # noqa: ANN001, E501
    music = make_category(name="Music")
    make_event(title="Popular gig", sold_count=99, starts_at=upcoming)
    make_event(title="Quiet music", category_id=music.id, starts_at=upcoming)
    db.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Soon and popular" in html
    assert html.index("Popular gig") < html.index("Quiet music")
    fan = make_user()
    fan.preferences = {"categories": [music.id]}
    db.commit()
    login_as(client, fan)
    html = client.get("/").get_data(as_text=True)
    assert "For you" in html and html.index("Quiet music") < html.index("Popular gig")
