"""Public search: text with prefix matching, filters, sorts, pages, and hostile input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from app.domain.events.models import EventStatus, EventType
from app.domain.events.search import (
    PAGE_SIZE,
    SearchParams,
    date_window,
    parse_search_args,
    search_events,
)


def titles(db, now, **params) -> list[str]:  # noqa: ANN001, ANN003
    return [e.title for e in search_events(db, SearchParams(**params), now=now).events]


@pytest.fixture
def soon(now):  # noqa: ANN001, ANN201
    return now + timedelta(days=3)


def test_title_outranks_tags_outranks_description(db, make_event, now, soon) -> None:  # noqa: ANN001
    make_event(
        title="Cooking class", description="We listen to jazz while cooking.", starts_at=soon
    )
    make_event(title="Jazz night", starts_at=soon + timedelta(days=1))
    make_event(title="Evening out", tags=["jazz"], starts_at=soon + timedelta(days=2))
    make_event(title="Chess club", starts_at=soon)
    assert titles(db, now, q="jazz") == ["Jazz night", "Evening out", "Cooking class"]


def test_last_word_matches_as_a_prefix_while_typing(db, make_event, now, soon) -> None:  # noqa: ANN001
    make_event(title="Jazz festival", starts_at=soon)
    make_event(title="Jazz quartet", starts_at=soon)
    assert titles(db, now, q="jaz") == ["Jazz festival", "Jazz quartet"]
    assert titles(db, now, q="jazz fest") == ["Jazz festival"]
    assert titles(db, now, q="jazz -quartet") == ["Jazz festival"]
    assert titles(db, now, q='"jazz quartet"') == ["Jazz quartet"]
    assert sorted(titles(db, now, q="festival or quart")) == ["Jazz festival", "Jazz quartet"]


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE events; --",
        "jazz' OR '1'='1",
        "a & b | !c :* (d",
        "\\x00 %_ $$ ;;",
        "<script>alert(1)</script>",
        "x" * 5000,
        "🎷🎺",
    ],
)
def test_hostile_queries_are_just_text(db, make_event, now, soon, query) -> None:  # noqa: ANN001
    make_event(title="Jazz night", starts_at=soon)
    page = search_events(db, SearchParams(q=query[:200]), now=now)
    assert page.total == 0 or page.events[0].title == "Jazz night"
    assert db.execute(text("SELECT count(*) FROM events")).scalar() == 1


def test_only_published_upcoming_events_are_listed(db, make_event, now, soon) -> None:  # noqa: ANN001
    make_event(title="Public", starts_at=soon)
    for status in EventStatus:
        if status != EventStatus.PUBLISHED:
            make_event(title=f"Hidden {status}", status=status, starts_at=soon)
    make_event(title="Already over", starts_at=now - timedelta(days=1))
    make_event(title="Still running", starts_at=now - timedelta(hours=1))
    assert titles(db, now) == ["Still running", "Public"]


def test_filters(db, make_event, make_category, now, soon) -> None:  # noqa: ANN001
    music = make_category(name="Music", slug="music")
    make_event(title="A", category_id=music.id, city="Berlin", starts_at=soon, min_price_minor=0)
    make_event(
        title="B",
        event_type=EventType.ONLINE,
        city=None,
        venue_name=None,
        address=None,
        online_url="https://x.test",
        tags=["python", "web"],
        starts_at=soon + timedelta(days=1),
        min_price_minor=1500,
    )
    make_event(title="C", city="Paris", tags=["web"], starts_at=soon + timedelta(days=20))
    assert titles(db, now, category="music") == ["A"]
    assert titles(db, now, event_type="online") == ["B"]
    assert titles(db, now, city="bERLIN") == ["A"]
    assert titles(db, now, tags=("web",)) == ["B", "C"]
    assert titles(db, now, tags=("web", "python")) == ["B"]
    assert titles(db, now, price="free") == ["A"]
    assert titles(db, now, price="paid") == ["B"]
    assert titles(db, now, date_from=(soon + timedelta(days=1)).date()) == ["B", "C"]
    assert titles(db, now, date_to=soon.date()) == ["A"]
    assert titles(db, now, when="week") == ["A", "B"]


def test_sorts(db, make_event, now, soon) -> None:  # noqa: ANN001
    make_event(
        title="Later", starts_at=soon + timedelta(days=5), sold_count=90, min_price_minor=500
    )
    make_event(
        title="Sooner",
        starts_at=soon,
        sold_count=10,
        min_price_minor=2000,
        published_at=now - timedelta(days=1),
    )
    make_event(title="No tickets", starts_at=soon + timedelta(days=9), min_price_minor=None)
    assert titles(db, now, sort="soonest") == ["Sooner", "Later", "No tickets"]
    assert titles(db, now, sort="popular")[0] == "Later"
    assert titles(db, now, sort="price") == ["Later", "Sooner", "No tickets"]
    assert titles(db, now, sort="newest")[0] == "Sooner"


def test_pages_and_a_page_past_the_end(db, make_event, now, soon) -> None:  # noqa: ANN001
    for n in range(PAGE_SIZE + 3):
        make_event(title=f"Event {n:02d}", starts_at=soon + timedelta(hours=n))
    page = search_events(db, SearchParams(page=2), now=now)
    assert page.total == PAGE_SIZE + 3 and page.pages == 2
    assert [e.title for e in page.events] == ["Event 20", "Event 21", "Event 22"]
    beyond = search_events(db, SearchParams(page=40), now=now)
    assert beyond.params.page == 2 and len(beyond.events) == 3


def test_parsing_drops_bad_values_with_a_notice() -> None:
    params, notices = parse_search_args(
        {
            "q": "x" * 300,
            "type": "party",
            "sort": "id; drop",
            "from": "2027-13-45",
            "page": "abc",
            "when": "weekend",
            "price": "free",
        },
        tags=["Jazz", "jazz", " "],
    )
    assert len(params.q) == 200 and params.event_type == "" and params.sort == ""
    assert params.date_from is None and params.page == 1
    assert params.when == "weekend" and params.price == "free" and params.tags == ("jazz",)
    assert len(notices) == 4
    assert any("shortened" in n for n in notices)


def test_query_args_round_trip() -> None:
    params = SearchParams(q="jazz", tags=("a", "b"), date_from=date(2027, 1, 2), page=3)
    assert params.query_args(page=1) == {"q": "jazz", "tag": ["a", "b"], "from": "2027-01-02"}
    args = params.query_args()
    parsed, notices = parse_search_args(
        {k: v for k, v in args.items() if k != "tag"}, tags=args["tag"]
    )
    assert parsed == params and notices == []


@pytest.mark.parametrize(
    ("when", "start", "end"),
    [
        ("today", "2026-11-24", "2026-11-25"),
        ("weekend", "2026-11-28", "2026-11-30"),
        ("week", "2026-11-24", "2026-12-01"),
        ("month", "2026-11-24", "2026-12-01"),
    ],
)
def test_quick_picks_from_a_tuesday(when, start, end) -> None:  # noqa: ANN001
    # A pure calculation on a given day: the day is passed in, so the real date does not matter.
    tuesday = datetime.fromisoformat("2026-11-24T12:00:00+00:00")
    low, high = date_window(SearchParams(when=when), now=tuesday, zone="UTC")
    assert (low.date().isoformat(), high.date().isoformat()) == (start, end)


def test_weekend_on_a_sunday_is_today_and_zone_matters() -> None:
    sunday = datetime.fromisoformat("2026-11-29T10:00:00+00:00")
    low, high = date_window(SearchParams(when="weekend"), now=sunday, zone="UTC")
    assert (low.isoformat(), high.isoformat()) == (
        "2026-11-29T00:00:00+00:00",
        "2026-11-30T00:00:00+00:00",
    )
    low, _ = date_window(SearchParams(when="today"), now=sunday, zone="Pacific/Auckland")
    assert low.isoformat() == "2026-11-28T11:00:00+00:00"  # midnight of the 29th in Auckland


def test_dates_off_the_calendar_are_dropped_with_a_notice() -> None:
    params, notices = parse_search_args({"from": "0001-01-01", "to": "9999-12-31"})
    assert params.date_from is None and params.date_to is None
    assert len(notices) == 2 and all("between years" in notice for notice in notices)
