"""Demo tiers and seat maps for the demo events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events.models import Event


def load(session: Session, events: dict[str, Event]) -> None:
    """Give the demo events their tiers (and a seat map for the seated one)."""
