"""Admin: background jobs: payments pending too long and the reconciliation runs, with a
"reconcile now"; outbox jobs that failed, each with a retry (`backoffice.outbox_jobs`)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.backoffice import outbox_jobs
from app.domain.base import utcnow
from app.web.authz import requires_role, signed_in_user

bp = Blueprint("admin_jobs", __name__, url_prefix="/admin/jobs")


@bp.get("")
@requires_role(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Stale payments, the last reconciliations, and failed jobs."""
    session = get_session()
    now = utcnow()
    after = timedelta(seconds=int(current_app.config["PAYMENT_RECONCILE_AFTER_SECONDS"]))
    stale_total, stale = outbox_jobs.stale_payments(session, now=now, after=after)
    return render_template(
        "admin/jobs.html",
        now=now,
        after_minutes=int(after.total_seconds() // 60),
        stale_total=stale_total,
        stale=stale,
        runs=outbox_jobs.reconciliation_runs(session),
        failed=outbox_jobs.failed_jobs(session),
        waits_for_retry=outbox_jobs.waits_for_retry,
    )


@bp.post("/<int:message_id>/retry")
@requires_role(Role.ADMIN)
def retry(message_id: int) -> ResponseReturnValue:
    """Bring a failed job's next try forward to now."""
    again = outbox_jobs.retry_job(
        get_session(), message_id, actor_id=signed_in_user().id, now=utcnow()
    )
    if again is None:
        flash("That job is not waiting for a retry any more.", "info")
    else:
        flash(f"Job {again.id} ({again.topic}) runs again shortly.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/reconcile")
@requires_role(Role.ADMIN)
def reconcile() -> ResponseReturnValue:
    """Queue one payments reconciliation, unless one waits already."""
    queued = outbox_jobs.reconcile_now(get_session(), actor_id=signed_in_user().id, now=utcnow())
    if queued is None:
        flash("A reconciliation is already waiting to run.", "info")
    else:
        flash("Reconciliation queued: providers are asked about pending payments.", "success")
    return redirect(url_for(".index"), 303)
