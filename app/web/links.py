"""Absolute links (canonical, Open Graph, JSON-LD, calendar files, sitemaps, mail)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link built from BASE_URL, never from the request's Host header (which a client sets)."""
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)
