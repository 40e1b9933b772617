"""Admin: failed notifications with a retry, and every mail template previewed with sample data."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.base import NotFound, utcnow
from app.domain.notifications import delivery, messages
from app.web.authz import requires_role, signed_in_user

bp = Blueprint("admin_notifications", __name__, url_prefix="/admin/notifications")


@bp.get("")
@requires_role(Role.ADMIN)
def failed() -> ResponseReturnValue:
    """The notifications that failed, newest first, each with its error and a retry."""
    return render_template(
        "admin/notifications.html",
        notifications=delivery.failed(get_session()),
        kinds=sorted(messages.KINDS.values(), key=lambda kind: kind.label),
    )


@bp.post("/<int:notification_id>/retry")
@requires_role(Role.ADMIN)
def retry(notification_id: int) -> ResponseReturnValue:
    """Queue a failed notification again, with fresh tries."""
    again = delivery.retry(
        get_session(), notification_id, actor_id=signed_in_user().id, now=utcnow()
    )
    if again is None:
        flash("That notification is not failed any more.", "info")
    else:
        flash(f"Queued again: {again.kind} to {again.recipient or 'the user'}.", "success")
    return redirect(url_for(".failed"), 303)


@bp.get("/templates/<kind>")
@requires_role(Role.ADMIN)
def preview(kind: str) -> ResponseReturnValue:
    """One kind of mail, both parts, rendered with sample data."""
    if kind not in messages.KINDS:
        raise NotFound("There is no such kind of message.")
    return render_template(
        "admin/notification_preview.html",
        kind=messages.KINDS[kind],
        mail=messages.preview(kind, current_app.config, utcnow()),
    )
