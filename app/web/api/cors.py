"""CORS for /api/ only, and only for the origins named in `API_CORS_ORIGINS` (flask-cors does
the matching and the headers). Bearer tokens only: no credentials are allowed, so a page of an
allowed origin still cannot ride on a signed-in browser's cookies. Pages never get CORS headers.

Each origin must be exactly `scheme://host[:port]`: flask-cors takes a string with regex
characters for a pattern, so a wildcard or a pattern here refuses to start rather than open
the API wider than written.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from app.web.api.problems import PREFIX

_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?\Z")
METHODS = ["GET", "POST", "OPTIONS"]
ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"]
EXPOSE_HEADERS = ["ETag", "Idempotent-Replayed", "Location", "Retry-After", "WWW-Authenticate"]
MAX_AGE_SECONDS = 600


def allowed_origins(setting: str | list[str]) -> list[str]:
    """The origins of the comma-separated setting; a malformed one stops the app starting."""
    items = setting.split(",") if isinstance(setting, str) else setting
    origins = []
    for item in (i.strip().lower().rstrip("/") for i in items):
        if not item:
            continue
        if not _ORIGIN.match(item):
            raise RuntimeError(
                f"API_CORS_ORIGINS: {item!r} is not an origin like https://app.example.com"
            )
        origins.append(item)
    return origins


def init_cors(app: Flask) -> None:
    origins = allowed_origins(app.config.get("API_CORS_ORIGINS") or "")
    if not origins:
        return
    CORS(
        app,
        resources={rf"^{re.escape(PREFIX)}": {}},
        origins=origins,
        methods=METHODS,
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        max_age=MAX_AGE_SECONDS,
        supports_credentials=False,
        vary_header=False,  # flask-cors varies only with two origins or more: always, below
        intercept_exceptions=False,  # error answers pass through after_request as it is
    )
    app.after_request(_vary_on_origin)


def _vary_on_origin(response: Response) -> Response:
    """An API answer differs by Origin (allowed or not), so caches keep them apart."""
    if request.path.startswith(PREFIX):
        response.vary.add("Origin")
    return response
