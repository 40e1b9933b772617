"""HTTP caching of the public pages: shared (ETag, 304) for visitors who are not signed in,
never with anyone's CSRF token or messages in it; private and unstored for signed-in ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.ticketing.allocation import hold_tier
from app.web.http_cache import PRIVATE


@pytest.fixture
def hot(db: Session, make_tier: Callable[..., Any]) -> Any:
    tier = make_tier(capacity=5)
    db.commit()
    return tier


def pages(tier: Any) -> list[str]:
    event = tier.event
    return [
        "/",
        "/events",
        "/events?q=" + event.title.split()[0],
        f"/events/{event.id}-{event.slug}",
    ]


def test_visitors_get_a_shared_page_with_an_etag_and_a_304(csrf_app: Flask, hot: Any) -> None:
    client = csrf_app.test_client()
    for url in pages(hot):
        first = client.get(url)
        assert first.status_code == 200, url
        assert first.headers["Cache-Control"].startswith("public, "), url
        assert {"Cookie", "HX-Request"} <= set(first.vary)
        etag = first.headers["ETag"]
        assert "Set-Cookie" not in first.headers, url
        html = first.get_data(as_text=True)
        assert 'name="csrf_token"' not in html and 'name="csrf-token"' not in html, url
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_event_page_is_always_asked_again_listings_may_be_reused_briefly(
    client: FlaskClient, hot: Any
) -> None:
    event_page = client.get(f"/events/{hot.event_id}-{hot.event.slug}")
    assert event_page.headers["Cache-Control"] == "public, no-cache"
    listing = client.get("/events")
    assert listing.headers["Cache-Control"] == "public, max-age=30, must-revalidate"
    fragment = client.get("/events", headers={"HX-Request": "true"})
    assert fragment.headers["ETag"] != listing.headers["ETag"]


def test_the_event_pages_etag_changes_with_the_tickets_left(
    client: FlaskClient, db: Session, hot: Any, make_user: Callable[..., User], now: Any
) -> None:
    url = f"/events/{hot.event_id}-{hot.event.slug}"
    before = client.get(url)
    assert "5 left" in before.get_data(as_text=True)
    hold_tier(
        db,
        user=make_user(),
        event_id=hot.event_id,
        tier_id=hot.id,
        quantity=2,
        now=now,
        hold_minutes=10,
    )
    db.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "3 left" in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_visitors_are_sent_to_log_in_instead_of_a_form(client: FlaskClient, hot: Any) -> None:
    html = client.get(f"/events/{hot.event_id}-{hot.event.slug}").get_data(as_text=True)
    assert "Log in to book tickets" in html
    assert f'action="/events/{hot.event_id}/book"' not in html
    assert f"/login?next=/events/{hot.event_id}/tickets" in html.replace("%2F", "/")


def test_signed_in_visitors_get_private_unstored_pages(
    csrf_app: Flask, hot: Any, make_user: Callable[..., User], login_as: Callable[..., None]
) -> None:
    client = csrf_app.test_client()
    login_as(client, make_user(name="Petra Private"))
    for url in pages(hot):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == PRIVATE, url
        assert "ETag" not in response.headers and "Cookie" in response.vary
        assert "Petra Private" in response.get_data(as_text=True)
    page = client.get(f"/events/{hot.event_id}-{hot.event.slug}").get_data(as_text=True)
    assert 'name="csrf-token"' in page and f'action="/events/{hot.event_id}/book"' in page


def test_a_page_showing_a_visitors_message_is_not_shared(client: FlaskClient, hot: Any) -> None:
    # An anonymous booking attempt leaves "Please log in" in the session for the next page.
    client.post(f"/events/{hot.event_id}/book", data={"tier_id": hot.id, "quantity": 1})
    response = client.get("/")
    assert "Please log in to book tickets." in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == PRIVATE and "ETag" not in response.headers
    assert client.get("/").headers["Cache-Control"].startswith("public, ")


def test_a_missing_event_is_not_cached_as_a_page(client: FlaskClient, hot: Any) -> None:
    response = client.get(f"/events/{hot.event_id + 1000}")
    assert response.status_code == 404
    assert "public" not in response.headers["Cache-Control"]
