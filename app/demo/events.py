"""Demo events for the demo organizers: published ones, plus a draft, a submitted one and a
rejected one, made through the real services so the audit log tells their story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import utcnow
from app.domain.events.categories import create_category
from app.domain.events.editing import EventInput, SpeakerInput, create_event
from app.domain.events.lifecycle import submit_event
from app.domain.events.models import Event
from app.domain.events.moderation import approve_event, reject_event

CATEGORIES = ("Music", "Technology", "Arts & Culture", "Food & Drink", "Community", "Film")


@dataclass(frozen=True)
class DemoEvent:
    key: str
    organizer: str  # key into the demo users
    outcome: str  # "published" | "draft" | "submitted" | "rejected"
    category: str
    days_ahead: int
    hour: int
    hours: int
    data: dict


DEMO_EVENTS = (
    DemoEvent("jazz_night", "org1", "published", "Music", 6, 20, 3, {
        "title": "Riverside Jazz Night",
        "description": "An evening of **live jazz** by the river with the Riverside Quartet.\n\n"
        "- Doors at 19:30\n- Two sets with a break\n- Bar open all evening",
        "venue_name": "The Boathouse", "address": "12 Harbour Road", "city": "Berlin",
        "timezone": "Europe/Berlin", "tags": "jazz, live music",
        "speakers": [
            SpeakerInput("Nina Simone-Park", "Saxophone"), SpeakerInput("Leo Marsh", "Piano"),
        ],
    }),
    DemoEvent("chamber_concert", "org1", "published", "Music", 20, 19, 2, {
        "title": "Chamber Strings by Candlelight",
        "description": "Vivaldi and Piazzolla in the old library hall. Seated: pick your seats.",
        "venue_name": "Old Library Hall", "address": "3 Church Street", "city": "Berlin",
        "timezone": "Europe/Berlin", "tags": "classical, concert",
    }),
    DemoEvent("python_meetup", "org2", "published", "Technology", 9, 18, 3, {
        "title": "Python & PostgreSQL Meetup",
        "description": "Two talks on **full-text search** and **SKIP LOCKED** queues, then pizza.",
        "event_type": "hybrid", "venue_name": "Northwind Loft", "address": "88 Market Street",
        "city": "London", "online_url": "https://meet.example.com/northwind-python",
        "timezone": "Europe/London", "tags": "python, databases, open source",
        "speakers": [
            SpeakerInput("Ravi Okafor", "Database engineer", "Ravi runs PostgreSQL at scale."),
        ],
    }),
    DemoEvent("htmx_workshop", "org2", "published", "Technology", 13, 16, 2, {
        "title": "Online Workshop: Server-Rendered Apps with htmx",
        "description": "A hands-on, beginner-friendly workshop. Bring a laptop.",
        "event_type": "online", "online_url": "https://meet.example.com/htmx-workshop",
        "timezone": "UTC", "tags": "web, learning",
    }),
    DemoEvent("film_club", "org1", "published", "Film", 3, 19, 2, {
        "title": "Rooftop Film Club: Silent Classics",
        "description": "Silent films with a live piano score, on the roof if the sky allows.",
        "venue_name": "Skyline Rooftop", "address": "1 Station Square", "city": "Paris",
        "timezone": "Europe/Paris", "tags": "film, cinema",
    }),
    DemoEvent("summer_festival", "org1", "draft", "Music", 120, 12, 10, {
        "title": "Riverside Summer Festival",
        "description": "Draft: line-up to be confirmed.",
        "venue_name": "Riverside Park", "address": "Park Lane", "city": "Berlin",
        "timezone": "Europe/Berlin", "tags": "festival",
    }),
    DemoEvent("hackathon", "org2", "submitted", "Technology", 30, 9, 9, {
        "title": "Open Data Hackathon",
        "description": "A day of building with open city data. Teams of up to four.",
        "venue_name": "Northwind Loft", "address": "88 Market Street", "city": "London",
        "timezone": "Europe/London", "tags": "open source, data",
    }),
    DemoEvent("street_food", "org2", "rejected", "Food & Drink", 25, 12, 6, {
        "title": "Street Food Market",
        "description": "Twenty stalls, one courtyard.",
        "venue_name": "Courtyard", "address": "TBC", "city": "London",
        "timezone": "Europe/London", "tags": "food",
    }),
)  # fmt: skip


def _local_start(days_ahead: int, hour: int, zone: str, now: datetime) -> datetime:
    day = (now.astimezone(ZoneInfo(zone)) + timedelta(days=days_ahead)).date()
    return datetime(day.year, day.month, day.day, hour)


def load(session: Session, users: dict[str, User]) -> dict[str, Event]:
    """Create the categories and demo events; return the events by key."""
    now = utcnow()
    admin = users["admin"]
    categories = {name: create_category(session, name, admin=admin, now=now) for name in CATEGORIES}
    events: dict[str, Event] = {}
    for demo in DEMO_EVENTS:
        fields = dict(demo.data)
        starts = _local_start(demo.days_ahead, demo.hour, fields["timezone"], now)
        data = EventInput(
            **fields,
            starts_local=starts,
            ends_local=starts + timedelta(hours=demo.hours),
            category_id=categories[demo.category].id,
        )
        organizer = users[demo.organizer]
        event = create_event(session, organizer, data, now=now)
        if demo.key == "chamber_concert":
            event.is_seated = True
        if demo.outcome != "draft":
            submit_event(session, event, actor=organizer, now=now)
        if demo.outcome == "published":
            approve_event(session, event, admin=admin, version=event.version, now=now)
        elif demo.outcome == "rejected":
            reason = "Please give the full venue address instead of “TBC”."
            reject_event(session, event, admin=admin, reason=reason, version=event.version, now=now)
        events[demo.key] = event
    # One attendee with preferences, so the home page shows a "for you" list.
    users["att1"].preferences = {
        "categories": [categories["Music"].id],
        "home_city": "Berlin",
        "mode": "in_person",
    }
    session.flush()
    return events
