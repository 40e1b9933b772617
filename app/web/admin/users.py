"""Admin: the admin home, users and their roles, organizer applications, the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts import audit_log, organizer_applications, roles, suspension
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import OrganizerApplication, Role, User
from app.domain.base import NotFound, utcnow
from app.domain.ticketing import bookings
from app.web.account import mailer, notices
from app.web.authz import requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.htmx import render_page_or_fragment
from app.web.network import client_ip
from app.web.public.booking import offer_settings

bp = Blueprint("admin_users", __name__, url_prefix="/admin")


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.get("/")
@requires_role(Role.ADMIN)
def index() -> ResponseReturnValue:
    """The admin home: what needs attention and where everything is."""
    pending = organizer_applications.count_pending(get_session())
    return render_template("admin/index.html", pending_applications=pending)


@bp.get("/users")
@requires_role(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Find users by name or email, filter by role."""
    query = request.args.get("q", "").strip()[:200]
    role_filter = request.args.get("role", "")
    role = Role(role_filter) if role_filter in set(Role) else None
    page = _page_number()
    found, more = roles.search_users(get_session(), query=query, role=role, page=page)
    return render_page_or_fragment(
        "admin/users.html",
        "admin/_users_table.html",
        users=found,
        more=more,
        page=page,
        q=query,
        role=role.value if role else "",
        roles=list(Role),
    )


@bp.post("/users/<int:user_id>/role")
@requires_role(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role, from the users list or the user's page (`back=user`)."""
    value = request.form.get("role", "")
    if request.form.get("back") == "user":
        back = url_for("admin_users.user", user_id=user_id)
    else:
        back = url_for("admin_users.users", q=request.form.get("q", ""))
    if value not in set(Role):
        flash("Pick a role from the list.", "error")
        return redirect(back), 303
    try:
        user = roles.change_role(
            get_session(),
            user_id,
            Role(value),
            admin=signed_in_user(),
            now=utcnow(),
            ip=client_ip(),
        )
    except AccountError as error:
        flash(error.message, "error")
        return redirect(back), 303
    flash(f"{user.name} is now {user.role.value}.", "success")
    return redirect(back), 303


def _user_page(user_id: int, status: int = 200, error: str = "") -> ResponseReturnValue:
    db = get_session()
    user = db.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that user.")
    suspended_by = db.get(User, user.suspended_by_id) if user.suspended_by_id else None
    latest, booking_count = bookings.latest_bookings(db, user_id=user.id)
    return render_template(
        "admin/user.html",
        user=user,
        suspended_by=suspended_by,
        bookings=latest,
        booking_count=booking_count,
        roles=list(Role),
        reason_max=suspension.REASON_MAX,
        error=error,
        sent_reason=request.form.get("reason", ""),
    ), status


@bp.get("/users/<int:user_id>")
@requires_role(Role.ADMIN)
def user(user_id: int) -> ResponseReturnValue:
    """One user: their state and bookings; their role, suspending, reactivating or resetting
    their 2FA."""
    return _user_page(user_id)


def _back_to_user(user_id: int) -> ResponseReturnValue:
    return redirect(url_for("admin_users.user", user_id=user_id)), 303


@bp.post("/users/<int:user_id>/suspend")
@requires_role(Role.ADMIN)
def suspend(user_id: int) -> ResponseReturnValue:
    """Suspend with a reason the user is told."""
    try:
        target = suspension.suspend(
            get_session(),
            user_id,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
            ip=client_ip(),
            offers=offer_settings(),
        )
    except AccountError as error:
        if error.field == "reason":
            return _user_page(user_id, 422, error.message)
        flash(error.message, "error")
        return _back_to_user(user_id)
    notices.account_suspended(target)
    flash(f"{target.name} is suspended.", "success")
    return _back_to_user(user_id)


@bp.post("/users/<int:user_id>/reactivate")
@requires_role(Role.ADMIN)
def reactivate(user_id: int) -> ResponseReturnValue:
    """Lift the suspension."""
    try:
        target = suspension.reactivate(
            get_session(), user_id, admin=signed_in_user(), now=utcnow(), ip=client_ip()
        )
    except AccountError as error:
        flash(error.message, "error")
        return _back_to_user(user_id)
    notices.account_reactivated(target)
    flash(f"{target.name} can log in again.", "success")
    return _back_to_user(user_id)


@bp.post("/users/<int:user_id>/reset-2fa")
@requires_role(Role.ADMIN)
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    """Turn off the user's second factor (a lost phone): they set it up again."""
    try:
        target = suspension.reset_two_factor(
            get_session(), user_id, admin=signed_in_user(), now=utcnow(), ip=client_ip()
        )
    except AccountError as error:
        flash(error.message, "error")
        return _back_to_user(user_id)
    notices.two_factor_reset(target)
    flash(f"Two-factor authentication of {target.name} is reset.", "success")
    return _back_to_user(user_id)


def _applications_page(
    status: int = 200, errors: dict[int, str] | None = None
) -> ResponseReturnValue:
    db = get_session()
    return render_template(
        "admin/applications.html",
        pending=organizer_applications.pending_applications(db),
        decided=organizer_applications.recent_decisions(db),
        errors=errors or {},
        sent_reason=request.form.get("reason", ""),
    ), status


@bp.get("/applications")
@requires_role(Role.ADMIN)
def applications() -> ResponseReturnValue:
    """Pending organizer applications, oldest first, and the latest decisions."""
    return _applications_page()


def _tell_applicant(application: OrganizerApplication) -> None:
    applicant = get_session().get(User, application.user_id)
    if applicant is None:
        return
    mailer.send(
        applicant.email,
        "application_decided",
        "Your organizer application",
        name=applicant.name,
        application=application,
        link=mailer.absolute_url("account_profile.profile"),
    )


@bp.post("/applications/<int:application_id>/approve")
@requires_role(Role.ADMIN)
def approve(application_id: int) -> ResponseReturnValue:
    """The applicant becomes an organizer."""
    try:
        application = organizer_applications.approve(
            get_session(), application_id, admin=signed_in_user(), now=utcnow(), ip=client_ip()
        )
    except AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("admin_users.applications")), 303
    _tell_applicant(application)
    flash(f"Approved {application.organization_name}.", "success")
    return redirect(url_for("admin_users.applications")), 303


@bp.post("/applications/<int:application_id>/reject")
@requires_role(Role.ADMIN)
def reject(application_id: int) -> ResponseReturnValue:
    """Refuse with a reason the applicant reads on their profile."""
    try:
        application = organizer_applications.reject(
            get_session(),
            application_id,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
            ip=client_ip(),
        )
    except AccountError as error:
        if error.field == "reason":
            return _applications_page(422, {application_id: error.message})
        flash(error.message, "error")
        return redirect(url_for("admin_users.applications")), 303
    _tell_applicant(application)
    flash(f"Rejected {application.organization_name}.", "info")
    return redirect(url_for("admin_users.applications")), 303


@bp.get("/audit")
@requires_role(Role.ADMIN)
def audit() -> ResponseReturnValue:
    """Security events and changes, newest first; filter by actor, action, target and dates."""
    wanted = audit_log.AuditFilter(
        **{
            name: request.args.get(name, "").strip()[:254]
            for name in audit_log.AuditFilter.__dataclass_fields__
        }
    )
    db = get_session()
    error: audit_log.AuditFilterInvalid | None = None
    try:
        page = audit_log.browse(db, wanted, before=request.args.get("before", type=int))
    except audit_log.AuditFilterInvalid as refused:
        error, page = refused, audit_log.AuditPage([], {}, None)
    return render_template(
        "admin/audit.html",
        page=page,
        wanted=wanted,
        error=error,
        actions=audit_log.actions_present(db),
        target_types=audit_log.target_types_present(db),
    ), (http_status(error) if error else 200)
