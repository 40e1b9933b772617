"""Attendees report abuse; admins dismiss a report or unpublish the event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound
from app.domain.events.errors import EventError, invalid
from app.domain.events.lifecycle import REASON_MAX
from app.domain.events.models import Event, EventReport, EventStatus, ReportStatus
from app.domain.events.moderation import unpublish_event

REASON_MIN = 10


def report_event(
    session: Session, event: Event, *, reporter: User, reason: str, now: datetime
) -> EventReport:
    """File a report on a published event (one open report per person and event)."""
    if event.status != EventStatus.PUBLISHED:
        raise NotFound("We could not find that event.")
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise invalid("reason", f"Tell us what is wrong in at least {REASON_MIN} characters.")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"The reason must be at most {REASON_MAX} characters.")
    report = EventReport(event=event, reporter_id=reporter.id, reason=reason, created_at=now)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        raise EventError(
            "You have already reported this event; an admin will look at it."
        ) from None
    record(session, "event.reported", actor_id=reporter.id, target=event, now=now)
    return report


def open_reports(session: Session) -> list[EventReport]:
    """Reports waiting for an admin, oldest first."""
    return list(
        session.scalars(
            select(EventReport)
            .where(EventReport.status == ReportStatus.OPEN)
            .options(joinedload(EventReport.event), joinedload(EventReport.reporter))
            .order_by(EventReport.created_at, EventReport.id)
        )
    )


def get_open_report(session: Session, report_id: int) -> EventReport:
    report = session.get(EventReport, report_id, with_for_update=True)
    if report is None or report.status != ReportStatus.OPEN:
        raise NotFound("That report is no longer open.")
    return report


def dismiss_report(
    session: Session, report: EventReport, *, admin: User, now: datetime
) -> EventReport:
    """Close a report without acting on the event."""
    report.status = ReportStatus.DISMISSED
    report.resolved_by_id = admin.id
    report.resolved_at = now
    session.flush()
    record(session, "report.dismissed", actor_id=admin.id, target=report, now=now)
    return report


def unpublish_reported_event(
    session: Session, report: EventReport, *, admin: User, reason: str, now: datetime
) -> Event:
    """Unpublish the reported event and close every open report on it."""
    event = session.get(Event, report.event_id, with_for_update=True)
    assert event is not None
    if event.status == EventStatus.PUBLISHED:
        unpublish_event(session, event, admin=admin, reason=reason, now=now)
    session.execute(
        update(EventReport)
        .where(EventReport.event_id == event.id, EventReport.status == ReportStatus.OPEN)
        .values(status=ReportStatus.ACTIONED, resolved_by_id=admin.id, resolved_at=now)
        .execution_options(synchronize_session="fetch")
    )
    record(session, "report.actioned", actor_id=admin.id, target=report, now=now)
    return event
