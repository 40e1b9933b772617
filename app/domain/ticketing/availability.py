"""Live availability: publish that an event's counts changed, read the counts.

`NOTIFY` is transactional: listeners hear it only if the transaction commits, and repeated
identical notifications within one transaction are folded into one by PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "availability"


def publish_availability(session: Session, event_id: int) -> None:
    """Tell every web process (after commit) that event `event_id`'s availability changed."""
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(event_id)}
    )
