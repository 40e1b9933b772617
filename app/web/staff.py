"""Door staff's own pages: accepting an emailed invitation, and the list of events whose door
one may open (`/checkin/`, beside the door pages of the "checkin" blueprint at
`/checkin/<event_id>`). Any signed-in account may be staff; 2FA is optional for them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.db import get_session
from app.domain import invitations
from app.domain.accounts.models import Role, User
from app.domain.base import utcnow
from app.domain.checkin import staff
from app.domain.checkin.models import StaffInvitation
from app.domain.invitations import InvitationError
from app.web.authz import signed_in_user, signed_in_user_or_none
from app.web.error_status import http_status

bp = Blueprint("staff", __name__)


@bp.app_template_global()
def shows_checkin_link() -> bool:
    """Whether the navigation offers "Check-in": to organizers, admins and anyone with a staff
    grant (which the session's user loader looked up with the user: no query here)."""
    user = signed_in_user_or_none()
    if user is None:
        return False
    return user.role in (Role.ORGANIZER, Role.ADMIN) or user.has_staff_grant


def _invitation_page(
    invitation: StaffInvitation, error: InvitationError | None = None
) -> ResponseReturnValue:
    status = http_status(error) if error is not None else 200
    page = render_template(
        "staff/invitation.html",
        invitation=invitation,
        organizer=get_session().get(User, invitation.organizer_id),
        error=error,
    )
    return page, status


@bp.get("/staff/invitations/<token>")
@login_required
def invitation(token: str) -> ResponseReturnValue:
    """What the invitation offers, with "Accept", or why this account cannot accept it."""
    found = staff.find_invitation(get_session(), token)
    try:
        invitations.check_acceptable(found, signed_in_user(), utcnow())
    except InvitationError as error:
        return _invitation_page(found, error)
    return _invitation_page(found)


@bp.post("/staff/invitations/<token>")
@login_required
def accept(token: str) -> ResponseReturnValue:
    """Accept the invitation as the signed-in account; a refusal changes nothing."""
    session = get_session()
    try:
        grant = staff.accept(session, token, signed_in_user(), utcnow())
    except InvitationError as error:
        session.rollback()
        return _invitation_page(staff.find_invitation(session, token), error)
    what = f"“{grant.event.title}”" if grant.event is not None else "the organizer’s events"
    flash(f"You can now check in tickets for {what}.", "success")
    return redirect(url_for(".home"), 303)


@bp.get("/checkin/")
@login_required
def home() -> ResponseReturnValue:
    """The events whose door the signed-in user may open; `?event=<id>` goes to that door
    (admins open any event's door by its number; the door decides who may)."""
    event_id = request.args.get("event", type=int)
    if event_id is not None and 0 < event_id < 2**31:
        return redirect(url_for("checkin.door", event_id=event_id), 303)
    user = signed_in_user()
    return render_template(
        "staff/home.html",
        events=staff.door_events(get_session(), user, utcnow()),
        is_admin=user.role == Role.ADMIN,
    )
