"""Admin: every event in every status; unpublish, feature on the home page, cancel."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events import admin_actions
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import REASON_MAX
from app.domain.events.models import EventStatus
from app.web.authz import requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.htmx import render_page_or_fragment

bp = Blueprint("admin_events", __name__, url_prefix="/admin/events")


@bp.get("")
@requires_role(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Find events by title or organizer email, filter by status."""
    query = request.args.get("q", "").strip()[:200]
    status_filter = request.args.get("status", "")
    status = EventStatus(status_filter) if status_filter in set(EventStatus) else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found, more = admin_actions.browse_events(get_session(), status=status, query=query, page=page)
    return render_page_or_fragment(
        "admin/events.html",
        "admin/_events_table.html",
        events=found,
        more=more,
        page=page,
        q=query,
        status=status.value if status else "",
        statuses=list(EventStatus),
    )


def _event_page(
    event_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/event.html",
        event=admin_actions.get_event(get_session(), event_id),
        errors=errors or {},
        reason_max=REASON_MAX,
        sent=request.form,
        now=utcnow(),
    ), status


@bp.get("/<int:event_id>")
@requires_role(Role.ADMIN)
def show(event_id: int) -> ResponseReturnValue:
    """One event: its state, and the admin's actions on it."""
    return _event_page(event_id)


def _refused(event_id: int, form: str, error: EventError | EventInvalid) -> ResponseReturnValue:
    """The event page again with the refusal beside the form that caused it; nothing changed."""
    get_session().rollback()
    return _event_page(event_id, errors={form: error.message}, status=http_status(error))


def _done(event_id: int, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for(".show", event_id=event_id), 303)


@bp.post("/<int:event_id>/unpublish")
@requires_role(Role.ADMIN)
def unpublish(event_id: int) -> ResponseReturnValue:
    """Take a published event off the site; its organizer reads the reason."""
    try:
        event = admin_actions.unpublish(
            get_session(),
            event_id,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
        )
    except (EventError, EventInvalid) as error:
        return _refused(event_id, "unpublish", error)
    return _done(event_id, f"Unpublished “{event.title}”.")


@bp.post("/<int:event_id>/feature")
@requires_role(Role.ADMIN)
def feature(event_id: int) -> ResponseReturnValue:
    """Show the event in the home page's featured list."""
    try:
        event = admin_actions.feature(get_session(), event_id, admin=signed_in_user(), now=utcnow())
    except EventError as error:
        return _refused(event_id, "feature", error)
    return _done(event_id, f"“{event.title}” is featured on the home page.")


@bp.post("/<int:event_id>/unfeature")
@requires_role(Role.ADMIN)
def unfeature(event_id: int) -> ResponseReturnValue:
    """Take the event off the featured list."""
    try:
        event = admin_actions.unfeature(
            get_session(), event_id, admin=signed_in_user(), now=utcnow()
        )
    except EventError as error:
        return _refused(event_id, "feature", error)
    return _done(event_id, f"“{event.title}” is no longer featured.")


@bp.post("/<int:event_id>/cancel")
@requires_role(Role.ADMIN)
def cancel(event_id: int) -> ResponseReturnValue:
    """Cancel the event: bookings cancelled, paid ones refunded, holders and organizer told."""
    try:
        sales = admin_actions.cancel(
            get_session(),
            event_id,
            admin=signed_in_user(),
            reason=request.form.get("reason", ""),
            now=utcnow(),
        )
    except (EventError, EventInvalid) as error:
        return _refused(event_id, "cancel", error)
    return _done(
        event_id,
        f"Event cancelled, with its {sales.bookings} booking"
        f"{'' if sales.bookings == 1 else 's'}. Everyone affected is being told.",
    )
