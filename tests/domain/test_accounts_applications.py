"""'Become an organizer' applications and admin role changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain.accounts import organizer_applications as apps
from app.domain.accounts import roles
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import ApplicationStatus, OrganizerApplication, Role
from app.domain.audit import AuditEntry
from app.domain.base import NotFound


def _apply(db, user, now, name="Riverside Music"):  # noqa: ANN001, ANN202
    return apps.apply(db, user, organization_name=name, details="Concerts", now=now)


def test_approval_makes_the_applicant_an_organizer(db, now, make_user) -> None:  # noqa: ANN001
    admin, applicant = make_user(role=Role.ADMIN), make_user()
    application = _apply(db, applicant, now, name="  Riverside   Music ")
    assert application.organization_name == "Riverside Music"
    assert apps.count_pending(db) == 1
    apps.approve(db, application.id, admin=admin, now=now)
    assert applicant.role == Role.ORGANIZER
    assert applicant.organization_name == "Riverside Music"
    assert (application.status, application.reviewed_by_id) == (
        ApplicationStatus.APPROVED,
        admin.id,
    )
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "organizer_application.submitted",
        "organizer_application.approved",
        "role.changed",
    ]


def test_rejection_needs_a_reason_the_applicant_sees(db, now, make_user) -> None:  # noqa: ANN001
    admin, applicant = make_user(role=Role.ADMIN), make_user()
    application = _apply(db, applicant, now)
    with pytest.raises(AccountError) as caught:
        apps.reject(db, application.id, admin=admin, reason="   ", now=now)
    assert caught.value.field == "reason"
    assert application.status == ApplicationStatus.PENDING
    apps.reject(db, application.id, admin=admin, reason="Please add a website.", now=now)
    latest = apps.latest_application(db, applicant)
    assert (latest.status, latest.reason) == (ApplicationStatus.REJECTED, "Please add a website.")
    assert applicant.role == Role.ATTENDEE
    # After a rejection the attendee may apply again.
    assert _apply(db, applicant, now).status == ApplicationStatus.PENDING


def test_one_pending_application_at_a_time(db, now, make_user) -> None:  # noqa: ANN001
    applicant = make_user()
    _apply(db, applicant, now)
    with pytest.raises(AccountError, match="already have an application"):
        _apply(db, applicant, now)
    assert db.scalar(select(func.count()).select_from(OrganizerApplication)) == 1


def test_the_database_refuses_a_second_pending_application(db, make_user) -> None:  # noqa: ANN001
    applicant = make_user()
    db.add(OrganizerApplication(user_id=applicant.id, organization_name="A", details=""))
    db.flush()
    db.add(OrganizerApplication(user_id=applicant.id, organization_name="B", details=""))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"organization_name": "  "}, "organization_name"),
        ({"organization_name": "x" * 201}, "organization_name"),
        ({"details": "x" * 4001}, "details"),
    ],
)
def test_bad_applications_are_refused(db, now, make_user, kwargs, field) -> None:  # noqa: ANN001
    values = {"organization_name": "Fine", "details": "", **kwargs}
    with pytest.raises(AccountError) as caught:
        apps.apply(db, make_user(), now=now, **values)
    assert caught.value.field == field
    assert apps.count_pending(db) == 0


def test_only_verified_attendees_apply(db, now, make_user) -> None:  # noqa: ANN001
    with pytest.raises(AccountError, match="already organize"):
        _apply(db, make_user(role=Role.ORGANIZER), now)
    with pytest.raises(AccountError, match="Confirm your email"):
        _apply(db, make_user(verified=False), now)


def test_a_decided_application_cannot_be_decided_again(db, now, make_user) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    application = _apply(db, make_user(), now)
    apps.approve(db, application.id, admin=admin, now=now)
    with pytest.raises(AccountError, match="already decided"):
        apps.reject(db, application.id, admin=admin, reason="Changed my mind", now=now)
    with pytest.raises(NotFound):
        apps.approve(db, 999999, admin=admin, now=now)


def test_role_change_is_audited_and_never_on_oneself(db, now, make_user) -> None:  # noqa: ANN001
    admin, user = make_user(role=Role.ADMIN), make_user()
    roles.change_role(db, user.id, Role.ORGANIZER, admin=admin, now=now, ip="192.0.2.7")
    assert user.role == Role.ORGANIZER
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "role.changed"))
    assert (entry.actor_id, entry.target_id, entry.data) == (
        admin.id,
        user.id,
        {"before": {"role": "attendee"}, "after": {"role": "organizer"}},
    )
    with pytest.raises(AccountError, match="your own role"):
        roles.change_role(db, admin.id, Role.ATTENDEE, admin=admin, now=now)
    assert admin.role == Role.ADMIN
    with pytest.raises(NotFound):
        roles.change_role(db, 999999, Role.ADMIN, admin=admin, now=now)


def test_user_search_matches_name_or_email_literally(db, make_user) -> None:  # noqa: ANN001
    make_user(name="Percy 100%", email="percy@example.test")
    make_user(name="Other", email="o_ther@example.test")
    make_user(name="Plain", email="plain@example.test")
    found, more = roles.search_users(db, query="100%")
    assert [u.name for u in found] == ["Percy 100%"] and not more
    assert [u.email for u in roles.search_users(db, query="o_t")[0]] == ["o_ther@example.test"]
    assert len(roles.search_users(db, query="EXAMPLE.test")[0]) == 3
    assert roles.search_users(db, role=Role.ADMIN)[0] == []
