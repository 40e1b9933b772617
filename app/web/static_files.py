"""Static files under names that carry their content's hash, so browsers and CDNs keep them
for a year: `url_for('static', filename='css/site.css')` gives `/static/css/site.<hash>.css`.

The hash of a file is computed once per process (again when the file changes, in debug mode).
A request for the current hashed name is answered `immutable`; a plain name (what CSS, scripts
and the API docs page link to by themselves, and the service workers, whose URL must stay put)
and an old hash from before a deploy get the file as it is now with Flask's revalidating
headers, never the year-long ones.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app

IMMUTABLE = "public, max-age=31536000, immutable"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")
_lock = threading.Lock()
_digests: dict[tuple[str, str, int], str | None] = {}


def hashed_name(app: Flask, filename: str) -> str:
    """`filename` with its content's hash before the extension (unchanged if there is none)."""
    path = Path(app.static_folder or "static") / filename
    suffix = path.suffix
    if not suffix or filename.startswith("/"):
        return filename
    digest = _digest(app, path)
    if digest is None:
        return filename
    return f"{filename[: -len(suffix)]}.{digest}{suffix}"


def _digest(app: Flask, path: Path) -> str | None:
    # In debug mode a stylesheet edited by hand must show on reload: key by modification time.
    stamp = path.stat().st_mtime_ns if app.debug and path.is_file() else 0
    key = (app.import_name, str(path), stamp)
    with _lock:
        if key in _digests:
            return _digests[key]
    try:
        digest: str | None = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        digest = None
    with _lock:
        _digests[key] = digest
    return digest


def _hash_static_links(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and values.get("filename"):
        values["filename"] = hashed_name(current_app, values["filename"])


def serve_static(filename: str) -> Response:
    """The static view: a hashed name is served from its plain file."""
    app = current_app
    match = _HASHED.match(filename)
    folder = Path(app.static_folder or "static")
    if match is None or (folder / filename).is_file():
        return app.send_static_file(filename)
    plain = match["stem"] + match["ext"]
    response = app.send_static_file(plain)
    if hashed_name(app, plain) == filename:
        response.cache_control.no_cache = None
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def register(app: Flask) -> None:
    app.url_defaults(_hash_static_links)
    app.view_functions["static"] = serve_static
