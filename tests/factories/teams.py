"""Factories for organizer teams: a member of an owner's team with a role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.teams.models import TeamMember, TeamRole


@pytest.fixture
def make_member(db: Session, make_user: Callable[..., User]) -> Callable[..., TeamMember]:
    """`make_member(owner, role=TeamRole.SALES, user=None)` -> a flushed membership (a new
    attendee with 2FA on when `user` is not given)."""

    def create(
        owner: User, role: TeamRole = TeamRole.SALES, user: User | None = None
    ) -> TeamMember:
        member = TeamMember(
            owner_id=owner.id, user_id=(user or make_user(with_2fa=True)).id, role=role
        )
        db.add(member)
        db.flush()
        return member

    return create
