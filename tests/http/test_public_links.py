"""Absolute links come from BASE_URL, never from the request's Host header: a forged Host must
not end up in a canonical link, a link preview, structured data or a calendar file."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
def base_url(app: Flask):  # noqa: ANN201
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = "https://tickets.example.org/"
    yield "https://tickets.example.org"
    app.config["BASE_URL"] = previous


def test_the_event_page_links_to_base_url(client, db, make_event, base_url) -> None:  # noqa: ANN001
    event = make_event(title="Jazz", cover_image="cover/abc.jpg")
    db.commit()
    html = client.get(f"/events/{event.id}-{event.slug}", headers=FORGED).get_data(as_text=True)

    page = f"{base_url}/events/{event.id}-{event.slug}"
    assert f'<link rel="canonical" href="{page}">' in html
    assert f'<meta property="og:url" content="{page}">' in html
    assert f'<meta property="og:image" content="{base_url}/media/cover/abc.jpg">' in html
    data = json.loads(re.search(r'ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["url"] == page and data["image"] == [f"{base_url}/media/cover/abc.jpg"]
    assert "evil.example" not in html


def test_the_calendar_file_names_base_url(client, db, make_event, base_url) -> None:  # noqa: ANN001
    event = make_event()
    db.commit()
    ics = client.get(f"/events/{event.id}.ics", headers=FORGED).get_data(as_text=True)
    unfolded = ics.replace("\r\n ", "")
    assert f"UID:event-{event.id}@tickets.example.org\r\n" in unfolded
    assert f"URL:{base_url}/events/{event.id}-{event.slug}\r\n" in unfolded
    assert "PRODID:-//tickets.example.org//" in unfolded
    assert "evil.example" not in ics


def test_the_listing_canonical_link_names_base_url(client, base_url) -> None:  # noqa: ANN001
    html = client.get("/events?q=jazz", headers=FORGED).get_data(as_text=True)
    assert f'<link rel="canonical" href="{base_url}/events?q=jazz' in html
    assert "evil.example" not in html
