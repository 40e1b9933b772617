"""Who may check in an event's tickets."""

from __future__ import annotations

import pytest

from app.domain.accounts.models import Role
from app.domain.base import NotFound
from app.domain.checkin.access import checkin_event, may_check_in, staffed_events
from app.domain.checkin.models import StaffGrant
from app.domain.events.models import EventStatus


def test_admins_organizers_and_granted_staff_may_check_in(db, make_user, make_event):
    organizer = make_user(role=Role.ORGANIZER)
    other_organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    sibling = make_event(organizer=organizer)
    foreign = make_event(organizer=other_organizer)
    one_event_staff, all_events_staff, stranger = make_user(), make_user(), make_user()
    db.add_all(
        [
            StaffGrant(organizer_id=organizer.id, user_id=one_event_staff.id, event_id=event.id),
            StaffGrant(organizer_id=organizer.id, user_id=all_events_staff.id, event_id=None),
        ]
    )
    db.flush()

    assert may_check_in(db, make_user(role=Role.ADMIN), foreign)
    assert may_check_in(db, organizer, event)
    assert not may_check_in(db, organizer, foreign)
    assert may_check_in(db, one_event_staff, event)
    assert not may_check_in(db, one_event_staff, sibling)
    assert may_check_in(db, all_events_staff, event) and may_check_in(db, all_events_staff, sibling)
    assert not may_check_in(db, all_events_staff, foreign)
    assert not may_check_in(db, stranger, event)

    assert staffed_events(db, one_event_staff) == [event]
    assert {e.id for e in staffed_events(db, all_events_staff)} == {event.id, sibling.id}
    assert staffed_events(db, stranger) == []
    with pytest.raises(NotFound):
        checkin_event(db, one_event_staff, sibling.id)
    with pytest.raises(NotFound):
        checkin_event(db, one_event_staff, 10**9)
    assert checkin_event(db, one_event_staff, event.id) is event


def test_drafts_have_no_door(db, make_user, make_event):
    organizer = make_user(role=Role.ORGANIZER)
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    staff = make_user()
    db.add(StaffGrant(organizer_id=organizer.id, user_id=staff.id, event_id=None))
    db.flush()
    assert not may_check_in(db, organizer, draft)
    assert not may_check_in(db, staff, draft)
    assert staffed_events(db, staff) == []
