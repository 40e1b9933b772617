"""The .ics file is RFC 5545 whatever an organizer types: every line break escaped (CR too),
no control characters, long lines folded at 75 octets without splitting a character."""

from __future__ import annotations

import re

import pytest

from app.domain.events.calendar import event_to_ics


def _unfolded(ics: str) -> dict[str, str]:
    """Property name -> value, after unfolding, as a calendar reads them."""
    assert ics.endswith("\r\n")
    lines = ics[: -len("\r\n")].split("\r\n")
    assert all("\r" not in line and "\n" not in line for line in lines)
    logical = re.sub(r"\r\n[ \t]", "", ics).split("\r\n")[:-1]
    return {line.split(":", 1)[0]: line.split(":", 1)[1] for line in logical}


@pytest.mark.parametrize("brk", ["\r", "\n", "\r\n", "\u2028", "\x85"])
def test_every_line_break_is_escaped(make_event, now, brk: str) -> None:  # noqa: ANN001
    event = make_event(
        title=f"Gig{brk}BEGIN:VALARM{brk}TRIGGER:-PT1M",
        venue_name=f"Hall{brk}ATTACH:http://evil.example/x",
    )
    ics = event_to_ics(event, url="https://x.test/events/1", domain="x.test", now=now)
    properties = _unfolded(ics)
    assert properties["SUMMARY"] == "Gig\\nBEGIN:VALARM\\nTRIGGER:-PT1M"
    assert properties["LOCATION"].startswith("Hall\\nATTACH:http://evil.example/x\\, ")
    assert "VALARM" not in properties and "ATTACH" not in properties
    starts = [line for line in ics.split("\r\n") if line.startswith("BEGIN:")]
    assert starts == ["BEGIN:VCALENDAR", "BEGIN:VEVENT"]  # nothing injected


def test_control_characters_are_dropped_and_tabs_kept(make_event, now) -> None:  # noqa: ANN001
    event = make_event(title="A\x01B\x07C\x1bD\x7fE\tF; G, H\\I")
    properties = _unfolded(event_to_ics(event, url="https://x.test/e", domain="x.test", now=now))
    assert properties["SUMMARY"] == "ABCDE\tF\\; G\\, H\\\\I"


def test_long_lines_fold_at_75_octets_between_characters(make_event, now) -> None:  # noqa: ANN001
    title = "Café ☕ naïve 🎷 " * 12
    event = make_event(title=title)
    ics = event_to_ics(event, url="https://x.test/e", domain="x.test", now=now)
    lines = ics.encode()[: -len(b"\r\n")].split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert all(line.decode() for line in lines)  # no character split between two lines
    assert sum(line.startswith(b" ") for line in lines) >= 3
    assert _unfolded(ics)["SUMMARY"] == title.replace(",", "\\,")
