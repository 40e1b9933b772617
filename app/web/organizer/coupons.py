"""Organizers' coupon codes for an event: the list with each code's uses, create, edit,
deactivate (`ticketing.coupon_settings`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.db import get_session
from app.domain import money
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing import coupon_settings, coupons
from app.domain.ticketing.errors import CouponError
from app.domain.ticketing.models import Coupon, CouponKind
from app.domain.ticketing.tiers import event_tiers
from app.web.authz import (
    organizer_event_or_404,
    owned_or_404,
    requires_organizer_or_member,
    signed_in_user,
)
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.organizer.tiers import local_to_utc, utc_to_local

bp = Blueprint("organizer_coupons", __name__, url_prefix="/organizer/events/<int:event_id>")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CouponForm(AppForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Length(min=coupon_settings.MIN_CODE, max=coupons.MAX_CODE),
            Regexp(r"^[A-Za-z0-9_-]+$", message="Letters, digits, dashes and underscores only."),
        ],
    )
    kind = SelectField(
        "Discount",
        choices=[
            SelectChoice(CouponKind.PERCENT.value, "A percentage off"),
            SelectChoice(CouponKind.FIXED.value, "An amount off"),
        ],
        default=CouponKind.PERCENT.value,
    )
    percent_off = IntegerField("Percentage off", validators=[Optional(), NumberRange(1, 100)])
    amount_off = StringField(
        "Amount off",
        validators=[
            Optional(),
            Regexp(r"^\d{1,7}([.,]\d{1,3})?$", message="Enter an amount like 5.00."),
        ],
    )
    tier_ids = CheckboxesField("Ticket types", coerce=int, validators=[Optional()])
    max_uses = IntegerField(
        "Uses in all", validators=[Optional(), NumberRange(1, coupon_settings.MAX_USES)]
    )
    max_uses_per_user = IntegerField(
        "Uses per person", validators=[Optional(), NumberRange(1, coupon_settings.MAX_USES)]
    )
    valid_from = DateTimeLocalField("Valid from", validators=[Optional()])
    valid_until = DateTimeLocalField("Valid until", validators=[Optional()])
    min_quantity = IntegerField(
        "Minimum tickets",
        default=1,
        validators=[InputRequired(), NumberRange(1, coupon_settings.MAX_MIN_QUANTITY)],
    )
    active = BooleanField("Active: buyers can use it", default=True)

    def to_data(self, event: Event) -> coupon_settings.CouponData | None:
        """The settings, or None with the field's error (a discount of the other kind left
        empty, an amount with more decimals than the event's currency)."""
        kind = CouponKind(self.kind.data)
        amount = None
        if kind == CouponKind.PERCENT and self.percent_off.data is None:
            self.percent_off.errors = [*self.percent_off.errors, "Enter a percentage, 1 to 100."]
            return None
        if kind == CouponKind.FIXED:
            try:
                amount = money.to_minor(self.amount_off.data or "", event.currency)
            except money.MoneyError as error:
                self.amount_off.errors = [*self.amount_off.errors, error.message]
                return None
        return coupon_settings.CouponData(
            code=self.code.data or "",
            kind=kind,
            percent_off=self.percent_off.data if kind == CouponKind.PERCENT else None,
            amount_off_minor=amount,
            tier_ids=list(self.tier_ids.data or []) or None,
            max_uses=self.max_uses.data,
            max_uses_per_user=self.max_uses_per_user.data,
            valid_from=local_to_utc(self.valid_from.data, event.timezone),
            valid_until=local_to_utc(self.valid_until.data, event.timezone),
            min_quantity=self.min_quantity.data or 1,
            active=bool(self.active.data),
        )

    def fill_from(self, coupon: Coupon, event: Event) -> None:
        if coupon.amount_off_minor is not None:
            self.amount_off.data = money.format_amount(coupon.amount_off_minor, coupon.currency)
        self.tier_ids.data = list(coupon.tier_ids or [])
        self.valid_from.data = utc_to_local(coupon.valid_from, event.timezone)
        self.valid_until.data = utc_to_local(coupon.valid_until, event.timezone)


def _form(event: Event, coupon: Coupon | None = None) -> CouponForm:
    form = CouponForm(obj=coupon) if coupon else CouponForm()
    form.tier_ids.choices = [
        SelectChoice(tier.id, tier.name) for tier in event_tiers(get_session(), event)
    ]
    return form


def _own_coupon(event: Event, coupon_id: int) -> Coupon:
    return owned_or_404(get_session().get(Coupon, coupon_id), event.id, owner_attr="event_id")


@bp.get("/coupons")
@requires_organizer_or_member
def index(event_id: int) -> ResponseReturnValue:
    """The event's coupon codes with their uses."""
    event = organizer_event_or_404(event_id)
    session = get_session()
    listed = coupon_settings.event_coupons(session, event.id)
    return render_template(
        "organizer/coupons.html",
        event=event,
        coupons=listed,
        uses=coupons.uses(session, [c.id for c in listed], now=utcnow()),
        tier_names={tier.id: tier.name for tier in event_tiers(session, event)},
        now_utc=utcnow(),
    )


def _render_form(
    event: Event, form: CouponForm, coupon: Coupon | None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "organizer/coupon_form.html", event=event, form=form, coupon=coupon
    ), status


def _save(event: Event, form: CouponForm, coupon: Coupon | None) -> ResponseReturnValue:
    data = form.to_data(event) if form.validate() else None
    if data is None:
        return _render_form(event, form, coupon, 422)
    session = get_session()
    try:
        if coupon is None:
            saved = coupon_settings.create_coupon(
                session, event=event, data=data, actor_id=signed_in_user().id, now=utcnow()
            )
            flash(f"Code {saved.code} created.", "success")
        else:
            saved = coupon_settings.update_coupon(
                session, coupon=coupon, data=data, actor_id=signed_in_user().id, now=utcnow()
            )
            flash(f"Code {saved.code} saved.", "success")
    except CouponError as error:
        session.rollback()
        form.form_errors.append(error.message)
        shown = _own_coupon(event, coupon.id) if coupon else None
        return _render_form(event, form, shown, http_status(error))
    return redirect(url_for(".index", event_id=event.id), 303)


@bp.get("/coupons/new")
@requires_organizer_or_member
def new(event_id: int) -> ResponseReturnValue:
    """Form for a new coupon code."""
    event = organizer_event_or_404(event_id)
    return _render_form(event, _form(event), None)


@bp.post("/coupons/new")
@requires_organizer_or_member
def create(event_id: int) -> ResponseReturnValue:
    """Create a coupon code."""
    event = organizer_event_or_404(event_id)
    return _save(event, _form(event), None)


@bp.get("/coupons/<int:coupon_id>/edit")
@requires_organizer_or_member
def edit(event_id: int, coupon_id: int) -> ResponseReturnValue:
    """Form for an existing coupon code."""
    event = organizer_event_or_404(event_id)
    coupon = _own_coupon(event, coupon_id)
    form = _form(event, coupon)
    form.fill_from(coupon, event)
    return _render_form(event, form, coupon)


@bp.post("/coupons/<int:coupon_id>/edit")
@requires_organizer_or_member
def update(event_id: int, coupon_id: int) -> ResponseReturnValue:
    """Save a coupon code: later applications get the new terms; bookings keep theirs."""
    event = organizer_event_or_404(event_id)
    coupon = _own_coupon(event, coupon_id)
    return _save(event, _form(event), coupon)


@bp.post("/coupons/<int:coupon_id>/deactivate")
@requires_organizer_or_member
def deactivate(event_id: int, coupon_id: int) -> ResponseReturnValue:
    """Stop a code's new uses (bookings that have it keep their discount)."""
    event = organizer_event_or_404(event_id)
    coupon = coupon_settings.deactivate_coupon(
        get_session(),
        coupon=_own_coupon(event, coupon_id),
        actor_id=signed_in_user().id,
        now=utcnow(),
    )
    flash(f"Code {coupon.code} deactivated: buyers can no longer use it.", "success")
    return redirect(url_for(".index", event_id=event.id), 303)
