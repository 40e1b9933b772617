"""A booking's calendar entry: the event, with where to find the tickets and, for an online
event, the join link that only ticket holders see."""

from __future__ import annotations

from datetime import datetime

from app.domain.events.calendar import event_to_ics
from app.domain.events.models import EventType
from app.domain.ticketing.models import Booking


def booking_to_ics(
    booking: Booking, *, tickets: int, tickets_url: str, domain: str, now: datetime
) -> str:
    """The booking's event as an .ics file (its own UID: it is not the public event entry)."""
    event = booking.event
    place = ""
    if event.event_type != EventType.ONLINE:
        place = ", ".join(p for p in (event.venue_name, event.address, event.city) if p)
    if event.online_url and event.event_type != EventType.OFFLINE:
        place = f"{place} (online: {event.online_url})" if place else event.online_url
    noun = "ticket" if tickets == 1 else "tickets"
    return event_to_ics(
        event,
        url=tickets_url,
        domain=domain,
        now=now,
        uid=f"booking-{booking.id}",
        location=place or "Online",
        note=f"Booking {booking.reference}, {tickets} {noun}. Your tickets:",
    )
