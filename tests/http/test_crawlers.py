"""robots.txt, sitemap.xml and the favicon: links from BASE_URL, only what is public."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask

from app.domain.base import utcnow
from app.domain.events.models import EventStatus
from app.web.static_files import hashed_name

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def production_urls(app: Flask):  # noqa: ANN201
    previous = app.config["APP_ENV"], app.config["BASE_URL"]
    app.config.update(APP_ENV="production", BASE_URL="https://tickets.example.org")
    yield "https://tickets.example.org"
    app.config.update(APP_ENV=previous[0], BASE_URL=previous[1])


def test_robots_keeps_crawlers_to_public_pages(client, production_urls) -> None:  # noqa: ANN001
    response = client.get("/robots.txt", headers=FORGED)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for private in ("/account/", "/admin/", "/organizer/", "/dev/", "/events/*/live"):
        assert f"Disallow: {private}" in lines
    assert "Disallow: /" not in lines
    assert f"Sitemap: {production_urls}/sitemap.xml" in lines
    assert "evil.example" not in response.get_data(as_text=True)


def test_robots_keeps_crawlers_out_of_other_environments(client) -> None:  # noqa: ANN001
    assert client.get("/robots.txt").get_data(as_text=True) == "User-agent: *\nDisallow: /\n"


def test_the_sitemap_lists_published_events_not_over_yet(
    client, db, make_event, production_urls
) -> None:  # noqa: ANN001
    now = utcnow()
    soon = make_event(starts_at=now + timedelta(days=3), slug="soon-and-loud")
    on_now = make_event(starts_at=now - timedelta(hours=1), slug="on-now")
    later = make_event(starts_at=now + timedelta(days=40), slug="later")
    hidden = [
        make_event(starts_at=now - timedelta(days=2)),  # over
        make_event(starts_at=now + timedelta(days=1), status=EventStatus.DRAFT),
        make_event(starts_at=now + timedelta(days=1), status=EventStatus.SUBMITTED),
        make_event(starts_at=now + timedelta(days=1), status=EventStatus.CANCELLED),
    ]
    db.commit()

    response = client.get("/sitemap.xml", headers=FORGED)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "evil.example" not in response.get_data(as_text=True)
    root = ET.fromstring(response.data)  # noqa: S314 - our own sitemap
    assert root.tag == f"{SITEMAP_NS}urlset"
    locs = [url.findtext(f"{SITEMAP_NS}loc") for url in root]
    assert locs == [
        f"{production_urls}/",
        f"{production_urls}/events",
        f"{production_urls}/events/{on_now.id}-on-now",
        f"{production_urls}/events/{soon.id}-soon-and-loud",
        f"{production_urls}/events/{later.id}-later",
    ]
    assert not any(f"/events/{event.id}-" in "".join(locs) for event in hidden)
    lastmod = root[2].findtext(f"{SITEMAP_NS}lastmod")
    assert lastmod == on_now.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_page_names_the_favicon(client) -> None:  # noqa: ANN001
    page = client.get("/").get_data(as_text=True)
    favicon = "/static/" + hashed_name(client.application, "img/favicon.svg")
    assert f'<link rel="icon" href="{favicon}" type="image/svg+xml">' in page
    icon = client.get(favicon)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert ET.fromstring(icon.data).tag == "{http://www.w3.org/2000/svg}svg"  # noqa: S314
    icon.close()
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy.headers["Location"] == favicon
