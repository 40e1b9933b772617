"""Static files: pages link them under hashed names, kept for a year; plain names revalidate."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask.testing import FlaskClient

from app.web.static_files import IMMUTABLE, hashed_name

STATIC = Path(__file__).resolve().parents[2] / "static"
LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_every_static_link_of_a_page_is_hashed_and_kept_for_a_year(client: FlaskClient) -> None:
    links = LINK.findall(client.get("/events").get_data(as_text=True))
    assert any("/static/css/site." in link for link in links)
    assert any("/static/vendor/htmx-2.0.11.min." in link for link in links)
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", link), link
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["Cache-Control"] == IMMUTABLE
        plain = re.sub(r"\.[0-9a-f]{12}(\.[a-z]+)$", r"\1", link.removeprefix("/static/"))
        assert response.data == (STATIC / plain).read_bytes()
        response.close()


def test_the_hash_is_the_files_content(client: FlaskClient) -> None:
    name = hashed_name(client.application, "css/site.css")
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", name)
    assert hashed_name(client.application, "css/site.css") == name  # computed once, stable
    digest = hashlib.sha256((STATIC / "css/site.css").read_bytes()).hexdigest()[:12]
    assert name == f"css/site.{digest}.css"


def test_plain_names_and_old_hashes_revalidate_instead(client: FlaskClient) -> None:
    # What CSS, scripts and the API docs page name by themselves, and the service workers.
    for url in (
        "/static/css/site.css",
        "/static/api/docs.html",
        "/static/css/site.0123456789ab.css",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "immutable" not in response.headers["Cache-Control"]
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["ETag"]
        response.close()
    assert client.get("/static/css/missing.0123456789ab.css").status_code == 404
    assert client.get("/static/css/missing.css").status_code == 404


def test_the_service_workers_keep_their_names(client: FlaskClient) -> None:
    for url in ("/checkin/sw.js", "/account/bookings/tickets-sw.js"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        response.close()
