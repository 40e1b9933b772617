"""Moderation cannot be sidestepped: material edits to a published event wait as a revision
until an admin approves them, other edits apply at once, and a decision never covers changes
the admin did not see."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.events.editing import SpeakerInput, create_event, update_event
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import cancel_event, submit_event
from app.domain.events.models import EventRevision, EventStatus, RevisionStatus
from app.domain.events.moderation import (
    CHANGED_MEANWHILE,
    approve_event,
    approve_revision,
    reject_event,
    reject_revision,
    revision_queue,
    unpublish_event,
)
from app.domain.events.revision_diff import revision_changes, word_diff
from app.domain.events.revisions import as_proposed, events_with_pending_changes, material_of
from tests.domain.test_events_editing import DAY, valid_input


def actions(db, event_id: int) -> list[str]:  # noqa: ANN001
    return list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == event_id, AuditEntry.target_type == "events")
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def admin(make_user):  # noqa: ANN001, ANN201
    return make_user(role=Role.ADMIN)


@pytest.fixture
def published(db, make_user, admin, now):  # noqa: ANN001, ANN201
    """An event made through the form, submitted and approved."""
    organizer = make_user(role=Role.ORGANIZER)
    event = create_event(db, organizer, valid_input(), now=now)
    submit_event(db, event, actor=organizer, now=now)
    approve_event(db, event, admin=admin, version=event.version, now=now)
    return event


def edit(db, event, now, **changes):  # noqa: ANN001, ANN003, ANN201
    return update_event(db, event, valid_input(**changes), actor=event.organizer, now=now)


def test_a_material_edit_waits_for_review_and_the_rest_applies_at_once(db, published, now) -> None:  # noqa: ANN001
    revision = edit(db, published, now, title="Free crypto giveaway", tags="jazz, late")
    assert revision is not None and revision.status == RevisionStatus.PENDING
    db.expire_all()
    assert published.title == "Jazz in the Park" and published.slug == "jazz-in-the-park"
    assert published.tags == ["jazz", "late"]  # not material: public at once
    assert revision.changes["title"] == "Free crypto giveaway"
    assert revision.changes["slug"] == "free-crypto-giveaway"
    assert actions(db, published.id)[-2:] == ["event.changes_proposed", "event.updated"]
    assert revision_queue(db) == [revision]
    assert events_with_pending_changes(db, published.organizer_id) == {published.id}


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "Now with a **scam** link"},
        {"event_type": "online", "online_url": "https://evil.example/join"},
        {"venue_name": "Back alley"},
        {"address": "2 Other Street"},
        {"city": "Hamburg"},
        {
            "starts_local": datetime.combine(DAY + timedelta(days=1), time(19, 0)),
            "ends_local": datetime.combine(DAY + timedelta(days=1), time(22, 0)),
        },
        {"timezone": "Europe/Lisbon"},
        {"cover_image": "ab/" + "c" * 64 + ".jpg"},
        {"speakers": [SpeakerInput(name="Ella", title="Singer", bio="Buy my course")]},
        {"speakers": [SpeakerInput(name="Ella", title="Singer", photo="de/" + "f" * 64 + ".png")]},
    ],
)
def test_every_material_field_goes_through_review(db, published, now, changes) -> None:  # noqa: ANN001
    before = revision_changes(published, EventRevision(changes=material_of(published)))
    assert before == []
    revision = edit(db, published, now, **changes)
    assert revision is not None
    assert revision_changes(published, revision), "the admin sees what changes"
    db.expire_all()
    assert edit(db, published, now) is None  # back to the approved values: withdrawn
    assert db.get(EventRevision, revision.id).status == RevisionStatus.SUPERSEDED


def test_a_non_material_edit_makes_no_revision(db, published, now, make_category) -> None:  # noqa: ANN001
    music = make_category(name="Music")
    assert edit(db, published, now, category_id=music.id, tags="jazz") is None
    assert published.category_id == music.id and published.tags == ["jazz"]
    assert db.scalars(select(EventRevision)).all() == []


def test_saving_again_keeps_or_replaces_the_pending_revision(db, published, now) -> None:  # noqa: ANN001
    first = edit(db, published, now, title="Swing night")
    assert edit(db, published, now, title="Swing night", tags="swing") is first  # review goes on
    second = edit(db, published, now, title="Swing night at eight")
    assert second.id != first.id
    assert first.status == RevisionStatus.SUPERSEDED and second.status == RevisionStatus.PENDING
    assert edit(db, published, now) is None
    assert second.status == RevisionStatus.SUPERSEDED
    assert "event.changes_withdrawn" in actions(db, published.id)


def test_approving_makes_the_changes_public(db, published, admin, now, notification_mail) -> None:  # noqa: ANN001
    version = published.version
    day = (now + timedelta(days=200)).date()
    revision = edit(
        db,
        published,
        now,
        title="Swing night",
        starts_local=datetime.combine(day, time(20, 0)),
        ends_local=datetime.combine(day, time(23, 0)),
        speakers=[SpeakerInput(name="Louis", bio="Trumpet")],
    )
    approve_revision(db, revision, admin=admin, now=now)
    db.expire_all()
    assert (published.title, published.slug) == ("Swing night", "swing-night")
    local_start = datetime.combine(day, time(20, 0), tzinfo=ZoneInfo(published.timezone))
    assert published.starts_at == local_start
    assert [(s.name, s.bio) for s in published.speakers] == [("Louis", "Trumpet")]
    assert published.version == version + 2  # the edit, then the approval
    assert revision.status == RevisionStatus.APPROVED and revision.decided_by_id == admin.id
    assert actions(db, published.id)[-1] == "event.changes_approved"
    mail = notification_mail(published.organizer.email)[-1]
    assert mail["subject"] == "Changes published: Swing night"
    assert revision_queue(db) == []


def test_rejecting_needs_a_reason_and_keeps_the_public_version(
    db, published, admin, now, notification_mail
) -> None:  # noqa: ANN001
    revision = edit(db, published, now, description="Send bitcoin first")
    with pytest.raises(EventInvalid, match="Explain the decision"):
        reject_revision(db, revision, admin=admin, reason="  ", now=now)
    assert revision.status == RevisionStatus.PENDING
    reject_revision(db, revision, admin=admin, reason="Payment outside the site.", now=now)
    db.expire_all()
    assert published.description == "Bring a **blanket**."
    assert revision.status == RevisionStatus.REJECTED
    assert revision.rejection_reason == "Payment outside the site."
    assert "Payment outside the site." in notification_mail(published.organizer.email)[-1]["text"]


def test_a_replaced_or_decided_revision_cannot_be_decided(db, published, admin, now) -> None:  # noqa: ANN001
    seen = edit(db, published, now, title="What the admin saw")
    edit(db, published, now, title="What the organizer swapped in")
    for decide in (
        lambda: approve_revision(db, seen, admin=admin, now=now),
        lambda: reject_revision(db, seen, admin=admin, reason="No.", now=now),
    ):
        with pytest.raises(EventError, match="replaced or withdrawn"):
            decide()
    db.expire_all()
    assert published.title == "Jazz in the Park"


def test_an_edit_under_first_review_restarts_it(db, make_user, admin, now) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = create_event(db, organizer, valid_input(), now=now)
    submit_event(db, event, actor=organizer, now=now)
    seen = event.version
    assert update_event(db, event, valid_input(title="Swapped"), actor=organizer, now=now) is None
    assert event.title == "Swapped" and event.version == seen + 1  # not public: applied
    for decide in (
        lambda: approve_event(db, event, admin=admin, version=seen, now=now),
        lambda: reject_event(db, event, admin=admin, reason="No.", version=seen, now=now),
    ):
        with pytest.raises(EventError, match=CHANGED_MEANWHILE):
            decide()
    assert event.status == EventStatus.SUBMITTED
    approve_event(db, event, admin=admin, version=event.version, now=now)
    assert event.status == EventStatus.PUBLISHED


@pytest.mark.parametrize("leave", ["cancel", "unpublish"])
def test_leaving_the_public_site_drops_pending_changes(db, published, admin, now, leave) -> None:  # noqa: ANN001
    revision = edit(db, published, now, title="Later")
    if leave == "cancel":
        cancel_event(db, published, actor=published.organizer, now=now)
    else:
        unpublish_event(db, published, admin=admin, reason="Reported.", now=now)
    assert revision.status == RevisionStatus.SUPERSEDED and revision_queue(db) == []
    with pytest.raises(EventError):
        approve_revision(db, revision, admin=admin, now=now)


def test_the_diff_an_admin_reads(db, published, now) -> None:  # noqa: ANN001
    revision = edit(
        db,
        published,
        now,
        title="Swing night",
        description="Bring a **blanket** and a friend.",
        timezone="Europe/Lisbon",
    )
    changes = {change.name: change for change in revision_changes(published, revision)}
    assert list(changes) == ["title", "description", "starts_at", "ends_at", "timezone"]
    assert (changes["title"].before, changes["title"].after) == ("Jazz in the Park", "Swing night")
    # The same wall-clock time in another zone: each shown in its own zone.
    assert changes["starts_at"].before == changes["starts_at"].after == f"{DAY:%a %d %b %Y}, 19:00"
    assert changes["description"].words == [  # word by word, spaces kept
        ("same", "Bring a "),
        ("del", "**blanket**."),
        ("ins", "**blanket** and a friend."),
    ]
    runs = word_diff(
        " Doors open at 18:30.\n\nBring a blanket.", " Doors open at 18:00.\n\nBring a rug."
    )
    assert runs == [
        ("same", " Doors open at "),
        ("del", "18:30.\n\n"),
        ("ins", "18:00.\n\n"),
        ("same", "Bring a "),
        ("del", "blanket."),
        ("ins", "rug."),
    ]


def test_the_organizer_form_shows_the_pending_changes(db, published, now) -> None:  # noqa: ANN001
    revision = edit(db, published, now, title="Swing night", speakers=[SpeakerInput(name="Lou")])
    shown = as_proposed(published, revision)
    assert shown.title == "Swing night" and [s.name for s in shown.speakers] == ["Lou"]
    assert shown.tags == published.tags and shown not in db
    assert published.title == "Jazz in the Park"
