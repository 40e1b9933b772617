"""The organizer dashboard: events by status; create, edit, duplicate, delete, submit, cancel.

Material changes to a published event wait for an admin's review (domain/events/revisions.py):
the form shows them while they wait, with their state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request
from flask import url_for as flask_url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.backoffice.organizer_dashboard import organizer_summary
from app.domain.base import utcnow
from app.domain.events import revisions
from app.domain.events.categories import list_categories
from app.domain.events.editing import (
    EventInput,
    create_event,
    delete_event,
    duplicate_event,
    events_by_status,
    time_zone_names,
    update_event,
    validate_event_input,
)
from app.domain.events.errors import EventError, EventInvalid
from app.domain.events.lifecycle import cancel_event, submit_event
from app.domain.events.models import Event, EventRevision, EventStatus, RevisionStatus
from app.web.authz import (
    back_office_home,
    organizer_event_or_404,
    requires_organizer_or_member,
    requires_role,
    signed_in_user,
)
from app.web.organizer.event_form import EventForm, build_form, read_form, show_errors
from app.web.public.events import current_storage

bp = Blueprint("organizer_events", __name__, url_prefix="/organizer")
T = TypeVar("T")

DASHBOARD_ORDER = (
    EventStatus.DRAFT,
    EventStatus.REJECTED,
    EventStatus.SUBMITTED,
    EventStatus.PUBLISHED,
    EventStatus.CANCELLED,
    EventStatus.COMPLETED,
)


def _edit_url(event: Event) -> str:
    return flask_url_for("organizer_events.edit", event_id=event.id)


@bp.get("/")
@requires_organizer_or_member
def dashboard() -> ResponseReturnValue:
    """Sales today and this week, the coming week's events, then every event by status; a
    team member, who has no events of their own, goes to the teams they are in."""
    if signed_in_user().role != Role.ORGANIZER:
        return redirect(back_office_home())
    session = get_session()
    organizer_id = signed_in_user().id
    grouped = events_by_status(session, organizer_id)
    events = [event for by_status in grouped.values() for event in by_status]
    return render_template(
        "organizer/dashboard.html",
        grouped=grouped,
        summary=organizer_summary(session, organizer_id, events, now=utcnow()),
        pending_changes=revisions.events_with_pending_changes(session, organizer_id),
        order=DASHBOARD_ORDER,
        EventStatus=EventStatus,
    )


def _render_form(form: EventForm, event: Event | None, status: int = 200) -> tuple[str, int]:
    revision = None
    if event is not None and event.status == EventStatus.PUBLISHED:
        revision = revisions.latest_revision(get_session(), event.id)
    return render_template(
        "organizer/events_form.html",
        form=form,
        event=event,
        revision=revision,
        changed=_changed_labels(event, revision),
        zones=time_zone_names(),
        EventStatus=EventStatus,
        RevisionStatus=RevisionStatus,
        material=[revisions.FIELD_LABELS[name] for name in revisions.MATERIAL_FIELDS],
    ), status


def _changed_labels(event: Event | None, revision: EventRevision | None) -> list[str]:
    if event is None or revision is None or revision.status == RevisionStatus.APPROVED:
        return []
    return revisions.changed_labels(event, revision.changes)


def _save(form: EventForm, save: Callable[[EventInput], T]) -> tuple[bool, T | None]:
    """Validate and `save`; (False, None) when the form must be shown again with its errors."""
    parsed = form.validate_on_submit()
    data, errors = read_form(form, current_storage())
    try:
        if not parsed or errors:
            validate_event_input(get_session(), data)  # collect the domain's errors too
        else:
            return True, save(data)
    except EventInvalid as error:
        errors = {**error.errors, **errors}
    show_errors(form, errors)
    return False, None


@bp.get("/events/new")
@requires_role(Role.ORGANIZER)
def new() -> tuple[str, int]:
    """An empty event form."""
    categories = list_categories(get_session())
    return _render_form(
        build_form(categories, default_zone=current_app.config["EVENTS_DISPLAY_TZ"]), None
    )


@bp.post("/events/new")
@requires_role(Role.ORGANIZER)
def create() -> Response | tuple[str, int]:
    """Create a draft."""
    session = get_session()
    form = build_form(list_categories(session))
    saved, event = _save(
        form, lambda data: create_event(session, signed_in_user(), data, now=utcnow())
    )
    if not saved or event is None:
        return _render_form(form, None, 422)
    flash("Draft saved. Submit it for review when it is ready.", "success")
    return redirect(_edit_url(event), 303)


@bp.get("/events/<int:event_id>/edit")
@requires_organizer_or_member
def edit(event_id: int) -> tuple[str, int]:
    """The event form, filled in (with the changes waiting for review, if any)."""
    session = get_session()
    event = organizer_event_or_404(event_id)
    pending = None
    if event.status == EventStatus.PUBLISHED:
        pending = revisions.pending_revision(session, event.id)
    shown = revisions.as_proposed(event, pending) if pending else event
    return _render_form(build_form(list_categories(session), event=shown), event)


@bp.post("/events/<int:event_id>/edit")
@requires_organizer_or_member
def update(event_id: int) -> Response | tuple[str, int]:
    """Save changes (a published event's material ones go to review)."""
    session = get_session()
    event = organizer_event_or_404(event_id)
    form = build_form(list_categories(session), event=event)
    saved, revision = _save(
        form, lambda data: update_event(session, event, data, actor=signed_in_user(), now=utcnow())
    )
    if not saved:
        return _render_form(form, event, 422)
    if revision is not None:
        flash(
            "Saved. Your changes to "
            + ", ".join(_changed_labels(event, revision)).lower()
            + " wait for an admin’s review; until then the public page shows the approved"
            " version.",
            "success",
        )
    else:
        flash("Changes saved.", "success")
    return redirect(_edit_url(event), 303)


def _act(event_id: int, action: str) -> Response:
    """Run a lifecycle action; a refusal is shown as a message on the dashboard."""
    session = get_session()
    user = signed_in_user()
    event = organizer_event_or_404(event_id)
    now = utcnow()
    try:
        if action == "submit":
            submit_event(session, event, actor=user, now=now)
            flash("Submitted for review. We will email you once an admin has looked.", "success")
        elif action == "cancel":
            sales = cancel_event(
                session,
                event,
                actor=user,
                now=now,
                reason=request.form.get("reason", ""),
            )
            flash(
                f"Event cancelled, with its {sales.bookings} booking"
                f"{'' if sales.bookings == 1 else 's'}. Everyone affected is being told.",
                "success",
            )
        elif action == "delete":
            delete_event(session, event, actor=user, now=now)
            flash("Draft deleted.", "success")
        else:
            copy = duplicate_event(session, event, actor=user, now=now)
            flash("Copy created as a draft: adjust the dates and save.", "success")
            return redirect(_edit_url(copy), 303)
    except (EventError, EventInvalid) as error:
        session.rollback()
        flash(error.message, "error")
    return redirect(back_office_home(), 303)


@bp.post("/events/<int:event_id>/submit")
@requires_organizer_or_member
def submit(event_id: int) -> Response:
    """Send the event to the moderation queue."""
    return _act(event_id, "submit")


@bp.post("/events/<int:event_id>/cancel")
@requires_organizer_or_member
def cancel(event_id: int) -> Response:
    """Cancel a published event."""
    return _act(event_id, "cancel")


@bp.post("/events/<int:event_id>/delete")
@requires_organizer_or_member
def delete(event_id: int) -> Response:
    """Delete a draft."""
    return _act(event_id, "delete")


@bp.post("/events/<int:event_id>/duplicate")
@requires_organizer_or_member
def duplicate(event_id: int) -> Response:
    """Copy the event into a new draft."""
    return _act(event_id, "duplicate")
