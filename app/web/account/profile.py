"""The signed-in user's own account: details, email, password, preferences, organizer
application, sessions, and deleting the account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_login import login_required, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from app.db import get_session
from app.domain.accounts import (
    deletion,
    oauth_linking,
    organizer_applications,
    phone,
    profile,
    rate_limit,
    reauth,
    sessions,
)
from app.domain.accounts.errors import AccountError, ReauthRequired, TooManyAttempts
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import Category
from app.domain.notifications import address_check, delivery
from app.domain.notifications.models import Channel
from app.web.account import attempts, confirm, mailer, notices, oauth
from app.web.account.devices import describe_device
from app.web.account.forms import (
    DeleteAccountForm,
    DetailsForm,
    EmailChangeForm,
    OrganizerApplicationForm,
    PasswordChangeForm,
    PreferencesForm,
    show_error,
)
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.network import client_ip

bp = Blueprint("account_profile", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is about the signed-in user's own account."""


def _preferences_form(form: PreferencesForm | None = None) -> PreferencesForm:
    if form is None:
        prefs = signed_in_user().preferences or {}
        form = PreferencesForm(
            categories=prefs.get("categories", []),
            home_city=prefs.get("home_city", ""),
            mode=prefs.get("mode", "any"),
        )
    categories = get_session().scalars(select(Category).order_by(Category.name)).all()
    form.categories.choices = [SelectChoice(c.id, c.name) for c in categories]
    return form


def _profile_page(status: int = 200, **forms: Any) -> ResponseReturnValue:
    db = get_session()
    user = signed_in_user()
    identities = oauth_linking.identities(db, user)
    linked = {identity.provider for identity in identities}
    enabled = oauth.enabled_providers()
    context = {
        "details_form": forms.get("details_form")
        or DetailsForm(name=user.name, phone=user.phone or ""),
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "preferences_form": _preferences_form(forms.get("preferences_form")),
        "application_form": forms.get("application_form") or OrganizerApplicationForm(),
        "application": organizer_applications.latest_application(db, user),
        "identities": identities,
        "link_providers": [(k, label) for k, label in enabled if k not in linked],
        "provider_label": oauth.provider_label,
        "recently_confirmed": reauth.recently_authenticated(user, utcnow()),
        "sessions": sessions.active_sessions(db, user.id, now=utcnow()),
        "current_session": sessions.token_digest(user.login_session_token or ""),
        "describe_device": describe_device,
        "can_apply": user.role == Role.ATTENDEE,
        "failing_address": delivery.failing_address(db, Channel.EMAIL, user.email),
        **_phone_context(db, user.id),
    }
    return render_template("account/profile.html", **context), status


def _phone_context(db: Session, user_id: int) -> dict[str, Any]:
    """The number text messages go to, and why they stop if they do."""
    row = phone.current(db, user_id)
    return {
        "phone_row": row,
        "phone_display": phone.display(row.number) if row else "",
        "failing_number": delivery.failing_address(db, Channel.SMS, row.number) if row else None,
    }


@bp.get("/account/profile", endpoint="profile")
def profile_page() -> ResponseReturnValue:
    """Everything about the user's own account on one page."""
    return _profile_page()


@bp.post("/account/profile")
def details() -> ResponseReturnValue:
    """Change name and phone number."""
    form = DetailsForm()
    if form.validate_on_submit():
        try:
            profile.update_details(
                get_session(),
                signed_in_user(),
                name=form.name.data or "",
                phone=form.phone.data or "",
            )
        except AccountError as error:
            show_error(form, error)
        else:
            flash("Your details are saved.", "success")
            return redirect(url_for("account_profile.profile"))
    return _profile_page(422, details_form=form)


@bp.post("/account/email")
def change_email() -> ResponseReturnValue:
    """Mail a confirmation link to the new address; nothing changes until it is opened. An
    address that has an account already gets a note to its owner instead, and the same
    answer here (no enumeration)."""
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return _profile_page(422, email_form=form)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            change = profile.request_email_change(
                get_session(),
                user,
                new_email=form.email.data or "",
                password=form.password.data or "",
                secret_key=current_app.config["SECRET_KEY"],
                now=utcnow(),
            )
        attempts.take(rate_limit.MAIL, change.new_email)
    except ReauthRequired:
        return confirm.confirm_first(url_for("account_profile.profile") + "#email-heading")
    except AccountError as error:
        show_error(form, error)
        return _profile_page(http_status(error), email_form=form)
    if change.taken_by is not None:
        notices.email_change_attempt(change.taken_by)
    else:
        mailer.send(
            change.new_email,
            "change_email",
            "Confirm your new email address",
            name=user.name,
            link=mailer.absolute_url("account_profile.confirm_email", token=change.token),
        )
    flash(f"We sent a link to {change.new_email}. Open it to finish the change.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.get("/account/email/confirm/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """Switch to the new address from the link mailed to it; other sessions end."""
    user, old_email = profile.confirm_email_change(
        get_session(),
        current_app.config["SECRET_KEY"],
        token,
        max_age=int(current_app.config["EMAIL_VERIFY_TTL_SECONDS"]),
        now=utcnow(),
        keep_session_token=signed_in_user().login_session_token,
        ip=client_ip(),
    )
    mailer.send(
        old_email,
        "email_changed",
        "Your email address was changed",
        name=user.name,
        new_email=user.email,
        link=mailer.absolute_url("auth.forgot"),
    )
    flash(f"Your email address is now {user.email}.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.post("/account/verify-email")
def resend_verification() -> ResponseReturnValue:
    """Send the confirmation link again."""
    user = signed_in_user()
    if user.email_verified_at is None:
        try:
            attempts.take(rate_limit.MAIL, user.email)
        except TooManyAttempts as error:
            flash(error.message, "error")
        else:
            notices.send_verification(user)
            flash(f"We sent a new link to {user.email}.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.post("/account/email/check")
def check_address() -> ResponseReturnValue:
    """Mail a check link to the user's refused address, past the failing list."""
    user = signed_in_user()
    if delivery.failing_address(get_session(), Channel.EMAIL, user.email) is not None:
        try:
            attempts.take(rate_limit.MAIL, user.email)
        except TooManyAttempts as error:
            flash(error.message, "error")
        else:
            config = current_app.config
            token = address_check.check_token(config["SECRET_KEY"], user, now=utcnow())
            mailer.send(
                user.email,
                "address_check",
                "Does our mail reach you?",
                name=user.name,
                link=mailer.absolute_url("account_profile.address_works", token=token),
                hours=int(config["EMAIL_VERIFY_TTL_SECONDS"]) // 3600,
            )
            flash(f"We sent a link to {user.email}. If it arrives, open it.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.get("/account/email/works/<token>")
def address_works(token: str) -> ResponseReturnValue:
    """The check link arrived: mail goes to the address again."""
    user = address_check.confirm_works(
        get_session(),
        current_app.config["SECRET_KEY"],
        token,
        max_age=int(current_app.config["EMAIL_VERIFY_TTL_SECONDS"]),
        now=utcnow(),
    )
    flash(f"Our mail reaches {user.email}: we send to it again.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.post("/account/password")
def change_password() -> ResponseReturnValue:
    """Change (or, for sign-in-provider accounts, set) the password; other sessions end."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _profile_page(422, password_form=form)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            profile.change_password(
                get_session(),
                user,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                keep_session_token=user.login_session_token,
                now=utcnow(),
                ip=client_ip(),
            )
    except ReauthRequired:
        return confirm.confirm_first(url_for("account_profile.profile") + "#password-heading")
    except AccountError as error:
        show_error(form, error, fields={"password": "new_password"})
        return _profile_page(http_status(error), password_form=form)
    mailer.send(
        user.email,
        "password_changed",
        "Your password was changed",
        name=user.name,
        link=mailer.absolute_url("auth.forgot"),
    )
    flash("Your password is changed. Other devices were logged out.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.post("/account/preferences")
def preferences() -> ResponseReturnValue:
    """Favourite categories, home city, online or in person."""
    form = _preferences_form(PreferencesForm())
    if form.validate_on_submit():
        try:
            profile.update_preferences(
                get_session(),
                signed_in_user(),
                category_ids=list(form.categories.data or []),
                home_city=form.home_city.data or "",
                mode=form.mode.data or "any",
            )
        except AccountError as error:
            show_error(form, error)
        else:
            flash("Your preferences are saved.", "success")
            return redirect(url_for("account_profile.profile"))
    return _profile_page(422, preferences_form=form)


@bp.post("/account/organizer-application")
def apply_as_organizer() -> ResponseReturnValue:
    """Ask to become an organizer; an admin reviews it."""
    form = OrganizerApplicationForm()
    if form.validate_on_submit():
        try:
            organizer_applications.apply(
                get_session(),
                signed_in_user(),
                organization_name=form.organization_name.data or "",
                details=form.details.data or "",
                now=utcnow(),
                ip=client_ip(),
            )
        except AccountError as error:
            show_error(form, error)
        else:
            flash("Thank you! An admin will review your application.", "success")
            return redirect(url_for("account_profile.profile"))
    return _profile_page(422, application_form=form)


@bp.post("/account/sessions/others")
def end_other_sessions() -> ResponseReturnValue:
    """Log out every other device."""
    count = sessions.revoke_user_sessions(
        get_session(),
        signed_in_user().id,
        now=utcnow(),
        keep_token=signed_in_user().login_session_token,
    )
    flash(f"Logged out {count} other session{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("account_profile.profile"))


@bp.get("/account/delete")
def delete_account() -> ResponseReturnValue:
    """Confirm deleting the account."""
    return _delete_page(DeleteAccountForm())


def _delete_page(form: DeleteAccountForm, status: int = 200) -> ResponseReturnValue:
    confirmed = reauth.recently_authenticated(signed_in_user(), utcnow())
    return render_template("account/delete.html", form=form, confirmed=confirmed), status


@bp.post("/account/delete")
def delete_account_post() -> ResponseReturnValue:
    """Erase the account's personal data and log out."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _delete_page(form, 422)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            deletion.delete_account(
                get_session(), user, password=form.password.data or "", now=utcnow(), ip=client_ip()
            )
    except ReauthRequired:
        return confirm.confirm_first(url_for("account_profile.delete_account"))
    except AccountError as error:
        show_error(form, error)
        return _delete_page(form, http_status(error))
    cookie_session.clear()
    logout_user()
    flash("Your account is deleted. Thank you for having been with us.", "info")
    return redirect("/")


bp.add_url_rule("/account/confirm", "confirm", confirm.confirm, methods=["GET"])
bp.add_url_rule(
    "/account/confirm/password", "confirm_password", confirm.confirm_password, methods=["POST"]
)
bp.add_url_rule("/account/confirm/code/send", "send_code", confirm.send_code, methods=["POST"])
bp.add_url_rule("/account/confirm/code", "confirm_code", confirm.confirm_code, methods=["POST"])
bp.add_url_rule(
    "/account/confirm/<provider>", "confirm_with_provider", confirm.confirm_with_provider
)
bp.add_url_rule("/account/providers/<provider>/link", "link_provider", confirm.link_provider)
bp.add_url_rule(
    "/account/providers/<int:identity_id>/unlink",
    "unlink_provider",
    confirm.unlink_provider,
    methods=["POST"],
)
