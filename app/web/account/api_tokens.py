"""The account's personal access tokens for the API: make one (shown once), list, revoke."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from wtforms import SelectChoice

from app.db import get_session
from app.domain.accounts.errors import ReauthRequired
from app.domain.api_tokens import personal
from app.domain.api_tokens.errors import PersonalTokenError
from app.domain.base import utcnow
from app.web.account import confirm
from app.web.account.forms import PersonalTokenForm, show_error
from app.web.authz import signed_in_user
from app.web.network import client_ip

bp = Blueprint("account_tokens", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is about the signed-in user's own tokens."""


def _form(*, blank: bool = False) -> PersonalTokenForm:
    """The form, with the posted values unless `blank` (after a token was made)."""
    form = PersonalTokenForm(formdata=None) if blank else PersonalTokenForm()
    form.scopes.choices = [SelectChoice(k, f"{k}: {v}") for k, v in personal.SCOPES.items()]
    return form


def _page(form: PersonalTokenForm, status: int = 200, new_token: str | None = None):  # noqa: ANN202
    tokens = personal.user_tokens(get_session(), signed_in_user().id)
    page = render_template(
        "account/api_tokens.html", form=form, tokens=tokens, new_token=new_token, now=utcnow()
    )
    # The page with a new token must not be kept by any cache or the back button.
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/account/tokens")
def tokens() -> ResponseReturnValue:
    """The user's tokens and the form to make one."""
    return _page(_form())


@bp.post("/account/tokens")
def create() -> ResponseReturnValue:
    """Make a token and show it, this once."""
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 422)
    days = form.expires.data
    lifetime = None if days == "never" else timedelta(days=int(days or 0))
    try:
        _token, raw = personal.create_token(
            get_session(),
            signed_in_user(),
            name=form.name.data or "",
            scopes=form.scopes.data or [],
            lifetime=lifetime,
            now=utcnow(),
            ip=client_ip(),
        )
    except ReauthRequired:
        return confirm.confirm_first(url_for("account_tokens.tokens"))
    except PersonalTokenError as error:
        show_error(form, error)
        return _page(form, 422)
    return _page(_form(blank=True), 201, new_token=raw)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens; it stops working at once."""
    token = personal.revoke_token(
        get_session(), signed_in_user(), token_id, now=utcnow(), ip=client_ip()
    )
    flash(f"The token “{token.name}” is revoked.", "success")
    return redirect(url_for("account_tokens.tokens"))
