"""The organizer's check-in staff: who may scan tickets at the door of which events, the
invitations still waiting for an answer, invite, withdraw, remove (`checkin.staff`)."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length, ValidationError

from app.db import get_session
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.checkin import staff
from app.domain.invitations import InvitationError
from app.web.account.forms import EMAIL_FIELD, show_error
from app.web.authz import requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.links import absolute_url

bp = Blueprint("organizer_staff", __name__, url_prefix="/organizer/staff")

ALL_EVENTS = "all"


class InviteForm(AppForm):
    email = EmailField(
        "Their email address",
        validators=[DataRequired("Enter their email address."), Length(max=254)],
        render_kw=EMAIL_FIELD,
    )
    # Any id passes the form: another organizer's event is the service's "not found".
    event = SelectField("Which events", default=ALL_EVENTS, validate_choice=False)

    def validate_event(self, field: SelectField) -> None:
        if field.data != ALL_EVENTS and not re.fullmatch(r"\d{1,9}", str(field.data)):
            raise ValidationError("Choose one of your events.")

    def event_id(self) -> int | None:
        return None if self.event.data == ALL_EVENTS else int(self.event.data)


def _invite_form() -> InviteForm:
    form = InviteForm()
    events = staff.invitable_events(get_session(), signed_in_user(), utcnow())
    form.event.choices = [SelectChoice(ALL_EVENTS, "All my events, those I add later too")] + [
        SelectChoice(str(event.id), event.title) for event in events
    ]
    return form


def _page(form: InviteForm, status: int = 200) -> ResponseReturnValue:
    listed = staff.staff_of(get_session(), signed_in_user(), utcnow())
    return render_template("organizer/staff.html", form=form, staff=listed), status


@bp.get("/")
@requires_role(Role.ORGANIZER)
def index() -> ResponseReturnValue:
    """The organizer's staff and pending invitations, with the invite form (`?event=` picks
    the event in it)."""
    form = _invite_form()
    chosen = request.args.get("event", "")
    if any(choice.value == chosen for choice in form.event.choices):  # type: ignore[union-attr]
        form.event.data = chosen
    return _page(form)


@bp.post("/invitations")
@requires_role(Role.ORGANIZER)
def invite() -> ResponseReturnValue:
    """Invite an address to check in one event (or all of the organizer's) and mail the link."""
    form = _invite_form()
    if not form.validate_on_submit():
        return _page(form, 422)
    session = get_session()
    try:
        invited = staff.invite(
            session,
            signed_in_user(),
            form.email.data or "",
            form.event_id(),
            utcnow(),
            accept_link=lambda token: absolute_url("staff.invitation", token=token),
        )
    except (AccountError, InvitationError) as error:
        session.rollback()
        show_error(form, error)
        return _page(form, http_status(error))
    flash(f"Invitation sent to {invited.invitation.email}.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/invitations/<int:invitation_id>/revoke")
@requires_role(Role.ORGANIZER)
def revoke(invitation_id: int) -> ResponseReturnValue:
    """Withdraw a pending invitation: its link stops working."""
    invitation = staff.revoke_invitation(get_session(), signed_in_user(), invitation_id, utcnow())
    flash(f"Invitation to {invitation.email} withdrawn.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/<int:grant_id>/remove")
@requires_role(Role.ORGANIZER)
def remove(grant_id: int) -> ResponseReturnValue:
    """Take a staff member's access to the door away."""
    grant = staff.remove_staff(get_session(), signed_in_user(), grant_id, utcnow())
    what = f"“{grant.event.title}”" if grant.event is not None else "your events"
    flash(f"{grant.user.name} can no longer check in {what}.", "success")
    return redirect(url_for(".index"), 303)
