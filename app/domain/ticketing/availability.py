"""Live availability: publish that an event's counts changed (coalesced: see `live_notify`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain import live_notify

CHANNEL = "availability"

# The window is the process's, shared by every channel; kept here for the callers that set it.
configure = live_notify.configure
configure_from = live_notify.configure_from


def publish_availability(session: Session, event_id: int) -> None:
    """Tell every web process (after commit) that event `event_id`'s availability changed."""
    live_notify.publish(session, CHANNEL, event_id)
