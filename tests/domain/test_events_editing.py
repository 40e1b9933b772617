"""Creating, editing, duplicating and deleting events: every rule on event data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.base import NotFound, utcnow
from app.domain.events.editing import (
    EventInput,
    SpeakerInput,
    create_event,
    delete_event,
    duplicate_event,
    events_by_status,
    get_organizer_event,
    parse_tags,
    slugify,
    update_event,
)
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.models import Event, EventStatus, EventType

# A June day at least a year ahead, whatever today is: always to come, always in summer time.
DAY = date(utcnow().year + 2, 6, 1)


def valid_input(**changes) -> EventInput:  # noqa: ANN003
    data = EventInput(
        title="Jazz in the Park",
        description="Bring a **blanket**.",
        event_type="offline",
        venue_name="Park stage",
        address="1 Park Lane",
        city="Berlin",
        starts_local=datetime.combine(DAY, time(19, 0)),
        ends_local=datetime.combine(DAY, time(22, 0)),
        timezone="Europe/Berlin",
        tags="Jazz, live music ,jazz",
        speakers=[SpeakerInput(name="Ella", title="Singer"), SpeakerInput()],
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


@pytest.fixture
def organizer(make_user):  # noqa: ANN001, ANN201
    return make_user(role=Role.ORGANIZER)


def test_create_stores_a_draft_in_utc_with_normalized_fields(db, organizer, now) -> None:  # noqa: ANN001
    event = create_event(db, organizer, valid_input(), now=now)
    assert event.status == EventStatus.DRAFT
    assert event.starts_at == datetime.combine(DAY, time(17, 0), tzinfo=UTC)  # CEST is UTC+2
    assert event.tags == ["jazz", "live music"]
    assert event.slug == "jazz-in-the-park"
    assert [s.name for s in event.speakers] == ["Ella"]
    assert event.online_url is None
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.target_id == event.id)) == (
        "event.created"
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"ends_local": datetime.combine(DAY, time(18, 0))},
            "ends_at",
            "end must be after the start",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Choose a time zone"),
        ({"venue_name": " "}, "venue_name", "needs a venue name"),
        ({"city": ""}, "city", "needs a city"),
        ({"event_type": "hybrid", "address": ""}, "address", "needs an address"),
        ({"event_type": "online"}, "online_url", "needs a join link"),
        (
            {"event_type": "online", "online_url": "javascript:alert(1)"},
            "online_url",
            "http:// or https://",
        ),
        ({"event_type": "party"}, "event_type", "Choose online"),
        ({"title": "   "}, "title", "Give the event a title"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"description": "x" * 20_001}, "description", "at most 20000"),
        ({"starts_local": None}, "starts_at", "Enter when the event starts"),
        ({"starts_local": datetime(1900, 1, 1)}, "starts_at", "between the years"),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, "tags", "at most 10 tags"),
        ({"tags": "<script>"}, "tags", "Tags are short words"),
        ({"category_id": 999999}, "category_id", "Choose a category"),
        ({"speakers": [SpeakerInput(title="No name")]}, "speakers", "needs a name"),
        ({"speakers": [SpeakerInput(name="x" * 121)]}, "speakers", "at most 120"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
    db, organizer, now, changes, field, message
) -> None:  # noqa: ANN001
    with pytest.raises(EventInvalid) as error:
        create_event(db, organizer, valid_input(**changes), now=now)
    assert any(message in text for text in error.value.errors[field]), error.value.errors
    assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_all_problems_are_reported_at_once(db, organizer, now) -> None:  # noqa: ANN001
    with pytest.raises(EventInvalid) as error:
        create_event(db, organizer, valid_input(title="", venue_name="", timezone="X"), now=now)
    assert {"title", "venue_name", "timezone"} <= set(error.value.errors)


def test_online_event_drops_the_venue(db, organizer, now) -> None:  # noqa: ANN001
    data = valid_input(event_type="online", online_url="https://meet.example/abc")
    event = create_event(db, organizer, data, now=now)
    assert (event.venue_name, event.city, event.online_url) == (
        None,
        None,
        "https://meet.example/abc",
    )


def test_update_replaces_fields_and_speakers(db, organizer, now) -> None:  # noqa: ANN001
    event = create_event(db, organizer, valid_input(), now=now)
    changed = valid_input(title="Swing night", speakers=[SpeakerInput(name="Louis")])
    update_event(db, event, changed, actor=organizer, now=now)
    db.expire_all()
    event = db.get(Event, event.id)
    assert event.title == "Swing night"
    assert [s.name for s in event.speakers] == ["Louis"]


def test_invalid_update_changes_nothing(db, organizer, now) -> None:  # noqa: ANN001
    event = create_event(db, organizer, valid_input(), now=now)
    with pytest.raises(EventInvalid):
        update_event(db, event, valid_input(title="", city=""), actor=organizer, now=now)
    assert event.title == "Jazz in the Park" and len(event.speakers) == 1


@pytest.mark.parametrize("status", [EventStatus.CANCELLED, EventStatus.COMPLETED])
def test_cancelled_and_completed_events_cannot_be_edited(
    db, make_event, organizer, now, status
) -> None:  # noqa: ANN001
    event = make_event(organizer=organizer, status=status)
    with pytest.raises(EventError, match="can no longer be changed"):
        update_event(db, event, valid_input(), actor=organizer, now=now)


def test_duplicate_makes_a_draft_copy_with_speakers(db, organizer, now) -> None:  # noqa: ANN001
    event = create_event(db, organizer, valid_input(), now=now)
    event.status = EventStatus.PUBLISHED
    copy = duplicate_event(db, event, actor=organizer, now=now)
    assert copy.id != event.id and copy.status == EventStatus.DRAFT
    assert copy.title == "Copy of Jazz in the Park"
    assert [s.name for s in copy.speakers] == ["Ella"]
    assert copy.tags == event.tags and copy.event_type == EventType.OFFLINE


def test_only_drafts_can_be_deleted(db, make_event, organizer, now) -> None:  # noqa: ANN001
    published = make_event(organizer=organizer)
    with pytest.raises(EventError, match="Only drafts"):
        delete_event(db, published, actor=organizer, now=now)
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    delete_event(db, draft, actor=organizer, now=now)
    assert db.get(Event, draft.id) is None
    assert db.get(Event, published.id) is not None


def test_another_organizers_event_is_not_found(db, make_event, make_user) -> None:  # noqa: ANN001
    event = make_event(status=EventStatus.DRAFT)
    stranger = make_user(role=Role.ORGANIZER)
    with pytest.raises(NotFound):
        get_organizer_event(db, event.id, stranger.id)
    assert get_organizer_event(db, event.id, event.organizer_id) is event


def test_dashboard_groups_by_status(make_event, organizer, db) -> None:  # noqa: ANN001
    make_event(organizer=organizer, status=EventStatus.DRAFT)
    make_event(organizer=organizer)
    make_event()  # someone else's
    grouped = events_by_status(db, organizer.id)
    assert len(grouped[EventStatus.DRAFT]) == 1
    assert len(grouped[EventStatus.PUBLISHED]) == 1


def test_small_helpers() -> None:
    assert slugify("Café & Crème! 2027") == "cafe-creme-2027"
    assert slugify("!!!") == "event"
    assert parse_tags(" A ,  b  c,,a ") == ["a", "b c"]
