"""The signed-in user's mobile number for text messages: add or change it, verify it with the
code texted to it, text a new code, remove it. Every URL is about the user's own number: there
is no id to forge. Rules in app/domain/accounts/phone.py."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from wtforms import Field, StringField
from wtforms.validators import Regexp, ValidationError

from app.db import get_session
from app.domain.accounts import phone, rate_limit
from app.domain.accounts.errors import AccountError
from app.domain.base import utcnow
from app.domain.notifications import delivery
from app.domain.notifications.models import Channel
from app.web.account import attempts
from app.web.account.forms import CODE_FIELD, show_error
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.network import client_ip

bp = Blueprint("account_phone", __name__, url_prefix="/account/phone")


def one_value(form: AppForm, field: Field) -> None:
    """A field sent more than once, or as a list in a JSON body (which Flask-WTF also reads,
    flattening the list), is a forged form: refuse it rather than pick one value."""
    sent = request.get_json(silent=True) if request.is_json else None
    listed = isinstance(sent, dict) and isinstance(sent.get(field.name), list | dict)
    if listed or len(field.raw_data or []) > 1:
        raise ValidationError("Send one value.")


class NumberForm(AppForm):
    # The domain says what is wrong with a number (app/domain/accounts/phone.normalize).
    number = StringField(
        "Mobile number",
        validators=[one_value],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "spellcheck": "false"},
    )


class VerifyForm(AppForm):
    code = StringField(
        "Code from the text message",
        validators=[one_value, Regexp(r"^\s*\d{3} ?\d{3}\s*$", message="Enter the 6 digits.")],
        render_kw={**CODE_FIELD, "maxlength": 7},
    )


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is about the signed-in user's own number."""


def _page(status: int = 200, **forms: AppForm) -> ResponseReturnValue:
    db = get_session()
    row = phone.current(db, signed_in_user().id)
    context = {
        "row": row,
        "display": phone.display(row.number) if row else "",
        "failing": delivery.failing_address(db, Channel.SMS, row.number) if row else None,
        "code_live": bool(row and row.code_expires_at and row.code_expires_at > utcnow()),
        "number_form": forms.get("number_form") or NumberForm(),
        "verify_form": forms.get("verify_form") or VerifyForm(),
    }
    return render_template("account/phone.html", **context), status


@bp.get("", endpoint="page")
def page() -> ResponseReturnValue:
    """The number, whether it is verified, and the forms to verify, change or remove it."""
    return _page()


def _text_code(number: str) -> None:
    """Count a text to `number` (the resend cap) and queue a new code to it."""
    attempts.take(rate_limit.SMS, number)
    phone.issue_code(
        get_session(),
        signed_in_user(),
        secret_key=current_app.config["SECRET_KEY"],
        site_name=current_app.config["SITE_NAME"],
        now=utcnow(),
    )


@bp.post("")
def set_number() -> ResponseReturnValue:
    """Add the number, or change it (un-verified until its code comes back), and text a code."""
    form = NumberForm()
    if not form.validate_on_submit():
        return _page(422, number_form=form)
    try:
        number = phone.normalize(form.number.data)
        phone.set_number(get_session(), signed_in_user(), number, now=utcnow(), ip=client_ip())
        _text_code(number)
    except AccountError as error:
        get_session().rollback()  # the page shows the number as it stays, not as it was set
        show_error(form, error)
        return _page(http_status(error), number_form=form)
    flash(f"We texted a code to {phone.display(number)}. Type it below to verify the number.")
    return redirect(url_for(".page") + "#verify-heading", 303)


@bp.post("/code")
def send_code() -> ResponseReturnValue:
    """Text a new code to the unverified number."""
    row = phone.current(get_session(), signed_in_user().id)
    try:
        if row is None or row.verified_at is not None:
            raise AccountError("There is no number waiting for a code.", code="phone_no_pending")
        _text_code(row.number)
    except AccountError as error:
        flash(error.message, "error")
        return _page(http_status(error))
    flash(f"We texted a new code to {phone.display(row.number)}.", "success")
    return redirect(url_for(".page") + "#verify-heading", 303)


@bp.post("/verify")
def verify() -> ResponseReturnValue:
    """Verify the number with the code texted to it."""
    form = VerifyForm()
    if not form.validate_on_submit():
        return _page(422, verify_form=form)
    user = signed_in_user()
    try:
        with attempts.guarded(rate_limit.user_subject(user.id), rate_limit.PHONE_CODE):
            row = phone.verify(
                get_session(),
                user,
                form.code.data or "",
                secret_key=current_app.config["SECRET_KEY"],
                now=utcnow(),
                ip=client_ip(),
            )
    except AccountError as error:
        show_error(form, error)
        return _page(http_status(error), verify_form=form)
    flash(f"{phone.display(row.number)} is verified. Text messages go to it now.", "success")
    return redirect(url_for(".page"), 303)


@bp.post("/remove")
def remove() -> ResponseReturnValue:
    """Forget the number: no more text messages."""
    if phone.remove(get_session(), signed_in_user(), now=utcnow(), ip=client_ip()):
        flash("Your number is removed. We send no more text messages.", "success")
    return redirect(url_for(".page"), 303)
