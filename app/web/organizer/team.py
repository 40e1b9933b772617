"""The organizer's team (`teams.membership`): the owner's page of members and invitations,
the invitee's page to accept, and a member's list of the teams they are in with the events
each lets them reach."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from app.db import get_session
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import Role, User
from app.domain.base import utcnow
from app.domain.checkin.access import CHECKIN_STATUSES
from app.domain.invitations import InvitationError, check_acceptable
from app.domain.teams import membership
from app.domain.teams.access import MONEY_ROLES, Permission
from app.domain.teams.models import TeamInvitation, TeamRole
from app.web.account.forms import EMAIL_FIELD, show_error
from app.web.authz import back_office_home, requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.links import absolute_url

bp = Blueprint("organizer_team", __name__, url_prefix="/organizer/team")
# The event pages' "back" link, which members reach too.
bp.add_app_template_global(back_office_home)

ROLE_LABELS = {
    TeamRole.MANAGE: "Manage: edit events, tickets, payments and refunds, the door",
    TeamRole.SALES: "View sales: attendees and exports, payments (read only)",
    TeamRole.CHECKIN: "Check-in only: the door of your events",
}
ROLE_NAMES = {TeamRole.MANAGE: "Manage", TeamRole.SALES: "View sales", TeamRole.CHECKIN: "Check-in"}
ROLE_CHOICES = [SelectChoice(role.value, name) for role, name in ROLE_NAMES.items()]


class InviteForm(AppForm):
    email = EmailField(
        "Their email address",
        validators=[DataRequired("Enter their email address."), Length(max=254)],
        render_kw=EMAIL_FIELD,
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, default=TeamRole.SALES.value, validate_choice=True
    )


class RoleForm(AppForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


def _page(form: InviteForm, status: int = 200) -> ResponseReturnValue:
    team = membership.team_of(get_session(), signed_in_user(), utcnow())
    return render_template(
        "organizer/team.html",
        form=form,
        team=team,
        role_form=RoleForm,
        roles=ROLE_NAMES,
        role_labels=ROLE_LABELS.values(),
    ), status


@bp.get("/")
@requires_role(Role.ORGANIZER)
def index() -> ResponseReturnValue:
    """The owner's members and pending invitations, with the invite form."""
    return _page(InviteForm())


@bp.post("/invitations")
@requires_role(Role.ORGANIZER)
def invite() -> ResponseReturnValue:
    """Invite an address into the team with a role and mail the link."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    session = get_session()
    try:
        invited = membership.invite(
            session,
            signed_in_user(),
            form.email.data or "",
            TeamRole(form.role.data),
            utcnow(),
            accept_link=lambda token: absolute_url("organizer_team.invitation", token=token),
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
    found = membership.revoke_invitation(get_session(), signed_in_user(), invitation_id, utcnow())
    flash(f"Invitation to {found.email} withdrawn.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/members/<int:member_id>/role")
@requires_role(Role.ORGANIZER)
def change_role(member_id: int) -> ResponseReturnValue:
    """Give a member another role; it applies from their next click."""
    session = get_session()
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a role from the list.", "error")
        return _page(InviteForm(formdata=None), 422)
    member = membership.change_role(
        session, signed_in_user(), member_id, TeamRole(form.role.data), utcnow()
    )
    flash(f"{member.user.name} now has the role “{ROLE_NAMES[member.role]}”.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/members/<int:member_id>/remove")
@requires_role(Role.ORGANIZER)
def remove(member_id: int) -> ResponseReturnValue:
    """Take a member out of the team: their access ends with their next click."""
    member = membership.remove_member(get_session(), signed_in_user(), member_id, utcnow())
    flash(f"{member.user.name} is no longer in your team.", "success")
    return redirect(url_for(".index"), 303)


def _invitation_page(
    invitation: TeamInvitation, error: InvitationError | None = None
) -> ResponseReturnValue:
    status = http_status(error) if error is not None else 200
    page = render_template(
        "organizer/team_invitation.html",
        invitation=invitation,
        owner=get_session().get(User, invitation.owner_id),
        role=ROLE_LABELS[invitation.role],
        error=error,
    )
    return page, status


@bp.get("/invitations/<token>")
@login_required
def invitation(token: str) -> ResponseReturnValue:
    """What the invitation offers, with "Accept", or why this account cannot accept it."""
    found = membership.find_invitation(get_session(), token)
    try:
        check_acceptable(found, signed_in_user(), utcnow())
    except InvitationError as error:
        return _invitation_page(found, error)
    return _invitation_page(found)


@bp.post("/invitations/<token>")
@login_required
def accept(token: str) -> ResponseReturnValue:
    """Join the team as the signed-in account; a refusal changes nothing."""
    session = get_session()
    try:
        member = membership.accept(session, token, signed_in_user(), utcnow())
    except InvitationError as error:
        session.rollback()
        return _invitation_page(membership.find_invitation(session, token), error)
    message = f"You are in {member.owner.name}’s team."
    if member.role in MONEY_ROLES and not signed_in_user().has_2fa:
        message += " Turn on two-factor authentication to open their sales pages."
    flash(message, "success")
    return redirect(url_for(".memberships"), 303)


@bp.get("/memberships")
@login_required
def memberships() -> ResponseReturnValue:
    """The teams the signed-in user is in, with the events each lets them reach."""
    return render_template(
        "organizer/team_memberships.html",
        found=membership.memberships_of(get_session(), signed_in_user(), utcnow()),
        roles=ROLE_NAMES,
        Permission=Permission,
        door_statuses=CHECKIN_STATUSES,
    )
