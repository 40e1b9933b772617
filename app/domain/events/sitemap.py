"""The events a sitemap lists: published and not over yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.events.search import PUBLISHED

# The sitemap protocol's limit of URLs per file (the sitemap also lists two listing pages).
MAX_EVENTS = 50_000 - 2


def sitemap_events(
    session: Session, *, now: datetime, limit: int = MAX_EVENTS
) -> list[Row[tuple[int, str, datetime]]]:
    """(id, slug, updated_at) of published events that have not ended, soonest first."""
    return list(
        session.execute(
            select(Event.id, Event.slug, Event.updated_at)
            .where(PUBLISHED, Event.ends_at > now)
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )
