"""Template globals and filters shared by every page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app.domain.money import format_money
from app.web.htmx import wants_fragment
from app.web.links import absolute_url


def format_local(moment: datetime | None, tz: str = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """A UTC timestamp shown in the given IANA time zone."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def register(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["wants_fragment"] = wants_fragment
