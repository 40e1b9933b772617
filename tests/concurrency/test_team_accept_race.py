"""Ten tabs accept one team invitation at the same moment, each on its own connection: one
membership, one "joined" in the audit log, and the others are told the link is used. The
control shows the race is real: read without the invitation's row lock, every tab finds the
invitation still open before any of them commits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role, User
from app.domain.audit import AuditEntry
from app.domain.invitations import InvitationUsed, check_acceptable
from app.domain.teams import membership
from app.domain.teams.models import TeamMember, TeamRole

TABS = 10


@pytest.fixture
def invited(db, make_user, now):  # noqa: ANN001, ANN201
    """(the invitee's id, the invitation's token), committed."""
    owner = make_user(role=Role.ORGANIZER)
    invitee = make_user(email="sam@example.test")
    token = membership.invite(
        db, owner, invitee.email, TeamRole.SALES, now, accept_link=lambda t: t
    ).token
    db.commit()
    return invitee.id, token


def test_one_invitation_accepted_in_ten_tabs_at_once_makes_one_membership(
    db, now, parallel, invited
) -> None:  # noqa: ANN001
    user_id, token = invited

    def accept(index, session):  # noqa: ANN001, ANN202
        return membership.accept(session, token, session.get(User, user_id), now)

    results = parallel.run(TABS, accept)

    assert sum(isinstance(r, TeamMember) for r in results) == 1
    assert all(isinstance(r, TeamMember | InvitationUsed) for r in results), results
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(TeamMember)) == 1
    joined = select(func.count()).where(AuditEntry.action == "team.joined")
    assert db.scalar(joined) == 1


def test_control_without_the_row_lock_every_tab_finds_the_invitation_open(
    db, now, parallel, invited
) -> None:  # noqa: ANN001
    user_id, token = invited
    looked = threading.Barrier(TABS)

    def look(index, session):  # noqa: ANN001, ANN202
        invitation = membership.find_invitation(session, token)  # no FOR UPDATE
        check_acceptable(invitation, session.get(User, user_id), now)
        looked.wait(timeout=30)  # every tab has looked before any commits
        invitation.accepted_at = now
        return True

    assert parallel.run(TABS, look) == [True] * TABS
