"""The check-in web app's manifest and service worker: their types, scope and cached files."""

from __future__ import annotations

import re
from pathlib import Path

from app.web import CONTENT_SECURITY_POLICY
from app.web.checkin_pwa import DECODER, OFFLINE_FILES
from app.web.static_files import hashed_name

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_the_manifest_makes_the_checkin_pages_an_app(client) -> None:  # noqa: ANN001
    response = client.get("/checkin/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["scope"] == "/checkin/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).mimetype == "image/png"


def test_the_service_worker_caches_the_door_pages_files_under_its_scope(client) -> None:  # noqa: ANN001
    response = client.get("/checkin/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    # Its scope is its own folder, so it needs no Service-Worker-Allowed header.
    assert "Service-Worker-Allowed" not in response.headers
    body = response.get_data(as_text=True)
    for name in OFFLINE_FILES:
        assert f'"/static/{hashed_name(client.application, name)}"' in body
        assert (STATIC / name).is_file()
    assert '"/checkin/decoder.js"' in body


def test_the_decoder_worker_is_served_within_the_service_workers_scope(client) -> None:  # noqa: ANN001
    response = client.get("/checkin/decoder.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.get_data() == (STATIC / DECODER).read_bytes()


def test_a_changed_file_renames_the_cache(client, app, tmp_path) -> None:  # noqa: ANN001
    def cache_name() -> str:
        return re.search(
            r'var CACHE = "([^"]+)"', client.get("/checkin/sw.js").get_data(as_text=True)
        )[1]

    before = cache_name()
    static_folder = app.static_folder
    for name in (*OFFLINE_FILES, DECODER):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((STATIC / name).read_bytes())
    (tmp_path / "js/checkin.js").write_text("// changed\n")
    app.static_folder = str(tmp_path)
    try:
        assert cache_name() != before
    finally:
        app.static_folder = static_folder


def test_the_policy_lets_the_site_run_workers_and_read_the_manifest_from_itself() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    # The fallbacks of the CSP specification when a directive is not named.
    worker = directives.get("worker-src") or directives.get("child-src") or directives["script-src"]
    manifest = directives.get("manifest-src") or directives["default-src"]
    assert "'self'" in worker.split() and "'self'" in manifest.split()
    assert "blob:" not in worker.split()  # the decoder's worker is a file of the site's own
