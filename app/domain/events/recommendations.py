"""The home page's "for you" list, ranked by the attendee's preferences.

Preferences live in `users.preferences`: {"categories": [ids], "home_city": str,
"mode": "online" | "in_person"}. Without any, the list is what is soon and popular.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event, EventType
from app.domain.events.search import PUBLISHED

HORIZON = timedelta(days=90)
SOON = timedelta(days=30)
MODES = {
    "online": (EventType.ONLINE, EventType.HYBRID),
    "in_person": (EventType.OFFLINE, EventType.HYBRID),
}


@dataclass(frozen=True)
class Preferences:
    categories: tuple[int, ...] = ()
    home_city: str = ""
    mode: str = ""

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Preferences:
        """Tolerates anything stored: unknown keys and bad values are ignored."""
        raw = raw if isinstance(raw, dict) else {}
        categories = raw.get("categories")
        ids = tuple(
            c for c in (categories if isinstance(categories, list) else []) if isinstance(c, int)
        )
        city = raw.get("home_city")
        mode = raw.get("mode")
        return cls(
            categories=ids[:20],
            home_city=city.strip()[:120] if isinstance(city, str) else "",
            mode=mode if mode in MODES else "",
        )

    @property
    def empty(self) -> bool:
        return not (self.categories or self.home_city or self.mode)


def featured(session: Session, *, now: datetime, limit: int = 4) -> list[Event]:
    """Public, upcoming events an admin features, the latest featured first (a feature made
    before the event was last published has lapsed: see Event.is_featured)."""
    return list(
        session.scalars(
            select(Event)
            .where(
                PUBLISHED,
                Event.featured_at.is_not(None),
                or_(Event.published_at.is_(None), Event.featured_at >= Event.published_at),
                Event.ends_at > now,
            )
            .order_by(Event.featured_at.desc())
            .limit(limit)
        )
    )


def soon_and_popular(
    session: Session, *, now: datetime, limit: int = 8, exclude: tuple[int, ...] = ()
) -> list[Event]:
    """Upcoming events of the next 30 days, the best-selling first."""
    stmt = (
        select(Event)
        .where(PUBLISHED, Event.ends_at > now, Event.starts_at < now + SOON)
        .order_by(Event.sold_count.desc(), Event.starts_at)
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(Event.id.not_in(exclude))
    return list(session.scalars(stmt))


def for_you(
    session: Session, preferences: Preferences, *, now: datetime, limit: int = 8
) -> list[Event]:
    """Events matching the preferences (more matches rank higher), topped up with popular ones."""
    if preferences.empty:
        return soon_and_popular(session, now=now, limit=limit)
    matches: list[tuple[ColumnElement, int]] = []
    if preferences.categories:
        matches.append((Event.category_id.in_(preferences.categories), 3))
    if preferences.home_city:
        matches.append((func.lower(Event.city) == preferences.home_city.lower(), 2))
    if preferences.mode:
        matches.append((Event.event_type.in_(MODES[preferences.mode]), 1))
    score = sum((case((condition, weight), else_=0) for condition, weight in matches), literal(0))
    picked = list(
        session.scalars(
            select(Event)
            .where(PUBLISHED, Event.ends_at > now, Event.starts_at < now + HORIZON)
            .where(or_(*(condition for condition, _ in matches)))
            .order_by(score.desc(), Event.starts_at, Event.sold_count.desc())
            .limit(limit)
        )
    )
    if len(picked) < limit:
        picked += soon_and_popular(
            session, now=now, limit=limit - len(picked), exclude=tuple(e.id for e in picked)
        )
    return picked
