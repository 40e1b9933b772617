"""What search engines and link previews read: schema.org Event JSON-LD and Open Graph."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from app.domain.events.markdown import plain_text
from app.domain.events.models import Event, EventStatus, EventType

ATTENDANCE_MODE = {
    EventType.OFFLINE: "https://schema.org/OfflineEventAttendanceMode",
    EventType.ONLINE: "https://schema.org/OnlineEventAttendanceMode",
    EventType.HYBRID: "https://schema.org/MixedEventAttendanceMode",
}


def event_json_ld(
    event: Event, *, url: str, image_url: str | None, low_price: str | None = None
) -> dict[str, Any]:
    """A schema.org Event; the join link stays out (it is for ticket holders only).

    `low_price` is the cheapest ticket as a decimal string ("12.50"), when tickets exist.
    """
    zone = ZoneInfo(event.timezone)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": plain_text(event.description, limit=500),
        "startDate": event.starts_at.astimezone(zone).isoformat(),
        "endDate": event.ends_at.astimezone(zone).isoformat(),
        "eventStatus": "https://schema.org/EventCancelled"
        if event.status == EventStatus.CANCELLED
        else "https://schema.org/EventScheduled",
        "eventAttendanceMode": ATTENDANCE_MODE[event.event_type],
        "url": url,
        "organizer": {
            "@type": "Organization",
            "name": event.organizer.organization_name or event.organizer.name,
        },
    }
    locations: list[dict[str, Any]] = []
    if event.event_type != EventType.ONLINE:
        locations.append(
            {
                "@type": "Place",
                "name": event.venue_name,
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": event.address,
                    "addressLocality": event.city,
                },
            }
        )
    if event.event_type != EventType.OFFLINE:
        locations.append({"@type": "VirtualLocation", "url": url})
    data["location"] = locations[0] if len(locations) == 1 else locations
    if image_url:
        data["image"] = [image_url]
    if event.speakers:
        data["performer"] = [{"@type": "Person", "name": s.name} for s in event.speakers]
    if low_price is not None:
        data["offers"] = {
            "@type": "AggregateOffer",
            "lowPrice": low_price,
            "priceCurrency": event.currency,
            "url": url,
        }
    return data


def open_graph(event: Event, *, url: str, image_url: str | None) -> dict[str, str]:
    """Open Graph properties for link previews."""
    tags = {
        "og:type": "website",
        "og:title": event.title,
        "og:description": plain_text(event.description, limit=200),
        "og:url": url,
    }
    if image_url:
        tags["og:image"] = image_url
    return tags
