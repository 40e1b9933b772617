"""Organizers create, edit, duplicate and delete their events.

Every rule on event data lives in `validate_event_input`, which reports all problems at once
(field name -> messages), so a form can show each next to its field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound
from app.domain.events import revisions
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import lock_event
from app.domain.events.models import (
    Category,
    Event,
    EventRevision,
    EventStatus,
    EventType,
    Speaker,
)

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
TAG_MAX = 40
TAGS_MAX = 10
SPEAKERS_MAX = 20
EDITABLE = frozenset(
    {EventStatus.DRAFT, EventStatus.SUBMITTED, EventStatus.REJECTED, EventStatus.PUBLISHED}
)
_TAG_ALLOWED = re.compile(r"^[\w][\w \-]*$")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


@dataclass
class SpeakerInput:
    name: str = ""
    title: str = ""
    bio: str = ""
    photo: str | None = None  # storage key

    @property
    def is_blank(self) -> bool:
        return not (self.name.strip() or self.title.strip() or self.bio.strip() or self.photo)


@dataclass
class EventInput:
    """What an organizer submits; times are wall-clock times in `timezone`."""

    title: str = ""
    description: str = ""
    event_type: str = EventType.OFFLINE.value
    venue_name: str = ""
    address: str = ""
    city: str = ""
    online_url: str = ""
    starts_local: datetime | None = None
    ends_local: datetime | None = None
    timezone: str = "UTC"
    category_id: int | None = None
    tags: str = ""  # comma-separated
    cover_image: str | None = None
    speakers: list[SpeakerInput] = field(default_factory=list)


@cache
def time_zone_names() -> tuple[str, ...]:
    """IANA zone names worth offering (Region/City, plus UTC), sorted."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    }
    return tuple(sorted(names | {"UTC"}))


def is_time_zone(name: str) -> bool:
    if not name or len(name) > 64 or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _SLUG_STRIP.sub("-", ascii_title.lower()).strip("-")[:80].strip("-")
    return slug or "event"


def parse_tags(raw: str) -> list[str]:
    """'Jazz, live music ,jazz' -> ['jazz', 'live music'] (order kept, duplicates dropped)."""
    tags: list[str] = []
    for part in raw.split(","):
        tag = " ".join(part.split()).lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _to_utc(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _check_length(errors: dict[str, list[str]], name: str, value: str, limit: int, label: str):
    if len(value) > limit:
        errors.setdefault(name, []).append(f"{label} must be at most {limit} characters.")


def validate_event_input(session: Session, data: EventInput) -> dict[str, object]:
    """Normalized column values for `data`, or `EventInvalid` listing every problem."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    title = " ".join(data.title.split())
    if not title:
        add("title", "Give the event a title.")
    _check_length(errors, "title", title, TITLE_MAX, "The title")
    description = data.description.strip()
    _check_length(errors, "description", description, DESCRIPTION_MAX, "The description")

    try:
        event_type = EventType(data.event_type)
    except ValueError:
        add("event_type", "Choose online, in person or hybrid.")
        event_type = EventType.OFFLINE
    in_person = event_type in (EventType.OFFLINE, EventType.HYBRID)
    online = event_type in (EventType.ONLINE, EventType.HYBRID)

    venue_name, address, city = (v.strip() for v in (data.venue_name, data.address, data.city))
    if in_person:
        for name, value, label, limit in (
            ("venue_name", venue_name, "a venue name", 200),
            ("address", address, "an address", 300),
            ("city", city, "a city", 120),
        ):
            if not value:
                add(name, f"An in-person or hybrid event needs {label}.")
            _check_length(errors, name, value, limit, f"The {label.split(' ', 1)[1]}")

    online_url = data.online_url.strip()
    if online:
        if not online_url:
            add("online_url", "An online or hybrid event needs a join link.")
        else:
            parts = urlsplit(online_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                add("online_url", "The join link must start with http:// or https://.")
            _check_length(errors, "online_url", online_url, 500, "The join link")

    zone = data.timezone.strip()
    if not is_time_zone(zone):
        add("timezone", "Choose a time zone from the list, such as Europe/Berlin.")
    starts_at = ends_at = None
    if data.starts_local is None:
        add("starts_at", "Enter when the event starts.")
    if data.ends_local is None:
        add("ends_at", "Enter when the event ends.")
    for name, local in (("starts_at", data.starts_local), ("ends_at", data.ends_local)):
        if local is not None and not 2000 <= local.year <= 2100:
            add(name, "Enter a date between the years 2000 and 2100.")
    if "timezone" not in errors and "starts_at" not in errors and "ends_at" not in errors:
        assert data.starts_local is not None and data.ends_local is not None
        starts_at = _to_utc(data.starts_local, zone)
        ends_at = _to_utc(data.ends_local, zone)
        if ends_at <= starts_at:
            add("ends_at", "The end must be after the start.")

    category_id = data.category_id
    if category_id is not None and session.get(Category, category_id) is None:
        add("category_id", "Choose a category from the list.")

    tags = parse_tags(data.tags)
    if len(tags) > TAGS_MAX:
        add("tags", f"Use at most {TAGS_MAX} tags.")
    for tag in tags:
        if len(tag) > TAG_MAX or not _TAG_ALLOWED.match(tag):
            add("tags", f"Tags are short words (letters, digits, spaces, hyphens; {TAG_MAX} max).")
            break

    speakers = [s for s in data.speakers if not s.is_blank]
    if len(speakers) > SPEAKERS_MAX:
        add("speakers", f"An event can list at most {SPEAKERS_MAX} speakers.")
    for number, speaker in enumerate(speakers, start=1):
        if not speaker.name.strip():
            add("speakers", f"Speaker {number} needs a name.")
        for value, limit, label in (
            (speaker.name.strip(), 120, "name"),
            (speaker.title.strip(), 200, "title"),
            (speaker.bio.strip(), 5000, "bio"),
        ):
            if len(value) > limit:
                add("speakers", f"Speaker {number}'s {label} must be at most {limit} characters.")

    if errors:
        raise EventInvalid(errors)
    return {
        "title": title,
        "slug": slugify(title),
        "description": description,
        "event_type": event_type,
        "venue_name": venue_name if in_person else None,
        "address": address if in_person else None,
        "city": city if in_person else None,
        "online_url": online_url if online else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": zone,
        "category_id": category_id,
        "tags": tags,
        "cover_image": data.cover_image,
        "speakers": [
            Speaker(
                name=s.name.strip(),
                title=s.title.strip() or None,
                bio=s.bio.strip() or None,
                photo=s.photo,
                position=position,
            )
            for position, s in enumerate(speakers)
        ],
    }


def _apply(event: Event, values: dict[str, object]) -> None:
    for name, value in values.items():
        setattr(event, name, value)


def create_event(session: Session, organizer: User, data: EventInput, *, now: datetime) -> Event:
    """A new draft owned by `organizer`."""
    values = validate_event_input(session, data)
    event = Event(organizer=organizer, status=EventStatus.DRAFT, created_at=now, updated_at=now)
    _apply(event, values)
    session.add(event)
    session.flush()
    record(session, "event.created", actor_id=organizer.id, target=event, now=now)
    return event


def update_event(
    session: Session, event: Event, data: EventInput, *, actor: User, now: datetime
) -> EventRevision | None:
    """Save changes to an event that is not cancelled or completed; its status stays as it is.

    A published event changes its non-material fields at once and keeps its material ones
    for review (`revisions`): the pending revision is returned (None when nothing material
    differs from the public version). Any other event changes at once; a submitted one's
    review restarts (its version moves on).
    """
    event = lock_event(session, event)  # an admin's decision and this edit take turns
    if event.status not in EDITABLE:
        raise EventError(f"A {event.status.value} event can no longer be changed.")
    values = validate_event_input(session, data)
    revision = None
    if event.status == EventStatus.PUBLISHED:
        changes = revisions.proposed_material(values)
        revision = revisions.propose(session, event, changes, author=actor, now=now)
        values = {name: values[name] for name in revisions.NON_MATERIAL_FIELDS}
    else:
        event.speakers.clear()
        session.flush()
    _apply(event, values)
    event.version += 1
    event.updated_at = now
    session.flush()
    record(session, "event.updated", actor_id=actor.id, target=event, now=now)
    return revision


def duplicate_event(session: Session, event: Event, *, actor: User, now: datetime) -> Event:
    """A draft copy of `event` (speakers included) for the same organizer."""
    copy = Event(
        organizer_id=event.organizer_id,
        status=EventStatus.DRAFT,
        title=f"Copy of {event.title}"[:TITLE_MAX],
        slug=event.slug,
        created_at=now,
        updated_at=now,
    )
    for name in (
        "description",
        "event_type",
        "venue_name",
        "address",
        "city",
        "online_url",
        "starts_at",
        "ends_at",
        "timezone",
        "category_id",
        "tags",
        "cover_image",
        "is_seated",
        "currency",
    ):
        setattr(copy, name, getattr(event, name))
    copy.tags = list(event.tags)
    copy.speakers = [
        Speaker(name=s.name, title=s.title, bio=s.bio, photo=s.photo, position=s.position)
        for s in event.speakers
    ]
    session.add(copy)
    session.flush()
    record(session, "event.duplicated", actor_id=actor.id, target=copy, now=now, source_id=event.id)
    return copy


def delete_event(session: Session, event: Event, *, actor: User, now: datetime) -> None:
    """Delete a draft; anything that was ever submitted is kept (cancel it instead)."""
    if event.status != EventStatus.DRAFT:
        raise EventError("Only drafts can be deleted. Cancel a published event instead.")
    record(session, "event.deleted", actor_id=actor.id, target=event, now=now, title=event.title)
    session.delete(event)
    session.flush()


def get_organizer_event(session: Session, event_id: int, organizer_id: int) -> Event:
    """The organizer's own event; anyone else's answers NotFound (never a hint it exists)."""
    event = session.get(Event, event_id)
    if event is None or event.organizer_id != organizer_id:
        raise NotFound("We could not find that event.")
    return event


def events_by_status(session: Session, organizer_id: int) -> dict[EventStatus, list[Event]]:
    """The organizer's events grouped by status (every status present, soonest first)."""
    grouped: dict[EventStatus, list[Event]] = {status: [] for status in EventStatus}
    events = session.scalars(
        select(Event).where(Event.organizer_id == organizer_id).order_by(Event.starts_at, Event.id)
    )
    for event in events:
        grouped[event.status].append(event)
    return grouped
