"""Two-factor enrolment and management pages (routed by auth.py under the "auth" blueprint)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.db import get_session
from app.domain.accounts import rate_limit, reauth, two_factor
from app.domain.accounts.errors import AccountError, ReauthRequired
from app.domain.base import utcnow
from app.web.account import attempts, notices
from app.web.account.confirm import confirm_first
from app.web.account.forms import CodeForm, DisableTwoFactorForm, show_error
from app.web.account.session_login import safe_next
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.network import client_ip


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images; nothing leaves the site)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _next_url() -> str:
    return safe_next(request.values.get("next"), "")


def _page(status: int = 200, **forms: object) -> ResponseReturnValue:
    user = signed_in_user()
    context: dict[str, object] = {"next_url": _next_url()}
    if user.has_2fa:
        context["remaining"] = two_factor.remaining_recovery_codes(get_session(), user)
        context["codes_form"] = forms.get("codes_form") or CodeForm(prefix="renew")
        context["disable_form"] = forms.get("disable_form") or DisableTwoFactorForm()
    elif not reauth.recently_authenticated(user, utcnow()):
        context["confirm_first"] = True
    else:
        secret = two_factor.start_enrolment(get_session(), user)
        uri = two_factor.provisioning_uri(
            secret, email=user.email, issuer=current_app.config["SITE_NAME"]
        )
        context.update(
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr=qr_data_uri(uri),
            form=forms.get("form") or CodeForm(),
        )
    return render_template("account/two_factor.html", **context), status


@login_required
def setup() -> ResponseReturnValue:
    """Enrol (QR code, secret, confirm with a code) or, once on, manage two-factor login."""
    return _page()


@login_required
def enable() -> ResponseReturnValue:
    """Turn 2FA on with a first code; show the recovery codes once."""
    form = CodeForm()
    user = signed_in_user()
    if user.has_2fa:
        return redirect(url_for("auth.two_factor_setup"))
    if not form.validate_on_submit():
        return _page(422, form=form)
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            codes = two_factor.enable(
                get_session(),
                user,
                code=form.code.data or "",
                now=utcnow(),
                session_token=user.login_session_token,
                ip=client_ip(),
            )
    except ReauthRequired:
        return confirm_first(url_for("auth.two_factor_setup", next=_next_url() or None))
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), form=form)
    notices.security_change(user, "turned on two-factor authentication")
    flash("Two-factor authentication is on.", "success")
    return render_template(
        "account/recovery_codes.html",
        codes=codes,
        next_url=_next_url() or url_for("account_profile.profile"),
    )


@login_required
def recovery_codes() -> ResponseReturnValue:
    """Replace the recovery codes (needs a current code); show the new ones once."""
    form = CodeForm(prefix="renew")
    user = signed_in_user()
    if not (user.has_2fa and form.validate_on_submit()):
        return _page(422, codes_form=form)
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            codes = two_factor.regenerate_recovery_codes(
                get_session(), user, code=form.code.data or "", now=utcnow(), ip=client_ip()
            )
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), codes_form=form)
    notices.security_change(user, "made new recovery codes for your second factor")
    return render_template(
        "account/recovery_codes.html", codes=codes, next_url=url_for("auth.two_factor_setup")
    )


@login_required
def disable() -> ResponseReturnValue:
    """Turn 2FA off with the password and a code (attendees only)."""
    form = DisableTwoFactorForm()
    user = signed_in_user()
    if not (user.has_2fa and form.validate_on_submit()):
        return _page(422, disable_form=form)
    try:
        with attempts.guarded(rate_limit.user_subject(user.id)):
            two_factor.disable(
                get_session(),
                user,
                password=form.password.data or "",
                code=form.code.data or "",
                now=utcnow(),
                ip=client_ip(),
            )
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), disable_form=form)
    notices.security_change(user, "turned off two-factor authentication")
    flash("Two-factor authentication is off.", "info")
    return redirect(url_for("account_profile.profile"))
