"""Template globals and filters shared by every page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app.web.links import absolute_url

CURRENCY_EXPONENT = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


def format_money(amount_minor: int | None, currency: str = "USD") -> str:
    """Integer minor units to a display string: 1250, 'USD' -> 'USD 12.50'."""
    if amount_minor is None:
        return ""
    if amount_minor == 0:
        return "Free"
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    value = amount_minor / (10**exponent) if exponent else amount_minor
    return f"{currency} {value:,.{exponent}f}"


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
