"""An event as an iCalendar (RFC 5545) file for "add to calendar"."""

from __future__ import annotations

import re
from datetime import datetime

from app.domain.events.markdown import plain_text
from app.domain.events.models import Event, EventStatus, EventType

# A bare CR ends a line for many readers as surely as LF does, and some split on the Unicode
# separators too: every kind of line break becomes the escaped "\n".
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# TEXT allows no other control characters (RFC 5545 3.3.11); tabs are fine.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _escape(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROL.sub("", _LINE_BREAK.sub(r"\\n", value))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event_to_ics(
    event: Event,
    *,
    url: str,
    domain: str,
    now: datetime,
    uid: str | None = None,
    location: str | None = None,
    note: str = "",
) -> str:
    """A one-event calendar; times in UTC, which every calendar converts for its user.

    A booking's own entry (app/domain/tickets/calendar.py) gives its `uid`, the `location`
    only ticket holders see (an online event's join link) and a `note` put before the
    description."""
    if location is None:
        location = (
            ", ".join(p for p in (event.venue_name, event.address, event.city) if p)
            if event.event_type != EventType.ONLINE
            else "Online"
        )
    description = " ".join(p for p in (note, plain_text(event.description, limit=1000), url) if p)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{domain}//events//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid or f'event-{event.id}'}@{domain}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(event.starts_at)}",
        f"DTEND:{_stamp(event.ends_at)}",
        f"SUMMARY:{_escape(event.title)}",
        f"DESCRIPTION:{_escape(description)}",
        f"LOCATION:{_escape(location)}",
        f"URL:{url}",
        "STATUS:" + ("CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED"),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
