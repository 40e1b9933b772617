"""Admin queues: submitted events and changes to published events (approve / reject), abuse
reports (dismiss / unpublish), and the category list."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.categories import (
    category_usage,
    create_category,
    delete_category,
    get_category,
    list_categories,
    rename_category,
)
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.models import EventRevision, EventStatus, RevisionStatus
from app.domain.events.moderation import (
    approve_event,
    approve_revision,
    get_revision,
    get_submitted_event,
    moderation_queue,
    reject_event,
    reject_revision,
    revision_queue,
)
from app.domain.events.reports import (
    dismiss_report,
    get_open_report,
    open_reports,
    unpublish_reported_event,
)
from app.domain.events.revision_diff import revision_changes
from app.domain.events.revisions import changed_labels
from app.web.authz import requires_role, signed_in_user

bp = Blueprint("admin_moderation", __name__, url_prefix="/admin")


def _queue_page(errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    session = get_session()
    changes = revision_queue(session)
    return render_template(
        "admin/moderation.html",
        events=moderation_queue(session),
        changes=changes,
        changed={r.id: changed_labels(r.event, r.changes) for r in changes},
        errors=errors or {},
        sent_reason=request.form.get("reason", ""),
    ), status


@bp.get("/moderation")
@requires_role(Role.ADMIN)
def queue() -> tuple[str, int]:
    """Submitted events and changes to published events, the longest waiting first."""
    return _queue_page()


def _seen_version() -> int:
    """The version of the event the admin reviewed, which the decision form carries."""
    version = request.form.get("version", type=int)
    if version is None:
        raise EventError("This form is incomplete. Reload the moderation queue and try again.")
    return version


@bp.post("/moderation/<int:event_id>/approve")
@requires_role(Role.ADMIN)
def approve(event_id: int) -> Response:
    """Publish a submitted event, as the admin saw it."""
    session = get_session()
    event = get_submitted_event(session, event_id)
    try:
        approve_event(session, event, admin=signed_in_user(), version=_seen_version(), now=utcnow())
        flash(f"Published “{event.title}”.", "success")
    except EventError as error:
        session.rollback()
        flash(error.message, "error")
    return redirect(url_for(".queue"), 303)


@bp.post("/moderation/<int:event_id>/reject")
@requires_role(Role.ADMIN)
def reject(event_id: int) -> Response | tuple[str, int]:
    """Send a submitted event back with a reason."""
    session = get_session()
    event = get_submitted_event(session, event_id)
    try:
        reject_event(
            session,
            event,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            version=_seen_version(),
            now=utcnow(),
        )
    except EventInvalid as error:
        return _queue_page({event_id: error.message}, 422)
    except EventError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".queue"), 303)
    flash(f"Sent “{event.title}” back to its organizer.", "success")
    return redirect(url_for(".queue"), 303)


def _revision_page(
    revision: EventRevision, *, error: str = "", status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/revision.html",
        revision=revision,
        event=revision.event,
        changes=revision_changes(revision.event, revision),
        decidable=revision.status == RevisionStatus.PENDING
        and revision.event.status == EventStatus.PUBLISHED,
        RevisionStatus=RevisionStatus,
        error=error,
        sent_reason=request.form.get("reason", "") if error else "",
    ), status


@bp.get("/moderation/changes/<int:revision_id>")
@requires_role(Role.ADMIN)
def revision(revision_id: int) -> tuple[str, int]:
    """Changes to a published event: the public version beside the proposed one."""
    return _revision_page(get_revision(get_session(), revision_id))


@bp.post("/moderation/changes/<int:revision_id>/approve")
@requires_role(Role.ADMIN)
def approve_changes(revision_id: int) -> Response:
    """Make the changes public."""
    session = get_session()
    revision = get_revision(session, revision_id)
    try:
        event = approve_revision(session, revision, admin=signed_in_user(), now=utcnow())
    except EventError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".queue"), 303)
    flash(f"The changes to “{event.title}” are public.", "success")
    return redirect(url_for(".queue"), 303)


@bp.post("/moderation/changes/<int:revision_id>/reject")
@requires_role(Role.ADMIN)
def reject_changes(revision_id: int) -> Response | tuple[str, int]:
    """Turn the changes down with a reason; the public version stays."""
    session = get_session()
    revision = get_revision(session, revision_id)
    try:
        reject_revision(
            session,
            revision,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
        )
    except EventInvalid as error:
        return _revision_page(revision, error=error.message, status=422)
    except EventError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".queue"), 303)
    flash(f"Sent the changes to “{revision.event.title}” back to its organizer.", "success")
    return redirect(url_for(".queue"), 303)


def _reports_page(errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/reports.html",
        reports=open_reports(get_session()),
        errors=errors or {},
        sent_reason=request.form.get("reason", ""),
    ), status


@bp.get("/reports")
@requires_role(Role.ADMIN)
def reports() -> tuple[str, int]:
    """Open abuse reports, oldest first."""
    return _reports_page()


@bp.post("/reports/<int:report_id>/dismiss")
@requires_role(Role.ADMIN)
def dismiss(report_id: int) -> Response:
    """Close a report without acting on the event."""
    session = get_session()
    dismiss_report(
        session, get_open_report(session, report_id), admin=signed_in_user(), now=utcnow()
    )
    flash("Report dismissed.", "success")
    return redirect(url_for(".reports"), 303)


@bp.post("/reports/<int:report_id>/unpublish")
@requires_role(Role.ADMIN)
def unpublish(report_id: int) -> Response | tuple[str, int]:
    """Unpublish the reported event (its organizer sees the reason)."""
    session = get_session()
    report = get_open_report(session, report_id)
    try:
        event = unpublish_reported_event(
            session,
            report,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
        )
    except EventInvalid as error:
        return _reports_page({report_id: error.message}, 422)
    flash(f"Unpublished “{event.title}”.", "success")
    return redirect(url_for(".reports"), 303)


def _categories_page(
    *, create_error: str = "", row_errors: dict[int, str] | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    return render_template(
        "admin/categories.html",
        categories=list_categories(session),
        usage=category_usage(session),
        create_error=create_error,
        row_errors=row_errors or {},
    ), status


@bp.get("/categories")
@requires_role(Role.ADMIN)
def categories() -> tuple[str, int]:
    """The category list, with how many events use each."""
    return _categories_page()


@bp.post("/categories")
@requires_role(Role.ADMIN)
def add_category() -> Response | tuple[str, int]:
    """Add a category."""
    try:
        category = create_category(
            get_session(), request.form.get("name", ""), admin=signed_in_user(), now=utcnow()
        )
    except EventInvalid as error:
        return _categories_page(create_error=error.message, status=422)
    flash(f"Added “{category.name}”.", "success")
    return redirect(url_for(".categories"), 303)


@bp.post("/categories/<int:category_id>/rename")
@requires_role(Role.ADMIN)
def rename(category_id: int) -> Response | tuple[str, int]:
    """Rename a category (its URL slug follows)."""
    session = get_session()
    category = get_category(session, category_id)
    try:
        rename_category(
            session, category, request.form.get("name", ""), admin=signed_in_user(), now=utcnow()
        )
    except EventInvalid as error:
        return _categories_page(row_errors={category_id: error.message}, status=422)
    flash("Category renamed.", "success")
    return redirect(url_for(".categories"), 303)


@bp.post("/categories/<int:category_id>/delete")
@requires_role(Role.ADMIN)
def remove(category_id: int) -> Response:
    """Delete an unused category."""
    session = get_session()
    try:
        delete_category(
            session, get_category(session, category_id), admin=signed_in_user(), now=utcnow()
        )
        flash("Category deleted.", "success")
    except EventError as error:
        flash(error.message, "error")
    return redirect(url_for(".categories"), 303)
