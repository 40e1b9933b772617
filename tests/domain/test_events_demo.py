"""The demo events load through the real services, and the generator makes listable data."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo import accounts, events
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus
from app.domain.events.search import SearchParams, search_events


def test_demo_events_cover_each_status(db) -> None:  # noqa: ANN001
    users, _ = accounts.load(db)
    loaded = events.load(db, users)
    assert loaded["jazz_night"].status == EventStatus.PUBLISHED
    assert loaded["summer_festival"].status == EventStatus.DRAFT
    assert loaded["hackathon"].status == EventStatus.SUBMITTED
    assert loaded["street_food"].rejection_reason
    assert loaded["chamber_concert"].is_seated
    page = search_events(db, SearchParams(q="jazz"), now=utcnow())
    assert [e.title for e in page.events] == ["Riverside Jazz Night"]


def test_generator_makes_varied_listable_events(db) -> None:  # noqa: ANN001
    from app.commands.generate import generate_events

    result = generate_events(db, 300, now=utcnow(), seed=7)
    assert result.events == 300 and result.tiers > 200 and result.units > 0
    statuses = dict(db.execute(select(Event.status, func.count()).group_by(Event.status)).all())
    assert statuses[EventStatus.PUBLISHED] > 150
    assert db.scalar(select(func.count()).where(Event.search_vector.is_(None))) == 0
    free = search_events(db, SearchParams(price="free"), now=utcnow())
    paid = search_events(db, SearchParams(price="paid", sort="price"), now=utcnow())
    assert free.total > 0 and paid.total > 0
    prices = [e.min_price_minor for e in paid.events]
    assert prices == sorted(prices)
