"""Admins approve or reject submitted events, and changes to published events (revisions.py);
the organizer is told either way.

A decision names what the admin saw: a submitted event's version, or a revision (which a
later edit supersedes). An edit made while the admin was looking is never approved unseen:
the decision is refused and the admin looks again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain.accounts.models import User
from app.domain.audit import AuditEntry, record
from app.domain.base import NotFound
from app.domain.events import revisions
from app.domain.events.errors import EventError, invalid
from app.domain.events.lifecycle import REASON_MAX, lock_event, require_status
from app.domain.events.models import Event, EventRevision, EventStatus, RevisionStatus
from app.domain.notifications import event_changes
from app.domain.notifications.queue import email_user
from app.domain.notifications.reminders import follow_event

CHANGED_MEANWHILE = "The organizer changed this event while you were reviewing it. Look again."


def moderation_queue(session: Session) -> list[Event]:
    """Submitted events, the longest waiting first."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.status == EventStatus.SUBMITTED)
            .options(joinedload(Event.organizer), joinedload(Event.category))
            .order_by(Event.submitted_at, Event.id)
        )
    )


def get_submitted_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id, with_for_update=True)
    if event is None:
        raise NotFound("We could not find that event.")
    return event


def clean_reason(reason: str) -> str:
    """A required, bounded explanation the organizer will read."""
    reason = reason.strip()
    if not reason:
        raise invalid("reason", "Explain the decision so the organizer can act on it.")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"The reason must be at most {REASON_MAX} characters.")
    return reason


def _require_version(event: Event, version: int | None) -> None:
    if version != event.version:
        raise EventError(CHANGED_MEANWHILE)


def approve_event(
    session: Session, event: Event, *, admin: User, version: int | None, now: datetime
) -> Event:
    """Publish a submitted event, as of `version` (what the admin reviewed)."""
    require_status(event, {EventStatus.SUBMITTED}, "approved")
    _require_version(event, version)
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    # Published while its organizer is suspended: it shows once they are reactivated.
    event.hidden_at = now if event.organizer.is_suspended else None
    event.rejection_reason = None
    event.updated_at = now
    session.flush()
    decision = record(session, "event.approved", actor_id=admin.id, target=event, now=now)
    tell_organizer(session, event, "event_approved", decision, what="event", now=now)
    return event


def reject_event(
    session: Session,
    event: Event,
    *,
    admin: User,
    reason: str,
    version: int | None,
    now: datetime,
) -> Event:
    """Send a submitted event back to its organizer with the reason, as of `version`."""
    reason = clean_reason(reason)
    require_status(event, {EventStatus.SUBMITTED}, "rejected")
    _require_version(event, version)
    _send_back(session, event, reason=reason, now=now)
    decision = record(
        session, "event.rejected", actor_id=admin.id, target=event, now=now, reason=reason
    )
    tell_organizer(session, event, "event_rejected", decision, what="event", now=now, reason=reason)
    return event


def unpublish_event(
    session: Session, event: Event, *, admin: User, reason: str, now: datetime
) -> Event:
    """Take a published event off the site; the organizer sees why and may fix and resubmit.
    Changes waiting for review are dropped: the organizer edits the event directly until it is
    published again. (Its bookings stay as they are, so a sale racing this needs no gate.)"""
    reason = clean_reason(reason)
    event = lock_event(session, event)
    require_status(event, {EventStatus.PUBLISHED}, "unpublished")
    revisions.close_pending(session, event.id)
    _send_back(session, event, reason=reason, now=now)
    decision = record(
        session,
        "event.unpublished",
        actor_id=admin.id,
        target=event,
        now=now,
        before={"status": EventStatus.PUBLISHED},
        after={"status": event.status},
        reason=reason,
    )
    tell_organizer(
        session, event, "event_rejected", decision, what="unpublished", now=now, reason=reason
    )
    return event


def _send_back(session: Session, event: Event, *, reason: str, now: datetime) -> None:
    event.status = EventStatus.REJECTED
    event.rejection_reason = reason
    event.updated_at = now
    session.flush()


def tell_organizer(
    session: Session,
    event: Event,
    kind: str,
    decision: AuditEntry,
    *,
    what: str,
    now: datetime,
    reason: str = "",
) -> None:
    """Queue the decision's message to the organizer, once per decision (its audit entry)."""
    session.flush()  # the entry's id
    email_user(
        session,
        kind=kind,
        about=("event", event.id, "decision", decision.id),
        user=event.organizer,
        now=now,
        payload={"event_id": event.id, "what": what, "reason": reason},
    )


def revision_queue(session: Session) -> list[EventRevision]:
    """Changes to published events waiting for review, the longest waiting first."""
    return list(
        session.scalars(
            select(EventRevision)
            .join(Event, Event.id == EventRevision.event_id)
            .where(
                EventRevision.status == RevisionStatus.PENDING,
                Event.status == EventStatus.PUBLISHED,
            )
            .options(joinedload(EventRevision.event).joinedload(Event.organizer))
            .order_by(EventRevision.created_at, EventRevision.id)
        )
    )


def get_revision(session: Session, revision_id: int) -> EventRevision:
    revision = session.get(EventRevision, revision_id)
    if revision is None:
        raise NotFound("We could not find those changes.")
    return revision


def _lock_pending(session: Session, revision: EventRevision) -> Event:
    """Lock the event, then the revision (the order an edit takes them in); the revision must
    still be the pending one of a published event."""
    event = lock_event(session, revision.event)
    session.refresh(revision, with_for_update=True)
    if revision.status != RevisionStatus.PENDING:
        raise EventError(
            "These changes were replaced or withdrawn, or someone already decided on them."
        )
    require_status(event, {EventStatus.PUBLISHED}, "changed")
    return event


def approve_revision(
    session: Session, revision: EventRevision, *, admin: User, now: datetime
) -> Event:
    """Make the revision's changes public."""
    event = _lock_pending(session, revision)
    fields = revisions.changed_fields(event, revision.changes)
    event_changes.queue_change(session, event, revision, now=now)  # before the event changes
    revisions.apply_material(session, event, revision.changes)
    if "starts_at" in fields:
        follow_event(session, event, now)  # pending reminders move with the start
    event.version += 1
    event.updated_at = now
    revision.status = RevisionStatus.APPROVED
    revision.decided_by_id = admin.id
    revision.decided_at = now
    session.flush()
    decision = record(
        session,
        "event.changes_approved",
        actor_id=admin.id,
        target=event,
        now=now,
        revision_id=revision.id,
        fields=fields,
    )
    tell_organizer(session, event, "event_approved", decision, what="changes", now=now)
    return event


def reject_revision(
    session: Session, revision: EventRevision, *, admin: User, reason: str, now: datetime
) -> EventRevision:
    """Turn the revision down with a reason; the public version stays as it is."""
    reason = clean_reason(reason)
    event = _lock_pending(session, revision)
    revision.status = RevisionStatus.REJECTED
    revision.rejection_reason = reason
    revision.decided_by_id = admin.id
    revision.decided_at = now
    session.flush()
    decision = record(
        session,
        "event.changes_rejected",
        actor_id=admin.id,
        target=event,
        now=now,
        revision_id=revision.id,
        reason=reason,
    )
    tell_organizer(
        session, event, "event_rejected", decision, what="changes", now=now, reason=reason
    )
    return revision
