"""The check-in page as an installable web app: its manifest and its service worker, which
keeps the door page and its files on the phone so that scanning goes on without a network.

Both are public: the manifest is fetched without cookies (browsers send none for it), and
neither says more than the static files they name. The door page itself stays sign-in only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("checkin_pwa", __name__)

SCOPE = "/checkin/"
# What the door page needs to open and scan with no network (under static/).
OFFLINE_FILES = (
    "css/site.css",
    "css/checkin.css",
    "css/scanner.css",
    "js/site.js",
    "js/checkin.js",
    "js/checkin-offline.js",
    "vendor/htmx-2.0.11.min.js",
    "vendor/htmx-ext-sse-2.2.4.min.js",
    "vendor/jsqr-1.4.0.min.js",
    "img/favicon.svg",
    "img/checkin-192.png",
)


@bp.get("/checkin/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """The web app manifest of the check-in pages."""
    name = current_app.config["SITE_NAME"]
    body = jsonify(
        name=f"{name} check-in",
        short_name="Check-in",
        # No start_url: the app opens the door page it was installed from, one app per door.
        scope=SCOPE,
        display="standalone",
        orientation="portrait",
        background_color="#ffffff",
        theme_color="#1f5fbf",
        icons=[
            _icon(192, "any"),
            _icon(512, "any"),
            _icon(512, "maskable"),
        ],
    )
    body.mimetype = "application/manifest+json"
    return body


def _icon(size: int, purpose: str) -> dict[str, str]:
    return {
        "src": url_for("static", filename=f"img/checkin-{size}.png"),
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }


# The QR decoder's worker script (under static/, served from /checkin/decoder.js).
DECODER = "js/checkin-decoder.js"


@bp.get("/checkin/decoder.js")
def decoder() -> ResponseReturnValue:
    """The camera's QR decoder worker. A worker is controlled by the service worker whose
    scope holds the worker's own URL, so it is served here rather than under /static/: then
    the decoder library it imports comes from the service worker's cache when offline."""
    return current_app.send_static_file(DECODER)


@bp.get("/checkin/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker of the check-in pages (its scope is its folder, /checkin/)."""
    static = Path(current_app.static_folder or "static")
    # The cache is named after the files' contents: a changed file changes this script, and the
    # browser then installs the new worker, which fills a new cache and drops the old one.
    digest = hashlib.sha256()
    for name in (*OFFLINE_FILES, DECODER):
        digest.update((static / name).read_bytes())
    files = [url_for("static", filename=name) for name in OFFLINE_FILES]
    body = render_template(
        "checkin/sw.js",
        cache_name=f"checkin-{digest.hexdigest()[:16]}",
        files=[*files, url_for("checkin_pwa.decoder")],
        scope=SCOPE,
        static_prefix=url_for("static", filename=""),
    )
    # Asked again on every visit (browsers check for a new worker then); never kept stale.
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})
