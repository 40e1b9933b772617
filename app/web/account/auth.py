"""Register, verify email, log in (with a second factor), log out, forgot/reset password.

Two-factor enrolment pages live in two_factor.py and are routed here, under "auth".
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts import password_reset, rate_limit, registration
from app.domain.accounts.errors import (
    AccountError,
    AccountSuspended,
    InvalidCredentials,
    TooManyAttempts,
)
from app.domain.accounts.login import EmailNotVerified, authenticate
from app.domain.accounts.models import AttemptOutcome, User
from app.domain.accounts.rate_limit import settle
from app.domain.accounts.two_factor import check_code
from app.domain.base import utcnow
from app.web.account import attempts, mailer, notices, session_login, two_factor
from app.web.account.forms import (
    CodeForm,
    ForgotForm,
    LoginForm,
    RegisterForm,
    ResetForm,
    show_error,
)
from app.web.account.oauth import enabled_providers, provider_label
from app.web.account.session_login import safe_next
from app.web.authz import signed_in_user_or_none
from app.web.network import client_ip

bp = Blueprint("auth", __name__)


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    session_login.configure_login_manager()
    state.app.before_request(session_login.warn_about_untrusted_forwarding)


@bp.get("/register")
def register() -> ResponseReturnValue:
    """The registration form."""
    if signed_in_user_or_none() is not None:
        return redirect(url_for("account_profile.profile"))
    return render_template("account/register.html", form=RegisterForm())


@bp.post("/register")
def register_post() -> ResponseReturnValue:
    """Create an attendee account and mail a verification link. An address that already has
    an account gets the same answer, and its owner a note instead (no enumeration)."""
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("account/register.html", form=form), 422
    password = form.password.data or ""
    try:
        name, email = registration.clean_registration(
            name=form.name.data or "", email=form.email.data or "", password=password
        )
        attempts.take(rate_limit.MAIL, email)
        outcome = registration.register_user(
            get_session(), name=name, email=email, password=password, now=utcnow(), ip=client_ip()
        )
    except TooManyAttempts as error:
        show_error(form, error)
        return render_template("account/register.html", form=form), 429
    except AccountError as error:
        show_error(form, error)
        return render_template("account/register.html", form=form), 422
    if outcome.created:
        notices.send_verification(outcome.user)
    else:
        notices.signup_attempt(outcome.user)
    flash(f"We sent a confirmation link to {email}.", "success")
    return redirect(url_for("auth.check_email"))


@bp.get("/register/check-email")
def check_email() -> ResponseReturnValue:
    """Tells a new user to open the link in their mailbox."""
    return render_template("account/check_email.html")


@bp.get("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """Prove the email address in a signed link."""
    user = signed_in_user_or_none()
    signed_in = user.id if user else None
    user, removed = registration.verify_email(
        get_session(),
        current_app.config["SECRET_KEY"],
        token,
        max_age=int(current_app.config["EMAIL_VERIFY_TTL_SECONDS"]),
        now=utcnow(),
        signed_in_user_id=signed_in,
    )
    flash("Thank you: your email address is confirmed.", "success")
    if removed:
        notices.links_removed(user, [provider_label(p) for p in removed])
    if signed_in == user.id:
        return redirect(url_for("account_profile.profile"))
    return redirect(url_for("auth.login"))


def _login_page(form: LoginForm, status: int = 200) -> ResponseReturnValue:
    return render_template("account/login.html", form=form, providers=enabled_providers()), status


@bp.get("/login")
def login() -> ResponseReturnValue:
    """The login form (and sign-in provider buttons)."""
    next_url = safe_next(request.args.get("next"))
    if signed_in_user_or_none() is not None:
        return redirect(next_url)
    return _login_page(LoginForm(next=next_url))


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    """Check the password; continue to the code step when the account has 2FA."""
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 422)
    email = form.email.data or ""
    db = get_session()
    try:
        attempt_id = attempts.take(rate_limit.LOGIN, email)
        user = authenticate(db, email=email, password=form.password.data or "")
    except TooManyAttempts as error:
        show_error(form, error)
        return _login_page(form, 429)
    except InvalidCredentials as error:
        attempts.audit_failure(email, "password")
        show_error(form, error)
        return _login_page(form, 422)
    except AccountSuspended as error:
        show_error(form, error)
        return _login_page(form, 403)
    except EmailNotVerified as error:
        # The password was right, so saying so leaks nothing. The attempt stays counted as a
        # failure, and the new link is a mail like any other (rate_limit, "mail").
        if notices.mail_allowed(error.user.email):
            notices.send_verification(error.user)
            flash(f"{error.message} We sent a new link to {error.user.email}.", "warning")
        else:
            flash(error.message, "warning")
        return redirect(url_for("auth.check_email"))
    next_url = safe_next(form.next.data)
    remember = bool(form.remember.data)
    if user.has_2fa:
        # The code step decides; the password alone must not clear the account's failures.
        settle(db, attempt_id, AttemptOutcome.NEUTRAL)
        session_login.begin_second_factor(
            user, remember=remember, next_url=next_url, method="password"
        )
        return redirect(url_for("auth.login_code"))
    session_login.finish_login(
        user, remember=remember, second_factor_done=False, method="password", attempt_id=attempt_id
    )
    return redirect(next_url)


def _pending_user() -> tuple[dict, User] | None:
    pending = session_login.pending_second_factor()
    if pending is None:
        return None
    user = get_session().get(User, pending["uid"])
    if user is None or user.deleted_at is not None or not user.has_2fa:
        return None
    return pending, user


def _restart_login(found: tuple[dict, User] | None) -> ResponseReturnValue | None:
    """Back to the first step when the code step cannot go on (timed out, or the account
    was suspended meanwhile); None when it can."""
    if found is None:
        flash("Your login timed out. Please start again.", "warning")
        return redirect(url_for("auth.login"))
    if found[1].is_suspended:
        session_login.clear_pending_second_factor()
        flash(session_login.SUSPENDED_MESSAGE, "error")
        return redirect(url_for("auth.login"))
    return None


@bp.get("/login/2fa")
def login_code() -> ResponseReturnValue:
    """The second login step: a code from the authenticator app or a recovery code."""
    restart = _restart_login(_pending_user())
    if restart is not None:
        return restart
    return render_template("account/login_2fa.html", form=CodeForm())


@bp.post("/login/2fa")
def login_code_post() -> ResponseReturnValue:
    """Check the code, then start the session."""
    found = _pending_user()
    restart = _restart_login(found)
    if restart is not None or found is None:
        return restart
    pending, user = found
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("account/login_2fa.html", form=form), 422
    db = get_session()
    try:
        attempt_id = attempts.take(rate_limit.LOGIN, user.email)
        kind = check_code(db, user, form.code.data or "", now=utcnow(), ip=client_ip())
    except TooManyAttempts as error:
        show_error(form, error)
        return render_template("account/login_2fa.html", form=form), 429
    except AccountError as error:
        attempts.audit_failure(user.email, "2fa")
        show_error(form, error)
        return render_template("account/login_2fa.html", form=form), 422
    session_login.finish_login(
        user,
        remember=bool(pending.get("remember")),
        second_factor_done=True,
        method=f"{pending['method']}+{kind}",
        attempt_id=attempt_id,
    )
    if kind == "recovery":
        flash(
            "You used a recovery code; each works only once. Make new ones when you are "
            "running low.",
            "warning",
        )
    return redirect(safe_next(pending.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session on the server and in the browser."""
    session_login.end_login(signed_in_user_or_none())
    flash("You are logged out.", "info")
    # `next`: e.g. the login page on the way back to an invitation meant for another account.
    response = redirect(safe_next(request.form.get("next")))
    # Ticket pages kept for offline use (static/js/tickets-sw.js) leave the device with the
    # login: the browser drops the site's caches and service workers.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.get("/forgot")
def forgot() -> ResponseReturnValue:
    """Ask for a password reset link."""
    return render_template("account/forgot.html", form=ForgotForm())


@bp.post("/forgot")
def forgot_post() -> ResponseReturnValue:
    """Mail a reset link if the account exists; the answer is the same either way."""
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("account/forgot.html", form=form), 422
    address = form.email.data or ""
    try:
        attempts.take(rate_limit.MAIL, address)
    except TooManyAttempts as error:
        show_error(form, error)
        return render_template("account/forgot.html", form=form), 429
    ttl = int(current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    found = password_reset.request_reset(
        get_session(), address, now=utcnow(), ttl=timedelta(seconds=ttl)
    )
    if found is not None:
        user, token = found
        mailer.send(
            user.email,
            "reset_password",
            "Reset your password",
            name=user.name,
            link=mailer.absolute_url("auth.reset", token=token),
            minutes=ttl // 60,
        )
    return render_template("account/forgot_sent.html")


@bp.get("/reset/<token>")
def reset(token: str) -> ResponseReturnValue:
    """The new-password form, if the link is still usable."""
    password_reset.check_reset_token(get_session(), token, now=utcnow())
    return render_template("account/reset.html", form=ResetForm(), token=token)


@bp.post("/reset/<token>")
def reset_post(token: str) -> ResponseReturnValue:
    """Set the new password; the link is spent and every session of the account ends."""
    form = ResetForm()
    if form.validate_on_submit():
        try:
            user, removed = password_reset.reset_password(
                get_session(), token, form.password.data or "", now=utcnow(), ip=client_ip()
            )
        except AccountError as error:
            if error.field is None:
                raise
            show_error(form, error)
        else:
            mailer.send(
                user.email,
                "password_changed",
                "Your password was changed",
                name=user.name,
                link=mailer.absolute_url("auth.forgot"),
            )
            if removed:
                notices.links_removed(user, [provider_label(p) for p in removed])
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    return render_template("account/reset.html", form=form, token=token), 422


bp.add_url_rule("/account/2fa", "two_factor_setup", two_factor.setup, methods=["GET"])
bp.add_url_rule("/account/2fa", "two_factor_enable", two_factor.enable, methods=["POST"])
bp.add_url_rule(
    "/account/2fa/recovery-codes",
    "two_factor_recovery_codes",
    two_factor.recovery_codes,
    methods=["POST"],
)
bp.add_url_rule("/account/2fa/disable", "two_factor_disable", two_factor.disable, methods=["POST"])
