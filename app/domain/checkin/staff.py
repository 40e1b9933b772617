"""Door staff: an organizer invites someone by email to check in one of their events (or all of
them); the invitation is accepted by the signed-in account with that address, which becomes a
`StaffGrant`. Staff reach the door of the granted events and nothing else of the organizer's.

An invitation's token travels only in the mail (and its queued message); the table keeps its
SHA-256 (as password reset tokens do, `accounts.tokens`). An invitation is used at most once,
expires after `INVITATION_TTL`, and inviting the same address for the same events again
revokes the earlier one, so one link at a time works.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload

from app.domain import audit
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.models import Role, User
from app.domain.api_tokens.opaque import digest as token_digest
from app.domain.base import DomainError, NotFound
from app.domain.checkin.access import CHECKIN_STATUSES, staffed_events
from app.domain.checkin.models import StaffGrant, StaffInvitation
from app.domain.events.editing import get_organizer_event
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.models import Channel
from app.domain.notifications.queue import notification_key, notify
from app.domain.teams.models import TeamInvitation

INVITATION_TTL = timedelta(days=7)
# Invitations (re-sent ones included) one organizer may send in a day: each one mails an
# address the organizer typed, so the cap is what keeps the site from being a spam relay.
INVITATIONS_PER_DAY = 50
INVITATIONS_WINDOW = timedelta(days=1)
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

UNKNOWN_INVITATION = "That invitation link is not valid. Ask the organizer for a new one."


class StaffError(DomainError):
    """A rule about staff invitations refused the request; `field` names the form field."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class InvitationForAnotherAccount(StaffError):
    """The signed-in account's address is not the one invited: nothing is granted."""

    code = "another_account"

    def __init__(self, invited: str) -> None:
        self.invited_hint = masked_email(invited)
        super().__init__(
            f"This invitation is for {self.invited_hint}, not for the account you are signed "
            "in with. Log out and sign in with that address to accept it."
        )


class InvitationNeedsVerifiedEmail(StaffError):
    code = "email_not_verified"

    def __init__(self) -> None:
        super().__init__(
            "Confirm your email address first (open the link we sent you, or send a new one "
            "from your profile), then open this invitation again."
        )


class InvitationClosed(StaffError):
    """An invitation that can no longer be accepted: expired, revoked or already used."""


class InvitationExpired(InvitationClosed):
    code = "expired"

    def __init__(self) -> None:
        super().__init__("This invitation has expired. Ask the organizer for a new one.")


class InvitationRevoked(InvitationClosed):
    code = "revoked"

    def __init__(self) -> None:
        super().__init__("The organizer withdrew this invitation.")


class InvitationUsed(InvitationClosed):
    code = "used"

    def __init__(self) -> None:
        super().__init__("This invitation has already been accepted.")


class TooManyInvitations(StaffError):
    code = "too_many_invitations"

    def __init__(self) -> None:
        super().__init__(
            f"You have sent {INVITATIONS_PER_DAY} invitations in the last day. Try again tomorrow.",
            field="email",
        )


def masked_email(email: str) -> str:
    """Enough of an address for its owner to recognise it: `j***@example.test`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


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
    # One organizer's invitations one at a time: the day's count and the replacement of an
    # earlier invitation are then exact under double clicks.
    session.execute(select(User.id).where(User.id == organizer.id).with_for_update(key_share=True))
    sent = session.scalar(
        select(func.count())
        .select_from(StaffInvitation)
        .where(
            StaffInvitation.organizer_id == organizer.id,
            StaffInvitation.created_at > now - INVITATIONS_WINDOW,
        )
    )
    if (sent or 0) >= INVITATIONS_PER_DAY:
        raise TooManyInvitations()
    invitee = find_user_by_email(session, email)
    if invitee is not None and _grant_for(session, organizer.id, invitee.id, event_id) is not None:
        raise StaffError(
            f"{email} is already staff for {_scope_phrase(event)}.",
            code="already_staff",
            field="email",
        )
    earlier = session.scalars(
        select(StaffInvitation).where(
            StaffInvitation.organizer_id == organizer.id,
            func.lower(StaffInvitation.email) == email.lower(),
            StaffInvitation.event_id.is_(None)
            if event_id is None
            else StaffInvitation.event_id == event_id,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
    )
    for pending in earlier:
        pending.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        organizer_id=organizer.id,
        event_id=event_id,
        email=email,
        token_hash=token_digest(token),
        invited_by_id=organizer.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
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
    # To the address, which may have no account yet: no in-app copy.
    notify(
        session,
        key=notification_key("staff_invitation", Channel.EMAIL, "staff_invitation", invitation.id),
        kind="staff_invitation",
        channel=Channel.EMAIL,
        now=now,
        recipient=email,
        payload={"invitation_id": invitation.id, "link": accept_link(token)},
    )
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
    query = select(StaffInvitation).where(StaffInvitation.token_hash == token_digest(token))
    if lock:
        query = query.with_for_update(of=StaffInvitation)
    invitation = session.scalar(query.options(joinedload(StaffInvitation.event)))
    if invitation is None:
        raise NotFound(UNKNOWN_INVITATION)
    return invitation


def check_acceptable(
    invitation: StaffInvitation | TeamInvitation, user: User, now: datetime
) -> None:
    """Raise the reason `user` cannot accept `invitation` now, if any (invitations into an
    organizer's team follow the same rules)."""
    if invitation.revoked_at is not None:
        raise InvitationRevoked()
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    if invitation.expires_at <= now:
        raise InvitationExpired()
    if user.email.lower() != invitation.email.lower():
        raise InvitationForAnotherAccount(invitation.email)
    if user.email_verified_at is None:
        raise InvitationNeedsVerifiedEmail()


def accept(session: Session, token: str, user: User, now: datetime) -> StaffGrant:
    """Make `user` staff as the invitation says, once; a refusal changes nothing."""
    invitation = find_invitation(session, token, lock=True)
    check_acceptable(invitation, user, now)
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
        raise InvitationUsed()
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
