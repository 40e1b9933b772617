"""'Become an organizer': an attendee applies, an admin approves or rejects with a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.domain import audit
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import ApplicationStatus, OrganizerApplication, Role, User
from app.domain.base import NotFound

MAX_DETAILS = 4000


def latest_application(session: Session, user: User) -> OrganizerApplication | None:
    return session.scalar(
        select(OrganizerApplication)
        .where(OrganizerApplication.user_id == user.id)
        .order_by(OrganizerApplication.created_at.desc(), OrganizerApplication.id.desc())
        .limit(1)
    )


def apply(
    session: Session,
    user: User,
    *,
    organization_name: str,
    details: str,
    now: datetime,
    ip: str | None = None,
) -> OrganizerApplication:
    """File an application; one pending application per user (the database enforces it too)."""
    if user.role != Role.ATTENDEE:
        raise AccountError("Your account can already organize events.", code="not_attendee")
    if user.email_verified_at is None:
        raise AccountError("Confirm your email address before applying.", code="unverified")
    name = " ".join(organization_name.split())
    if not name:
        raise AccountError("Enter your organization's name.", field="organization_name")
    if len(name) > 200:
        raise AccountError("Use at most 200 characters.", field="organization_name")
    details = details.strip()
    if len(details) > MAX_DETAILS:
        raise AccountError(f"Use at most {MAX_DETAILS} characters.", field="details")
    pending = AccountError(
        "You already have an application waiting for review.", code="already_pending"
    )
    latest = latest_application(session, user)
    if latest is not None and latest.status == ApplicationStatus.PENDING:
        raise pending
    application = OrganizerApplication(
        user_id=user.id,
        organization_name=name,
        details=details,
        created_at=now,
        status=ApplicationStatus.PENDING,
    )
    try:
        with session.begin_nested():
            session.add(application)
            session.flush()
    except IntegrityError as exc:
        raise pending from exc
    audit.record(
        session,
        "organizer_application.submitted",
        actor_id=user.id,
        target=application,
        ip=ip,
        now=now,
    )
    return application


def pending_applications(session: Session) -> list[OrganizerApplication]:
    return list(
        session.scalars(
            select(OrganizerApplication)
            .options(joinedload(OrganizerApplication.user))
            .where(OrganizerApplication.status == ApplicationStatus.PENDING)
            .order_by(OrganizerApplication.created_at)
        )
    )


def count_pending(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).where(OrganizerApplication.status == ApplicationStatus.PENDING)
        )
        or 0
    )


def recent_decisions(session: Session, *, limit: int = 20) -> list[OrganizerApplication]:
    return list(
        session.scalars(
            select(OrganizerApplication)
            .options(joinedload(OrganizerApplication.user))
            .where(OrganizerApplication.status != ApplicationStatus.PENDING)
            .order_by(OrganizerApplication.reviewed_at.desc())
            .limit(limit)
        )
    )


def _pending_for_review(session: Session, application_id: int) -> OrganizerApplication:
    application = session.get(OrganizerApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("We could not find that application.")
    if application.status != ApplicationStatus.PENDING:
        raise AccountError("This application was already decided.", code="already_decided")
    return application


def approve(
    session: Session, application_id: int, *, admin: User, now: datetime, ip: str | None = None
) -> OrganizerApplication:
    """The applicant becomes an organizer under the organization name they gave."""
    application = _pending_for_review(session, application_id)
    applicant = session.get(User, application.user_id, with_for_update=True)
    if applicant is None or applicant.deleted_at is not None:
        raise AccountError("The applicant's account no longer exists.", code="applicant_gone")
    application.status = ApplicationStatus.APPROVED
    application.reviewed_by_id = admin.id
    application.reviewed_at = now
    old_role = applicant.role
    applicant.role = Role.ORGANIZER
    applicant.organization_name = application.organization_name
    audit.record(
        session,
        "organizer_application.approved",
        actor_id=admin.id,
        target=application,
        ip=ip,
        now=now,
    )
    audit.record(
        session,
        "role.changed",
        actor_id=admin.id,
        target=applicant,
        ip=ip,
        now=now,
        before={"role": old_role},
        after={"role": Role.ORGANIZER},
    )
    session.flush()
    return application


def reject(
    session: Session,
    application_id: int,
    *,
    admin: User,
    reason: str,
    now: datetime,
    ip: str | None = None,
) -> OrganizerApplication:
    """Refuse with a reason the applicant reads on their profile page."""
    reason = reason.strip()
    if not reason:
        raise AccountError("Tell the applicant why, so they can fix it.", field="reason")
    if len(reason) > 2000:
        raise AccountError("Use at most 2000 characters.", field="reason")
    application = _pending_for_review(session, application_id)
    application.status = ApplicationStatus.REJECTED
    application.reviewed_by_id = admin.id
    application.reviewed_at = now
    application.reason = reason
    audit.record(
        session,
        "organizer_application.rejected",
        actor_id=admin.id,
        target=application,
        ip=ip,
        now=now,
        reason=reason,
    )
    session.flush()
    return application
