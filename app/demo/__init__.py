"""Demo data for `make run`: loaded once into an empty database.

Each area contributes its own loader; they run in order and pass along what later ones need.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User


def load_demo_once(session: Session) -> list[str]:
    """Load the demo data if the database has no users yet; return lines to print."""
    if session.scalar(select(func.count()).select_from(User)):
        return ["demo data: already loaded (users exist), nothing to do"]
    from app.demo import accounts, events, ticketing

    users, lines = accounts.load(session)
    events_by_key = events.load(session, users)
    ticketing.load(session, events_by_key)
    session.flush()
    return lines
