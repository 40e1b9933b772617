"""Buying from the event page's ticket panel: hold tickets, join a waitlist, unlock hidden tiers.

The panel (`public/_ticket_panel.html`) is part of the event page; `/events/<id>/tickets` shows
it on its own page, which is also where a plain (no-JS) form POST lands when it needs an
answer other than success. htmx requests get the panel fragment back.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.db import get_db, get_session
from app.domain.accounts import rate_limit
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing import access_codes, allocation, catalog
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.waitlist import OfferSettings, join_waitlist_by_id
from app.web.authz import (
    published_event_or_404,
    signed_in_user_or_none,
    verified_email_required,
)
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.htmx import full_page_redirect, render_page_or_fragment
from app.web.network import booking_wait, busy_network_message, client_network

bp = Blueprint("public_booking", __name__)


class BookingForm(AppForm):
    class Meta:
        # CSRFProtect has checked the token before any view runs; a second check here would
        # cost the ticket rush a token signature per request for nothing.
        csrf = False

    tier_id = IntegerField("Ticket type", validators=[InputRequired()])
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(min=1, max=100)])
    access_code = HiddenField("Access code", validators=[Optional(), Length(max=64)])


class AccessCodeForm(AppForm):
    class Meta:
        csrf = False  # a GET form that only reveals tiers; it changes nothing

    code = StringField("Access code", validators=[DataRequired(), Length(max=64)])


def offer_settings() -> OfferSettings:
    return OfferSettings(minutes=int(current_app.config["WAITLIST_OFFER_MINUTES"]))


def hold_rules() -> HoldRules:
    return HoldRules.from_config(current_app.config)


def _unlock(event_id: int, code: str | None) -> frozenset[int]:
    user = signed_in_user_or_none()
    return unlock_code(event_id, code, user_id=user.id if user else None)


def unlock_code(event_id: int, code: str | None, *, user_id: int | None) -> frozenset[int]:
    """The hidden tiers `code` unlocks. A code that unlocks none is a wrong guess, counted for
    the user and the network in its own transaction (this request may roll back). Raises
    `too_many_guesses` (and compares nothing) while either guessed wrong too often."""
    if not code:
        return frozenset()
    network = client_network()
    unlocked = access_codes.unlock(
        get_session(),
        event_id=event_id,
        code=code,
        user_id=user_id,
        network=network,
        policy=rate_limit.policy(rate_limit.ACCESS_CODE, current_app.config),
        now=utcnow(),
    )
    if not unlocked:
        with get_db().session() as own:
            access_codes.record_wrong_code(own, user_id=user_id, network=network, now=utcnow())
            own.commit()
    return unlocked


def _panel_response(
    event: Event,
    *,
    status: int = 200,
    error: str | None = None,
    error_tier_id: int | None = None,
    code: str | None = None,
    unlocked: frozenset[int] = frozenset(),
) -> ResponseReturnValue:
    panel = catalog.ticket_panel(get_session(), event, now=utcnow(), unlocked_tier_ids=unlocked)
    context = {
        "event": event,
        "panel": panel,
        "panel_error": error,
        "panel_error_tier_id": error_tier_id,
        "access_code": code if unlocked else None,
        "code_rejected": bool(code) and not unlocked,
    }
    page = render_page_or_fragment(
        "public/booking_tickets.html", "public/_ticket_panel.html", **context
    )
    return page, status


def _refusal(
    event_id: int, error: BookingError, *, tier_id: int, code: str | None, unlocked: frozenset[int]
) -> ResponseReturnValue:
    """The panel after a refused post, with what the post's code unlocked."""
    get_session().rollback()
    # While guessing is blocked the code was not compared: say nothing about it.
    shown = None if error.code == "too_many_guesses" else code
    return _panel_response(
        published_event_or_404(event_id, closed_too=True),
        status=http_status(error),
        error=error.message,
        error_tier_id=tier_id,
        code=shown,
        unlocked=unlocked,
    )


@bp.get("/events/<int:event_id>/tickets")
def tickets(event_id: int) -> ResponseReturnValue:
    """The ticket panel on its own page; `?code=` reveals hidden tiers."""
    event = published_event_or_404(event_id, closed_too=True)
    form = AccessCodeForm(request.args)
    code = form.code.data if form.validate() else None
    try:
        unlocked = _unlock(event.id, code)
    except BookingError as error:
        return _panel_response(event, status=http_status(error), error=error.message)
    return _panel_response(event, code=code, unlocked=unlocked)


def _form_problem(form: BookingForm) -> str:
    if form.quantity.errors:
        return "Please choose a whole number of tickets, between 1 and 100."
    if form.tier_id.errors:
        return BookingError("invalid_tier").message
    return "Please check your choice and try again."


def _login_first(event_id: int) -> ResponseReturnValue:
    """Anonymous buyers log in and come back to the tickets (a POST cannot be replayed)."""
    flash("Please log in to book tickets.", "info")
    return full_page_redirect(url_for("auth.login", next=url_for(".tickets", event_id=event_id)))


def _network_busy(event_id: int, wait: int) -> ResponseReturnValue:
    page, status = _panel_response(
        published_event_or_404(event_id, closed_too=True),
        status=429,
        error=busy_network_message(wait),
    )
    return page, status, {"Retry-After": str(wait)}


@bp.post("/events/<int:event_id>/book")
@verified_email_required
def book(event_id: int) -> ResponseReturnValue:
    """Hold tickets of one tier; success goes to the booking page."""
    if wait := booking_wait():
        return _network_busy(event_id, wait)
    user = signed_in_user_or_none()
    if user is None:
        return _login_first(event_id)
    form = BookingForm()
    if not form.validate():
        return _panel_response(
            published_event_or_404(event_id, closed_too=True), status=422, error=_form_problem(form)
        )
    code = form.access_code.data or None
    unlocked: frozenset[int] = frozenset()
    try:
        unlocked = _unlock(event_id, code)
        booking = allocation.hold_tier(
            get_session(),
            user=user,
            event_id=event_id,
            tier_id=form.tier_id.data,
            quantity=form.quantity.data,
            access_code=code,
            now=utcnow(),
            hold_minutes=int(current_app.config["HOLD_MINUTES"]),
            offers=offer_settings(),
            rules=hold_rules(),
        )
    except BookingError as error:
        return _refusal(event_id, error, tier_id=form.tier_id.data, code=code, unlocked=unlocked)
    return full_page_redirect(url_for("account_bookings.detail", reference=booking.reference))


@bp.post("/events/<int:event_id>/waitlist")
@verified_email_required
def join(event_id: int) -> ResponseReturnValue:
    """Join a sold-out tier's waitlist."""
    if wait := booking_wait():
        return _network_busy(event_id, wait)
    user = signed_in_user_or_none()
    if user is None:
        return _login_first(event_id)
    form = BookingForm()
    event = published_event_or_404(event_id, closed_too=True)
    if not form.validate():
        return _panel_response(event, status=422, error=_form_problem(form))
    code = form.access_code.data or None
    unlocked: frozenset[int] = frozenset()
    try:
        unlocked = _unlock(event_id, code)
        entry = join_waitlist_by_id(
            get_session(),
            user=user,
            event_id=event_id,
            tier_id=form.tier_id.data,
            quantity=form.quantity.data,
            now=utcnow(),
            access_code=code,
        )
    except BookingError as error:
        return _refusal(event_id, error, tier_id=form.tier_id.data, code=code, unlocked=unlocked)
    flash(
        f"You are on the waitlist for {entry.tier.name}. We will email you when tickets free up.",
        "success",
    )
    return full_page_redirect(url_for("account_bookings.index") + "#waitlist")
