"""Door staff: an organizer invites someone by email to check in one of their events (or all of
them); the invitation is accepted by the signed-in account with that address, which becomes a
`StaffGrant`. Staff reach the door of the granted events and nothing else of the organizer's.

Invitations follow the rules of `app.domain.invitations`; inviting the same address for the
same events again withdraws the earlier link, so one link at a time works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload

from app.domain import audit, invitations
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.models import Role, User
from app.domain.base import NotFound
from app.domain.checkin.access import CHECKIN_STATUSES, staffed_events
from app.domain.checkin.models import StaffGrant, StaffInvitation
from app.domain.events.editing import get_organizer_event
from app.domain.events.models import Event, EventStatus
from app.domain.invitations import InvitationError

# Events stay on the staff's list this long after they end (a late door, counting up).
DOOR_LISTED_AFTER_END = timedelta(hours=12)
# An invitation may name an event still ahead of its organizer: a draft or one under review
# gets its door once published.
INVITABLE_STATUSES = (
    EventStatus.DRAFT,
    EventStatus.SUBMITTED,
    EventStatus.REJECTED,
    EventStatus.PUBLISHED,
)


class StaffError(InvitationError):
    """A rule about door staff refused the request; `field` names the form field."""


@dataclass(frozen=True)
class Invited:
    invitation: StaffInvitation
    token: str  # the raw token: it goes into the mail and nowhere else


def invite(
    session: Session,
    organizer: User,
    email: str,
    event_id: int | None,
    now: datetime,
    *,
    accept_link: Callable[[str], str],
) -> Invited:
    """Invite `email` to check in `organizer`'s event `event_id` (None: all of their events,
    those made later too) and queue the mail with `accept_link(token)` in this transaction.
    Another organizer's event is NotFound; an earlier pending invitation of the address for
    the same events is revoked."""
    email = normalize_email(email)
    event = get_organizer_event(session, event_id, organizer.id) if event_id is not None else None
    if event is not None and event.status not in INVITABLE_STATUSES:
        raise StaffError("That event is over or cancelled.", code="event_closed", field="event")
    if email.lower() == organizer.email.lower():
        raise StaffError(
            "You can check in your own events already.", code="own_address", field="email"
        )
    invitations.check_daily_cap(session, StaffInvitation.organizer_id, organizer.id, now)
    invitee = find_user_by_email(session, email)
    if invitee is not None and _grant_for(session, organizer.id, invitee.id, event_id) is not None:
        raise StaffError(
            f"{email} is already staff for {_scope_phrase(event)}.",
            code="already_staff",
            field="email",
        )
    token, columns = invitations.replace_pending(
        session,
        StaffInvitation,
        email,
        now,
        StaffInvitation.organizer_id == organizer.id,
        StaffInvitation.event_id.is_(None)
        if event_id is None
        else StaffInvitation.event_id == event_id,
    )
    invitation = StaffInvitation(
        organizer_id=organizer.id, event_id=event_id, invited_by_id=organizer.id, **columns
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        "staff.invited",
        actor_id=organizer.id,
        target=invitation,
        now=now,
        email=email,
        event_id=event_id,
    )
    invitations.mail(session, "staff_invitation", invitation, accept_link(token), now)
    return Invited(invitation, token)


def _scope_phrase(event: Event | None) -> str:
    return f"“{event.title}”" if event is not None else "all of your events"


def _grant_for(
    session: Session, organizer_id: int, user_id: int, event_id: int | None
) -> StaffGrant | None:
    return session.scalar(
        select(StaffGrant).where(
            StaffGrant.organizer_id == organizer_id,
            StaffGrant.user_id == user_id,
            StaffGrant.event_id.is_(None) if event_id is None else StaffGrant.event_id == event_id,
        )
    )


def find_invitation(session: Session, token: str, *, lock: bool = False) -> StaffInvitation:
    """The invitation a link's token names (NotFound for any other string)."""
    return invitations.find_by_token(session, StaffInvitation, token, lock=lock)


def accept(session: Session, token: str, user: User, now: datetime) -> StaffGrant:
    """Make `user` staff as the invitation says, once; a refusal changes nothing."""
    invitation = find_invitation(session, token, lock=True)
    invitations.check_acceptable(invitation, user, now)
    # The grant may exist already (invited twice, or granted all events meanwhile): fine.
    session.execute(
        insert(StaffGrant)
        .values(
            organizer_id=invitation.organizer_id,
            user_id=user.id,
            event_id=invitation.event_id,
            granted_by_id=invitation.invited_by_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    grant = _grant_for(session, invitation.organizer_id, user.id, invitation.event_id)
    assert grant is not None  # inserted, or there before
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    session.flush()
    audit.record(
        session,
        "staff.accepted",
        actor_id=user.id,
        target=grant,
        now=now,
        invitation_id=invitation.id,
        organizer_id=invitation.organizer_id,
        event_id=invitation.event_id,
    )
    return grant


def revoke_invitation(
    session: Session, organizer: User, invitation_id: int, now: datetime
) -> StaffInvitation:
    """Withdraw a pending invitation of the organizer's (anyone else's is NotFound)."""
    invitation = session.get(StaffInvitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.organizer_id != organizer.id:
        raise NotFound("We could not find that invitation.")
    if invitation.accepted_at is not None:
        raise invitations.InvitationUsed()
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        session.flush()
        audit.record(
            session,
            "staff.invitation_revoked",
            actor_id=organizer.id,
            target=invitation,
            now=now,
            email=invitation.email,
        )
    return invitation


def remove_staff(session: Session, organizer: User, grant_id: int, now: datetime) -> StaffGrant:
    """Take a grant of the organizer's away (anyone else's is NotFound)."""
    grant = session.get(StaffGrant, grant_id, with_for_update=True)
    if grant is None or grant.organizer_id != organizer.id:
        raise NotFound("We could not find that staff member.")
    _ = grant.user, grant.event  # loaded while the row exists, for the caller to name them
    audit.record(
        session,
        "staff.removed",
        actor_id=organizer.id,
        target=grant,
        now=now,
        user_id=grant.user_id,
        event_id=grant.event_id,
    )
    session.delete(grant)
    session.flush()
    return grant


@dataclass(frozen=True)
class StaffList:
    grants: list[StaffGrant]
    invitations: list[StaffInvitation]  # pending: neither accepted, revoked nor expired


def staff_of(session: Session, organizer: User, now: datetime) -> StaffList:
    """The organizer's staff, and the invitations still waiting for an answer."""
    grants = session.scalars(
        select(StaffGrant)
        .where(StaffGrant.organizer_id == organizer.id)
        .options(joinedload(StaffGrant.user), joinedload(StaffGrant.event))
        .order_by(StaffGrant.created_at, StaffGrant.id)
    )
    invitations = session.scalars(
        select(StaffInvitation)
        .where(
            StaffInvitation.organizer_id == organizer.id,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
            StaffInvitation.expires_at > now,
        )
        .options(joinedload(StaffInvitation.event))
        .order_by(StaffInvitation.created_at, StaffInvitation.id)
    )
    return StaffList(list(grants), list(invitations))


def invitable_events(session: Session, organizer: User, now: datetime) -> list[Event]:
    """The organizer's events an invitation may name: not over, not cancelled."""
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.organizer_id == organizer.id,
                Event.status.in_(INVITABLE_STATUSES),
                Event.ends_at > now,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def door_events(session: Session, user: User, now: datetime) -> list[Event]:
    """The events whose door `user` may open, not long over, soonest first: the ones they
    staff, and an organizer's own. (Admins may open any event's door; it is not listed.)"""
    events = {e.id: e for e in staffed_events(session, user)}
    if user.role == Role.ORGANIZER:
        own = session.scalars(
            select(Event).where(Event.organizer_id == user.id, Event.status.in_(CHECKIN_STATUSES))
        )
        events.update((e.id, e) for e in own)
    return sorted(
        (e for e in events.values() if e.ends_at > now - DOOR_LISTED_AFTER_END),
        key=lambda e: (e.starts_at, e.id),
    )
