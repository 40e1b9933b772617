"""The back office's 2FA rule (`teams.access.needs_two_factor`), the events a user reaches
(`teams.reachable`), and the attendee list's cursor pages (`backoffice.attendees`)."""

from __future__ import annotations

import pytest

from app.domain.accounts.models import Role
from app.domain.backoffice.attendees import AttendeeFilter, attendee_page, attendees_after
from app.domain.events.models import EventStatus
from app.domain.teams.access import (
    Permission,
    TwoFactorRequired,
    in_a_team,
    needs_two_factor,
    require_two_factor,
)
from app.domain.teams.models import TeamRole
from app.domain.teams.reachable import reachable_events
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking


def test_who_needs_two_factor(db, make_user, make_member) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    assert needs_two_factor(db, owner) and needs_two_factor(db, make_user(role=Role.ADMIN))
    attendee = make_user()
    assert not needs_two_factor(db, attendee) and not in_a_team(db, attendee.id)
    door = make_member(owner, role=TeamRole.CHECKIN, user=make_user(with_2fa=False)).user
    assert in_a_team(db, door.id) and not needs_two_factor(db, door)
    require_two_factor(db, door)  # the door needs none
    sales = make_member(owner, role=TeamRole.SALES, user=make_user(with_2fa=False)).user
    assert needs_two_factor(db, sales)
    with pytest.raises(TwoFactorRequired):
        require_two_factor(db, sales)
    require_two_factor(db, owner)  # the factory turns 2FA on for organizers


def test_reachable_events_are_ones_own_and_the_teams_newest_first(
    db, make_user, make_event, make_member
) -> None:  # noqa: ANN001
    owner, other = make_user(role=Role.ORGANIZER), make_user(role=Role.ORGANIZER)
    mine = [make_event(organizer=owner, status=status) for status in EventStatus]
    theirs = make_event(organizer=other)
    make_event()  # a stranger's
    member = make_member(other, role=TeamRole.SALES, user=owner).user
    found, after = reachable_events(db, member, status=None, before_id=None, limit=4)
    rest, last = reachable_events(db, member, status=None, before_id=after, limit=10)
    assert last is None
    ids = [item.event.id for item in found + rest]
    assert ids == sorted([e.id for e in mine] + [theirs.id], reverse=True)
    permissions = {item.event.id: item.permissions for item in found + rest}
    assert permissions[theirs.id] == {Permission.VIEW_SALES}
    assert permissions[mine[0].id] == frozenset(Permission)
    drafts, _ = reachable_events(db, owner, status=EventStatus.DRAFT, before_id=None, limit=10)
    assert [item.event.status for item in drafts] == [EventStatus.DRAFT]


def test_attendee_cursor_pages_match_the_numbered_pages(db, make_user, make_tier, now) -> None:  # noqa: ANN001
    tier = make_tier(capacity=8)
    for _ in range(3):
        booking = hold_units(
            db, user=make_user(), event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
        )
        confirm_booking(db, booking, now=now)
    chosen = AttendeeFilter()
    rows, after, pages = [], None, 0
    while True:
        page, after = attendees_after(db, tier.event_id, chosen, after=after, limit=4)
        rows += page
        pages += 1
        if after is None:
            break
    assert pages == 2
    assert rows == attendee_page(db, tier.event_id, chosen).rows
