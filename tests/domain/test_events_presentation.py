"""Markdown sanitizing, the .ics file, JSON-LD and Open Graph data, and "for you" ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.accounts.models import Role
from app.domain.events.calendar import event_to_ics
from app.domain.events.markdown import plain_text, render_markdown
from app.domain.events.models import EventStatus, EventType
from app.domain.events.recommendations import Preferences, for_you
from app.domain.events.structured_data import event_json_ld, open_graph


def test_markdown_keeps_a_safe_subset_and_marks_links() -> None:
    html = render_markdown(
        "# Title\n\n**bold** [site](https://example.com) [bad](javascript:alert(1))\n\n"
        '<script>alert("x")</script><img src=x onerror=alert(1)><iframe src="//evil"></iframe>'
    )
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="nofollow noopener">site</a>' in html
    assert "javascript:" not in html
    for forbidden in ("<script", "<img", "onerror", "<iframe"):
        assert forbidden not in html
    assert plain_text("**Hello** _there_\n\n- one", limit=12) == "Hello there…"


def test_ics_file(make_event, now) -> None:  # noqa: ANN001
    event = make_event(
        title="Jazz; night, live",
        description="Line one\n\nLine two " + "long " * 40,
        venue_name="Hall",
        address="Main St 1",
        city="Berlin",
    )
    ics = event_to_ics(event, url="http://x.test/events/1", domain="x.test", now=now)
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines
    assert "SUMMARY:Jazz\\; night\\, live" in lines
    assert f"DTSTART:{event.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in lines
    assert "LOCATION:Hall\\, Main St 1\\, Berlin" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # long description folded


def test_json_ld_and_open_graph(make_event) -> None:  # noqa: ANN001
    event = make_event(
        title="Hybrid talk",
        event_type=EventType.HYBRID,
        online_url="https://secret.example/join",
        timezone="America/New_York",
        description="About </script> things",
        starts_at=datetime(2027, 1, 15, 23, 0, tzinfo=UTC),  # winter: New York is UTC-5
    )
    data = event_json_ld(event, url="http://x.test/e", image_url=None, low_price="12.50")
    assert data["@type"] == "Event"
    assert data["eventAttendanceMode"].endswith("MixedEventAttendanceMode")
    assert data["startDate"].endswith("-05:00")
    assert [loc["@type"] for loc in data["location"]] == ["Place", "VirtualLocation"]
    assert data["offers"]["lowPrice"] == "12.50"
    assert "secret.example" not in str(data)
    event.status = EventStatus.CANCELLED
    cancelled = event_json_ld(event, url="u", image_url="http://x.test/media/c.jpg")
    assert cancelled["eventStatus"].endswith("EventCancelled")
    assert cancelled["image"] == ["http://x.test/media/c.jpg"]
    og = open_graph(event, url="u", image_url=None)
    assert og["og:title"] == "Hybrid talk" and "og:image" not in og


def test_preferences_tolerate_junk() -> None:
    prefs = Preferences.from_json({"categories": [1, "2", None], "home_city": 5, "mode": "x"})
    assert prefs == Preferences(categories=(1,))
    assert Preferences.from_json(None).empty


def test_for_you_ranks_by_preferences_then_tops_up(db, make_event, make_category, now) -> None:  # noqa: ANN001
    music = make_category(name="Music")
    soon = now + timedelta(days=2)
    make_event(title="Music in Paris", category_id=music.id, city="Paris", starts_at=soon)
    make_event(title="Music at home", category_id=music.id, city="Lyon", starts_at=soon)
    make_event(title="Popular elsewhere", city="Rome", sold_count=500, starts_at=soon)
    make_event(title="Far future", category_id=music.id, starts_at=now + timedelta(days=200))
    make_event(title="Draft", status=EventStatus.DRAFT, category_id=music.id, starts_at=soon)
    prefs = Preferences(categories=(music.id,), home_city="lyon")
    assert [e.title for e in for_you(db, prefs, now=now, limit=3)] == [
        "Music at home",
        "Music in Paris",
        "Popular elsewhere",
    ]
    anonymous = for_you(db, Preferences(), now=now, limit=2)
    assert [e.title for e in anonymous] == ["Popular elsewhere", "Music in Paris"]


def test_mode_preference(db, make_event, make_user, now) -> None:  # noqa: ANN001
    make_event(title="In person", starts_at=now + timedelta(days=1))
    make_event(
        title="Online",
        event_type=EventType.ONLINE,
        city=None,
        online_url="https://x.test",
        starts_at=now + timedelta(days=2),
    )
    user = make_user(role=Role.ATTENDEE)
    user.preferences = {"mode": "online"}
    picked = for_you(db, Preferences.from_json(user.preferences), now=now, limit=2)
    assert [e.title for e in picked] == ["Online", "In person"]
