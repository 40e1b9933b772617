"""Submit, approve, reject, cancel, complete, report: the event lifecycle and its audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import cancel_event, complete_past_events, submit_event
from app.domain.events.models import EventStatus, ReportStatus
from app.domain.events.moderation import approve_event, moderation_queue, reject_event
from app.domain.events.reports import (
    dismiss_report,
    open_reports,
    report_event,
    unpublish_reported_event,
)
from app.domain.ticketing.models import Booking, BookingStatus


def actions(db, event_id: int) -> list[str]:  # noqa: ANN001
    return list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "events", AuditEntry.target_id == event_id)
            .order_by(AuditEntry.id)
        )
    )


def mails(notification_mail) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(m["to"], m["subject"]) for m in notification_mail()]


@pytest.fixture
def admin(make_user):  # noqa: ANN001, ANN201
    return make_user(role=Role.ADMIN)


def test_submit_then_approve_publishes_and_tells_the_organizer(
    db, make_event, admin, now, notification_mail
) -> None:  # noqa: ANN001, E501
    event = make_event(status=EventStatus.DRAFT)
    submit_event(db, event, actor=event.organizer, now=now)
    assert event.status == EventStatus.SUBMITTED and event.submitted_at == now
    assert moderation_queue(db) == [event]
    approve_event(db, event, admin=admin, version=event.version, now=now)
    assert event.status == EventStatus.PUBLISHED and event.published_at == now
    assert moderation_queue(db) == []
    assert actions(db, event.id) == ["event.submitted", "event.approved"]
    assert mails(notification_mail) == [(event.organizer.email, f"Published: {event.title}")]


def test_reject_needs_a_reason_the_organizer_sees_and_can_resubmit(
    db, make_event, admin, now, notification_mail
) -> None:  # noqa: ANN001
    event = make_event(status=EventStatus.SUBMITTED)
    with pytest.raises(EventInvalid, match="Explain the decision"):
        reject_event(db, event, admin=admin, reason="   ", version=event.version, now=now)
    assert event.status == EventStatus.SUBMITTED
    reject_event(
        db, event, admin=admin, reason="Add the venue address.", version=event.version, now=now
    )
    assert event.status == EventStatus.REJECTED
    assert event.rejection_reason == "Add the venue address."
    assert "Add the venue address." in notification_mail(kind="event_rejected")[0]["text"]
    submit_event(db, event, actor=event.organizer, now=now)
    assert event.status == EventStatus.SUBMITTED
    approve_event(db, event, admin=admin, version=event.version, now=now)
    assert event.rejection_reason is None


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (EventStatus.PUBLISHED, "submit"),
        (EventStatus.CANCELLED, "submit"),
        (EventStatus.DRAFT, "approve"),
        (EventStatus.PUBLISHED, "approve"),
        (EventStatus.DRAFT, "reject"),
        (EventStatus.DRAFT, "cancel"),
        (EventStatus.SUBMITTED, "cancel"),
        (EventStatus.CANCELLED, "cancel"),
    ],
)
def test_transitions_outside_the_lifecycle_are_refused(
    db, make_event, admin, now, status, action
) -> None:  # noqa: ANN001
    event = make_event(status=status)
    calls = {
        "submit": lambda: submit_event(db, event, actor=event.organizer, now=now),
        "approve": lambda: approve_event(db, event, admin=admin, version=event.version, now=now),
        "reject": lambda: reject_event(
            db, event, admin=admin, reason="No.", version=event.version, now=now
        ),
        "cancel": lambda: cancel_event(db, event, actor=event.organizer, now=now),
    }
    with pytest.raises(EventError):
        calls[action]()
    assert event.status == status
    assert actions(db, event.id) == []


def test_an_event_that_already_started_cannot_be_submitted(db, make_event, now) -> None:  # noqa: ANN001
    event = make_event(status=EventStatus.DRAFT, starts_at=now - timedelta(hours=1))
    with pytest.raises(EventError, match="already started"):
        submit_event(db, event, actor=event.organizer, now=now)


def test_cancel_tells_booking_holders(db, make_event, make_user, now, notification_mail) -> None:  # noqa: ANN001
    event = make_event()
    holder, gone = make_user(), make_user()
    for user, status in ((holder, BookingStatus.CONFIRMED), (gone, BookingStatus.CANCELLED)):
        db.add(
            Booking(
                reference=f"R{user.id:06d}",
                user_id=user.id,
                event_id=event.id,
                status=status,
                quantity=1,
            )
        )
    db.flush()
    cancel_event(db, event, actor=event.organizer, now=now, reason="Storm warning")
    assert event.status == EventStatus.CANCELLED
    assert [(m["to"], m["subject"]) for m in notification_mail(kind="event_cancelled")] == [
        (holder.email, f"Cancelled: {event.title}")
    ]
    assert actions(db, event.id) == ["event.cancelled"]


def test_complete_past_events_is_idempotent(db, make_event, now) -> None:  # noqa: ANN001
    ended = make_event(starts_at=now - timedelta(hours=3))
    running = make_event(starts_at=now - timedelta(hours=1))
    draft = make_event(status=EventStatus.DRAFT, starts_at=now - timedelta(days=3))
    assert complete_past_events(db, now) == 1
    assert complete_past_events(db, now) == 0
    assert ended.status == EventStatus.COMPLETED
    assert running.status == EventStatus.PUBLISHED and draft.status == EventStatus.DRAFT
    assert actions(db, ended.id) == ["event.completed"]


def test_reports_queue_dismiss_and_one_open_report_per_person(
    db, make_event, make_user, admin, now
) -> None:  # noqa: ANN001, E501
    event = make_event()
    reporter = make_user()
    with pytest.raises(EventInvalid, match="at least 10"):
        report_event(db, event, reporter=reporter, reason="bad", now=now)
    report = report_event(db, event, reporter=reporter, reason="This looks like a scam.", now=now)
    with pytest.raises(EventError, match="already reported"):
        report_event(db, event, reporter=reporter, reason="Still a scam, really.", now=now)
    assert open_reports(db) == [report]
    dismiss_report(db, report, admin=admin, now=now)
    assert report.status == ReportStatus.DISMISSED and open_reports(db) == []
    # Once closed, the same person may report again.
    report_event(db, event, reporter=reporter, reason="It came back, still a scam.", now=now)


def test_unpublish_from_a_report_closes_every_open_report(
    db, make_event, make_user, admin, now
) -> None:  # noqa: ANN001, E501
    event = make_event()
    first = report_event(db, event, reporter=make_user(), reason="Fake tickets sold.", now=now)
    report_event(db, event, reporter=make_user(), reason="Same here, a fake.", now=now)
    unpublish_reported_event(db, first, admin=admin, reason="Reported as fraud.", now=now)
    db.expire_all()
    assert event.status == EventStatus.REJECTED
    assert event.rejection_reason == "Reported as fraud."
    assert open_reports(db) == []
    assert "event.unpublished" in actions(db, event.id)


def test_only_published_events_can_be_reported(db, make_event, make_user, now) -> None:  # noqa: ANN001
    from app.domain.base import NotFound

    draft = make_event(status=EventStatus.DRAFT)
    with pytest.raises(NotFound):
        report_event(db, draft, reporter=make_user(), reason="Whatever this is.", now=now)
