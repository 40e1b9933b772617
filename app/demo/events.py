"""Demo events for the demo organizers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.events.models import Event


def load(session: Session, users: dict[str, User]) -> dict[str, Event]:
    """Create a few published events; return them by key."""
    return {}
