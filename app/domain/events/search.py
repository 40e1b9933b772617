"""Public event search: full text, filters, sorts and pages over published events.

Text: `websearch_to_tsquery` over the weighted `search_vector` (title > tags > description);
while someone is typing, the last word also matches as a prefix. User text only ever reaches
PostgreSQL as a bound parameter. Listings filter on `status = 'published'` written as a
literal, so the partial indexes of migration 0003 apply even to generic (prepared) plans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import REAL, ColumnElement, Select, cast, false, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG, array
from sqlalchemy.orm import Session

from app.domain.events.models import Category, Event, EventType

PAGE_SIZE = 20
QUERY_MAX = 200
CITY_MAX = 120
PAGE_MAX = 500
DAY_MIN, DAY_MAX = date(1900, 1, 1), date(9000, 12, 31)
SORTS = {
    "relevance": "Best match",
    "soonest": "Soonest",
    "newest": "Newest",
    "popular": "Most popular",
    "price": "Lowest price",
}
WHEN = {"today": "Today", "weekend": "This weekend", "week": "Next 7 days", "month": "This month"}
PRICES = {"free": "Free", "paid": "Paid"}
# Hidden events (their organizer is suspended) are published but off the public pages.
PUBLISHED = text("events.status = 'published' AND events.hidden_at IS NULL")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str = ""  # slug
    event_type: str = ""
    when: str = ""
    date_from: date | None = None
    date_to: date | None = None
    tags: tuple[str, ...] = ()
    price: str = ""
    city: str = ""
    sort: str = ""
    page: int = 1

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.q else "soonest")

    def query_args(self, **changes: object) -> dict[str, object]:
        """The URL query for these parameters (defaults left out), with `changes` applied."""
        params = replace(self, **changes)  # type: ignore[arg-type]
        args: dict[str, object] = {
            "q": params.q,
            "category": params.category,
            "type": params.event_type,
            "when": params.when,
            "from": params.date_from.isoformat() if params.date_from else "",
            "to": params.date_to.isoformat() if params.date_to else "",
            "tag": list(params.tags),
            "price": params.price,
            "city": params.city,
            "sort": params.sort,
            "page": params.page if params.page > 1 else "",
        }
        return {key: value for key, value in args.items() if value}


@dataclass
class SearchPage:
    params: SearchParams
    events: list[Event]
    total: int
    notices: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE_SIZE))


def parse_search_args(
    args: Mapping[str, str], tags: Sequence[str] = ()
) -> tuple[SearchParams, list[str]]:
    """Tolerant parsing of the query string: bad values are dropped with a notice."""
    notices: list[str] = []
    q = " ".join(args.get("q", "").split())
    if len(q) > QUERY_MAX:
        q = q[:QUERY_MAX]
        notices.append(f"Your search was shortened to its first {QUERY_MAX} characters.")

    def choice(name: str, allowed: Mapping[str, str] | set[str], label: str) -> str:
        value = args.get(name, "").strip()
        if value and value not in allowed:
            notices.append(f"Ignored an unknown {label}.")
            return ""
        return value

    def day(name: str, label: str) -> date | None:
        value = args.get(name, "").strip()
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            notices.append(f"Ignored the {label} date: use the form YYYY-MM-DD.")
            return None
        if not DAY_MIN <= day <= DAY_MAX:
            # The window's ends in other time zones would run off the calendar.
            notices.append(f"Ignored the {label} date: pick one between years 1900 and 9000.")
            return None
        return day

    try:
        page = int(args.get("page", "1") or 1)
    except ValueError:
        page = 1
    clean_tags = tuple(dict.fromkeys(t.strip().lower()[:40] for t in tags if t.strip()))[:5]
    city = " ".join(args.get("city", "").split())[:CITY_MAX]
    params = SearchParams(
        q=q,
        category=args.get("category", "").strip()[:80],
        event_type=choice("type", {t.value for t in EventType}, "event type"),
        when=choice("when", WHEN, "date range"),
        date_from=day("from", "start"),
        date_to=day("to", "end"),
        tags=clean_tags,
        price=choice("price", PRICES, "price filter"),
        city=city,
        sort=choice("sort", SORTS, "sort order"),
        page=min(max(page, 1), PAGE_MAX),
    )
    return params, notices


def text_query(q: str) -> ColumnElement | None:
    """A tsquery for `q`: web-search syntax, the last word also as a prefix while typing."""
    words = q.split()
    if not any(_WORD.search(word) for word in words):
        return None
    english = literal("english", REGCONFIG)
    last = words[-1]
    typing = _WORD.fullmatch(last) and last.lower() != "or" and q.count('"') % 2 == 0
    if not typing:
        return func.websearch_to_tsquery(english, q)
    head = words[:-1]
    prefix = func.to_tsquery(english, literal(last.lower() + ":*"))
    if head and head[-1].lower() == "or":
        return func.websearch_to_tsquery(english, " ".join(head[:-1])).op("||")(prefix)
    return func.websearch_to_tsquery(english, " ".join(head)).op("&&")(prefix)


def date_window(
    params: SearchParams, *, now: datetime, zone: str
) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC for the quick pick or the explicit dates, days taken in `zone`."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()

    def at(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)

    if params.when == "today":
        return at(today), at(today + timedelta(days=1))
    if params.when == "weekend":
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:  # Sunday: the weekend is today
            saturday = today - timedelta(days=1)
        return max(at(saturday), at(today)), at(saturday + timedelta(days=2))
    if params.when == "week":
        return at(today), at(today + timedelta(days=7))
    if params.when == "month":
        first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return at(today), at(first_next)
    start = at(params.date_from) if params.date_from else None
    end = at(params.date_to + timedelta(days=1)) if params.date_to else None
    return start, end


def search_conditions(
    session: Session, params: SearchParams, *, now: datetime, zone: str, notices: list[str]
) -> tuple[list[ColumnElement], ColumnElement | None]:
    """The WHERE conditions for `params`, and the text query when there is one."""
    conditions: list[ColumnElement] = [PUBLISHED, Event.ends_at > now]
    query = text_query(params.q)
    if query is not None:
        conditions.append(Event.search_vector.op("@@")(query))
    if params.category:
        category_id = session.scalar(select(Category.id).where(Category.slug == params.category))
        if category_id is None:
            notices.append("Ignored an unknown category.")
        else:
            conditions.append(Event.category_id == category_id)
    if params.event_type:
        conditions.append(Event.event_type == EventType(params.event_type))
    start, end = date_window(params, now=now, zone=zone)
    if start is not None:
        conditions.append(Event.starts_at >= start)
    if end is not None:
        conditions.append(Event.starts_at < end)
    if params.tags:
        conditions.append(Event.tags.contains(array(params.tags)))
    if params.price == "free":
        conditions.append(Event.min_price_minor == 0)
    elif params.price == "paid":
        conditions.append(Event.min_price_minor > 0)
    if params.city:
        conditions.append(func.lower(Event.city) == params.city.lower())
    return conditions, query


def page_statement(
    conditions: list[ColumnElement], query: ColumnElement | None, params: SearchParams
) -> Select:
    """One page of matching events, in the requested order."""
    stmt = _ordered(select(Event).where(*conditions), params.effective_sort, query)
    return stmt.limit(PAGE_SIZE).offset((params.page - 1) * PAGE_SIZE)


def count_statement(conditions: list[ColumnElement]) -> Select:
    return select(func.count()).select_from(Event).where(*conditions)


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement
    kind: type  # datetime, int or float: how the key is read back from a cursor
    descending: bool = False
    # NULL sorts as PostgreSQL's default: above every value (last ascending, first descending).
    nullable: bool = False

    @property
    def order(self) -> ColumnElement:
        return self.expr.desc() if self.descending else self.expr.asc()

    def bound(self, value: object) -> object:
        # PostgreSQL ranks are `real`; psycopg reads one as the shortest decimal that names
        # it, which as a double is not the same number: compare as `real` again.
        return cast(literal(value), REAL) if self.kind is float else value

    def equal(self, value: object) -> ColumnElement:
        return self.expr.is_(None) if value is None else self.expr == self.bound(value)

    def beyond(self, value: object) -> ColumnElement:
        """Rows this key puts after `value`."""
        if self.descending:
            if value is None:
                return self.expr.is_not(None)
            return self.expr < self.bound(value)
        if value is None:
            return false()
        after = self.expr > self.bound(value)
        return or_(after, self.expr.is_(None)) if self.nullable else after


def sort_keys(sort: str, query: ColumnElement | None) -> list[SortKey]:
    """The order for `sort`, the event's id last: keys are unique, so pages never tie (the
    API's keyset pages, app/domain/events/keyset.py, start after one)."""
    starts = SortKey(Event.starts_at, datetime)
    event_id = SortKey(Event.id, int)
    if sort == "relevance" and query is not None:
        rank = SortKey(func.ts_rank(Event.search_vector, query), float, descending=True)
        return [rank, starts, event_id]
    if sort == "newest":
        published = SortKey(Event.published_at, datetime, descending=True, nullable=True)
        return [published, SortKey(Event.id, int, descending=True)]
    if sort == "popular":
        return [SortKey(Event.sold_count, int, descending=True), starts, event_id]
    if sort == "price":
        return [SortKey(Event.min_price_minor, int, nullable=True), starts, event_id]
    return [starts, event_id]


def _ordered(stmt: Select, sort: str, query: ColumnElement | None) -> Select:
    return stmt.order_by(*(key.order for key in sort_keys(sort, query)))


def search_events(
    session: Session,
    params: SearchParams,
    *,
    now: datetime,
    zone: str = "UTC",
    notices: list[str] | None = None,
) -> SearchPage:
    """One page of published, not yet ended events matching `params`."""
    notices = list(notices or [])
    conditions, query = search_conditions(session, params, now=now, zone=zone, notices=notices)
    total = session.scalar(count_statement(conditions)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if params.page > pages:
        params = replace(params, page=pages)
    events = list(session.scalars(page_statement(conditions, query, params)))
    return SearchPage(params=params, events=events, total=total, notices=notices)
