"""An organizer saving changes while an admin approves: the changes either wait for review or
make the approval look again; they never go public unreviewed. Real threads; the control shows
that an edit without the event's row lock writes straight into a just-published event."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.events import editing
from app.domain.events.editing import create_event, update_event
from app.domain.events.errors import EventError
from app.domain.events.lifecycle import submit_event
from app.domain.events.models import Event, EventRevision, EventStatus, RevisionStatus
from app.domain.events.moderation import approve_event, get_submitted_event
from tests.domain.test_events_editing import valid_input

WAIT = 30
# Sessions of this database waiting for another transaction's row.
_ROW_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')"
)


def wait_until(session: Session, query: str, expected: object) -> None:
    """Poll `query` (each read sees the latest commit) until it answers `expected`."""
    deadline = time.monotonic() + WAIT
    while session.scalar(text(query)) != expected:
        assert time.monotonic() < deadline, f"{query} never answered {expected!r}"
        time.sleep(0.01)


def signalled(flag: threading.Event) -> None:
    assert flag.wait(WAIT), "the other side never got there"


@pytest.fixture
def under_review(db, make_user, now):  # noqa: ANN001, ANN201
    organizer = make_user(role=Role.ORGANIZER)
    admin = make_user(role=Role.ADMIN)
    event = create_event(db, organizer, valid_input(title="Honest title"), now=now)
    submit_event(db, event, actor=organizer, now=now)
    db.commit()
    return event.id, event.version, organizer.id, admin.id


def approve_then_edit(parallel, now, under_review):  # noqa: ANN001, ANN201
    """The organizer reads the event while it is submitted; the admin approves it; then the
    organizer saves a new title, as from a form opened before the approval."""
    event_id, version, organizer_id, admin_id = under_review
    read = threading.Event()
    published = f"SELECT status = 'published' FROM events WHERE id = {event_id}"

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            event = session.get(Event, event_id)
            assert event.status == EventStatus.SUBMITTED
            read.set()
            wait_until(session, published, True)
            return update_event(
                session,
                event,
                valid_input(title="Scam title"),
                actor=session.get(User, organizer_id),
                now=now,
            )
        signalled(read)
        event = get_submitted_event(session, event_id)
        return approve_event(
            session, event, admin=session.get(User, admin_id), version=version, now=now
        ).status

    return parallel.run(2, act)


def test_an_edit_after_the_approval_waits_for_review(db, now, parallel, under_review) -> None:  # noqa: ANN001
    revision, status = approve_then_edit(parallel, now, under_review)
    assert status == EventStatus.PUBLISHED
    assert isinstance(revision, EventRevision), revision
    db.expire_all()
    event = db.get(Event, under_review[0])
    assert event.title == "Honest title"
    assert db.get(EventRevision, revision.id).status == RevisionStatus.PENDING


def test_control_without_the_row_lock_the_edit_goes_public(
    db, now, parallel, under_review, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setattr(editing, "lock_event", lambda session, event: event)
    revision, status = approve_then_edit(parallel, now, under_review)
    assert status == EventStatus.PUBLISHED and revision is None
    db.expire_all()
    event = db.get(Event, under_review[0])
    assert (event.status, event.title) == (EventStatus.PUBLISHED, "Scam title")


def test_an_approval_waiting_for_an_edit_is_refused(db, now, parallel, under_review) -> None:  # noqa: ANN001
    """The edit holds the event's row; the approval waits for it, then finds a newer version."""
    event_id, version, organizer_id, admin_id = under_review
    edited = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        if index == 0:
            update_event(
                session,
                session.get(Event, event_id),
                valid_input(title="Scam title"),
                actor=session.get(User, organizer_id),
                now=now,
            )
            edited.set()
            wait_until(session, _ROW_WAITERS, 1)
            return None
        signalled(edited)
        event = get_submitted_event(session, event_id)
        return approve_event(
            session, event, admin=session.get(User, admin_id), version=version, now=now
        )

    _, refused = parallel.run(2, act)
    assert isinstance(refused, EventError), refused
    db.expire_all()
    assert db.get(Event, event_id).status == EventStatus.SUBMITTED
