"""Changes to a published event wait for an admin: moderation cannot be sidestepped by editing.

Once an event is published, the public sees its approved version (the event's row). An edit
that changes a material field is saved as a pending revision (`EventRevision`) holding the
proposed values of every material field; the public page keeps the approved version until an
admin approves the revision (or rejects it with a reason the organizer reads). An event has
at most one pending revision: a further edit replaces it (its review starts over), and an edit
back to the approved values withdraws it.

Material: what the public reads or sees and an admin vouched for: title, description, the
format (in person, online, hybrid), the venue (name, address, city), the join link, the dates
(start, end and the time zone they are in), the cover image and the speakers (their names,
bios and photos are public text and images). Not material, and applied at once: the category
(a choice from the admins' list) and the tags (a few short words from a restricted alphabet),
which place the event in listings and search but carry no free text or images.

An event under its first review (submitted, not yet public) is edited directly, and the edit
restarts the review: the admin's decision names the version they saw (`Event.version`), and a
decision on an older version is refused (moderation.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.events.models import Event, EventRevision, EventType, RevisionStatus, Speaker

MATERIAL_FIELDS = (
    "title",
    "description",
    "event_type",
    "venue_name",
    "address",
    "city",
    "online_url",
    "starts_at",
    "ends_at",
    "timezone",
    "cover_image",
    "speakers",
)
NON_MATERIAL_FIELDS = ("category_id", "tags")
FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "event_type": "Format",
    "venue_name": "Venue name",
    "address": "Address",
    "city": "City",
    "online_url": "Join link",
    "starts_at": "Starts",
    "ends_at": "Ends",
    "timezone": "Time zone",
    "cover_image": "Cover image",
    "speakers": "Speakers",
}
_DATES = ("starts_at", "ends_at")
_SPEAKER_FIELDS = ("name", "title", "bio", "photo")


def _speakers(speakers: list[Speaker]) -> list[dict[str, str | None]]:
    return [{name: getattr(s, name) for name in _SPEAKER_FIELDS} for s in speakers]


def material_of(event: Event) -> dict[str, Any]:
    """The event's material fields as JSON values (the approved version)."""
    return proposed_material({name: getattr(event, name) for name in (*MATERIAL_FIELDS, "slug")})


def proposed_material(values: dict[str, Any]) -> dict[str, Any]:
    """Material fields of validated column values (`editing.validate_event_input`) as JSON,
    with the slug that goes with the title."""
    changes: dict[str, Any] = {"slug": values["slug"]}
    for name in MATERIAL_FIELDS:
        value = values[name]
        if name in _DATES:
            value = value.isoformat()
        elif name == "event_type":
            value = EventType(value).value
        elif name == "speakers":
            value = _speakers(value)
        changes[name] = value
    return changes


def _python(name: str, value: Any) -> Any:  # noqa: ANN401 - one of several column types
    if name in _DATES:
        return datetime.fromisoformat(value)
    if name == "event_type":
        return EventType(value)
    return value


def changed_fields(event: Event, changes: dict[str, Any]) -> list[str]:
    """Names of the material fields whose proposed value differs from the approved one."""
    current = material_of(event)
    return [name for name in MATERIAL_FIELDS if current[name] != changes[name]]


def changed_labels(event: Event, changes: dict[str, Any]) -> list[str]:
    """`changed_fields`, as the forms name them."""
    return [FIELD_LABELS[name] for name in changed_fields(event, changes)]


def as_proposed(event: Event, revision: EventRevision) -> Event:
    """The event as its pending revision would make it, for the organizer's form: a transient
    copy, never added to a session."""
    values = {name: getattr(event, name) for name in NON_MATERIAL_FIELDS}
    for name in MATERIAL_FIELDS:
        if name != "speakers":
            values[name] = _python(name, revision.changes[name])
    speakers = _speaker_rows(revision.changes)
    return Event(speakers=speakers, **values)


def apply_material(session: Session, event: Event, changes: dict[str, Any]) -> None:
    """Make the proposed material values the event's approved ones."""
    for name in MATERIAL_FIELDS:
        if name != "speakers":
            setattr(event, name, _python(name, changes[name]))
    event.slug = changes["slug"]
    event.speakers.clear()
    session.flush()
    event.speakers = _speaker_rows(changes)


def _speaker_rows(changes: dict[str, Any]) -> list[Speaker]:
    return [
        Speaker(**{name: s[name] for name in _SPEAKER_FIELDS}, position=position)
        for position, s in enumerate(changes["speakers"])
    ]


def pending_revision(session: Session, event_id: int) -> EventRevision | None:
    return session.scalars(
        select(EventRevision).where(
            EventRevision.event_id == event_id, EventRevision.status == RevisionStatus.PENDING
        )
    ).first()


def latest_revision(session: Session, event_id: int) -> EventRevision | None:
    """The event's newest revision, unless it was superseded (nothing to show then)."""
    revision = session.scalars(
        select(EventRevision)
        .where(EventRevision.event_id == event_id)
        .order_by(EventRevision.id.desc())
        .limit(1)
    ).first()
    return None if revision is None or revision.status == RevisionStatus.SUPERSEDED else revision


def events_with_pending_changes(session: Session, organizer_id: int) -> set[int]:
    """Ids of the organizer's events that have changes waiting for review."""
    return set(
        session.scalars(
            select(EventRevision.event_id)
            .join(Event, Event.id == EventRevision.event_id)
            .where(
                Event.organizer_id == organizer_id,
                EventRevision.status == RevisionStatus.PENDING,
            )
        )
    )


def propose(
    session: Session, event: Event, changes: dict[str, Any], *, author: User, now: datetime
) -> EventRevision | None:
    """Record material changes to a published event for review; the caller holds the event's
    row lock. Returns the pending revision, or None when nothing material differs."""
    pending = pending_revision(session, event.id)
    if pending is not None and pending.changes == changes:
        return pending  # saved again as it was: its review goes on
    if pending is not None:
        pending.status = RevisionStatus.SUPERSEDED
        session.flush()  # before a new pending revision takes its place
    fields = changed_fields(event, changes)
    if not fields:
        if pending is not None:
            record(session, "event.changes_withdrawn", actor_id=author.id, target=event, now=now)
        return None
    revision = EventRevision(
        event_id=event.id, changes=changes, author_id=author.id, created_at=now
    )
    session.add(revision)
    session.flush()
    record(
        session,
        "event.changes_proposed",
        actor_id=author.id,
        target=event,
        now=now,
        revision_id=revision.id,
        fields=fields,
    )
    return revision


def close_pending(session: Session, event_id: int) -> None:
    """Drop the pending revision of an event leaving the public site (cancelled, unpublished):
    its organizer edits it directly from then on, or not at all."""
    pending = pending_revision(session, event_id)
    if pending is not None:
        pending.status = RevisionStatus.SUPERSEDED
        session.flush()
