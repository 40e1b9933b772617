"""Confirming who you are inside a session, and the sign-in providers linked to an account.

Routed by profile.py under its blueprint ("account_profile"), whose pages all need a login.
A sensitive change that finds the session's last proof too old (`ReauthRequired`) sends the
user here with `next` pointing back at it; every password or code typed here is rate limited
(rate_limit, "reauth"). See app/domain/accounts/reauth.py.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from app.db import get_session
from app.domain.accounts import oauth_linking, rate_limit, reauth
from app.domain.accounts.errors import AccountError, TooManyAttempts
from app.domain.base import utcnow
from app.web.account import attempts, notices, oauth
from app.web.account.forms import ConfirmCodeForm, ConfirmPasswordForm, SendCodeForm, show_error
from app.web.account.session_login import safe_next
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.network import client_ip

CODE_SENT = "code_sent"


def confirm_first(next_url: str) -> Response:
    """Send the user to confirm who they are, then back to `next_url`."""
    flash("For your safety, confirm it is you first.", "info")
    return redirect(url_for("account_profile.confirm", next=safe_next(next_url)), 303)


def _page(status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    next_url = safe_next(request.values.get("next"), url_for("account_profile.profile"))
    enabled = dict(oauth.enabled_providers())
    linked = sorted({i.provider for i in oauth_linking.identities(get_session(), user)})
    context = {
        "next_url": next_url,
        "password_form": forms.get("password_form") or ConfirmPasswordForm(next=next_url),
        "send_form": SendCodeForm(next=next_url),
        "code_form": forms.get("code_form") or ConfirmCodeForm(next=next_url),
        "code_sent": bool(forms.get("code_form")) or request.args.get(CODE_SENT) == "1",
        "providers": [(key, enabled[key]) for key in linked if key in enabled],
    }
    return render_template("account/confirm.html", **context), status


def confirm() -> ResponseReturnValue:
    """Ways to confirm who you are: your password, a linked provider, a code by email."""
    return _page()


def confirm_password() -> ResponseReturnValue:
    """Confirm with the account's password."""
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return _page(422, password_form=form)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            reauth.confirm_with_password(
                get_session(), user, form.password.data or "", now=utcnow(), ip=client_ip()
            )
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), password_form=form)
    return redirect(safe_next(form.next.data, url_for("account_profile.profile")), 303)


def send_code() -> ResponseReturnValue:
    """Mail a code to the account's address."""
    form = SendCodeForm()
    next_url = safe_next(form.next.data, url_for("account_profile.profile"))
    user = signed_in_user()
    try:
        attempts.take(rate_limit.MAIL, user.email)
    except TooManyAttempts as error:
        flash(error.message, "error")
        return redirect(url_for("account_profile.confirm", next=next_url), 303)
    notices.reauth_code(user, reauth.issue_code(get_session(), user, now=utcnow()))
    flash(f"We sent a code to {user.email}.", "success")
    return redirect(url_for("account_profile.confirm", next=next_url, **{CODE_SENT: 1}), 303)


def confirm_code() -> ResponseReturnValue:
    """Confirm with the code mailed to the account."""
    form = ConfirmCodeForm()
    if not form.validate_on_submit():
        return _page(422, code_form=form)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            reauth.confirm_with_code(
                get_session(), user, form.code.data or "", now=utcnow(), ip=client_ip()
            )
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), code_form=form)
    return redirect(safe_next(form.next.data, url_for("account_profile.profile")), 303)


def confirm_with_provider(provider: str) -> ResponseReturnValue:
    """Confirm by signing in again through a linked provider."""
    return oauth.start_for_user(provider, oauth.CONFIRM, request.args.get("next") or "")


def link_provider(provider: str) -> ResponseReturnValue:
    """Link another sign-in provider (after a recent confirmation)."""
    if provider not in dict(oauth.enabled_providers()):
        abort(404)
    if not reauth.recently_authenticated(signed_in_user(), utcnow()):
        return confirm_first(request.path)
    return oauth.start_for_user(provider, oauth.LINK, url_for("account_profile.profile"))


def unlink_provider(identity_id: int) -> ResponseReturnValue:
    """Remove a linked sign-in provider (not the last way to sign in)."""
    user = signed_in_user()
    try:
        identity = oauth_linking.unlink_identity(
            get_session(), user, identity_id, now=utcnow(), ip=client_ip()
        )
    except AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("account_profile.profile") + "#providers-heading", 303)
    label = oauth.provider_label(identity.provider)
    notices.security_change(user, f"removed signing in through {label}")
    flash(f"Signing in with {label} is removed from your account.", "success")
    return redirect(url_for("account_profile.profile") + "#providers-heading", 303)
