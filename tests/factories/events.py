"""Factories for events tests: `make_event(...)` and `make_category(...)`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.events.models import Category, Event, EventStatus, EventType

_counter = itertools.count(1)
# Default events start this far after the test's `now`, at 18:00 UTC: upcoming on any date,
# with their sales, holds and reminders all in the future.
DEFAULT_LEAD = timedelta(days=97)


def default_start(now: datetime) -> datetime:
    """When a default event starts: 18:00 UTC, `DEFAULT_LEAD` after `now`."""
    return (now + DEFAULT_LEAD).replace(hour=18, minute=0, second=0, microsecond=0)


@pytest.fixture
def make_category(db: Session) -> Callable[..., Category]:
    """`make_category(name="Music", slug="music")` -> flushed Category."""

    def create(*, name: str | None = None, slug: str | None = None) -> Category:
        n = next(_counter)
        name = name or f"Category {n}"
        category = Category(name=name, slug=slug or f"{name.lower().replace(' ', '-')}-{n}")
        db.add(category)
        db.flush()
        return category

    return create


@pytest.fixture
def make_event(db: Session, make_user: Callable[..., User], now: datetime) -> Callable[..., Event]:
    """`make_event(organizer=None, status=EventStatus.PUBLISHED, **fields)` -> flushed Event.

    Creates an organizer when none is given; every required column has a sensible default
    (an offline event in Berlin for two hours, starting at 18:00 UTC about three months
    after the test's `now`).
    """

    def create(
        *,
        organizer: User | None = None,
        status: EventStatus = EventStatus.PUBLISHED,
        **fields: Any,
    ) -> Event:
        n = next(_counter)
        if organizer is None:
            organizer = make_user(role=Role.ORGANIZER)
        starts_at = fields.pop("starts_at", default_start(now) + timedelta(days=n % 30))
        title = fields.pop("title", f"Event {n}")
        values: dict[str, Any] = {
            "title": title,
            "slug": fields.pop("slug", f"event-{n}"),
            "description": "A friendly gathering.",
            "event_type": EventType.OFFLINE,
            "venue_name": "Town Hall",
            "address": "Main Street 1",
            "city": "Berlin",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "timezone": "Europe/Berlin",
            "tags": [],
            "currency": "USD",
            "sold_count": 0,
        }
        if status in (EventStatus.SUBMITTED, EventStatus.PUBLISHED, EventStatus.REJECTED):
            values["submitted_at"] = starts_at - timedelta(days=60)
        if status == EventStatus.PUBLISHED:
            values["published_at"] = starts_at - timedelta(days=59)
        values.update(fields)
        event = Event(organizer=organizer, status=status, **values)
        db.add(event)
        db.flush()
        return event

    return create
