"""Organizers' ticket tiers (create, edit, delete) and the waitlist of each tier."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.db import get_session
from app.domain import money
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing import tiers as tier_service
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import TicketTier, TierKind
from app.domain.ticketing.waitlist import event_waitlists
from app.web.authz import (
    organizer_event_or_404,
    owned_or_404,
    requires_organizer_or_member,
    signed_in_user,
)
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.public.booking import offer_settings

bp = Blueprint("organizer_tiers", __name__, url_prefix="/organizer/events/<int:event_id>")


class TierForm(AppForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=tier_service.NAME_MAX)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(TierKind.FREE.value, "Free"),
            SelectChoice(TierKind.PAID.value, "Paid"),
            SelectChoice(TierKind.VIP.value, "VIP"),
        ],
        default=TierKind.FREE.value,
    )
    description = TextAreaField(
        "Perks and description", validators=[Length(max=tier_service.DESCRIPTION_MAX)]
    )
    price = StringField(
        "Price",
        default="0",
        validators=[
            InputRequired(),
            Regexp(r"^\d{1,7}([.,]\d{1,3})?$", message="Enter a price like 12.50."),
        ],
    )
    currency = StringField(
        "Currency",
        default="USD",
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="Three letters, e.g. EUR.")],
    )
    capacity = IntegerField(
        "Capacity",
        default=100,
        validators=[InputRequired(), NumberRange(min=0, max=tier_service.MAX_CAPACITY)],
    )
    sales_start = DateTimeLocalField("Sales start", validators=[Optional()])
    sales_end = DateTimeLocalField("Sales end", validators=[Optional()])
    min_per_order = IntegerField(
        "Minimum per order",
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=tier_service.MAX_PER_ORDER)],
    )
    max_per_order = IntegerField(
        "Maximum per order",
        default=10,
        validators=[InputRequired(), NumberRange(min=1, max=tier_service.MAX_PER_ORDER)],
    )
    per_user_limit = IntegerField(
        "Limit per person (all their bookings)",
        validators=[Optional(), NumberRange(min=1, max=tier_service.MAX_PER_USER)],
    )
    hidden = BooleanField("Hidden: only buyers with the access code see it")
    access_code = StringField(
        "Access code", validators=[Optional(), Length(max=tier_service.MAX_ACCESS_CODE)]
    )
    position = IntegerField(
        "Order on the page",
        default=0,
        validators=[Optional(), NumberRange(0, tier_service.MAX_POSITION)],
    )

    # The tier's code so far (on edit): a short one set before the minimum may stay as it is.
    kept_code: str | None = None

    def validate_access_code(self, field: StringField) -> None:
        code = (field.data or "").strip()
        if code and not tier_service.access_code_ok(code, kept_code=self.kept_code):
            raise ValidationError(
                f"Use at least {tier_service.MIN_ACCESS_CODE} characters, hard to guess."
            )

    def price_minor(self) -> int | None:
        """The price in minor units, or None (with a field error) when it is not an amount of
        the currency (too many decimals, say)."""
        try:
            return money.to_minor(self.price.data or "", self.currency.data or "")
        except money.MoneyError as error:
            self.price.errors = [*self.price.errors, error.message]
            return None

    def to_data(self, event: Event) -> tier_service.TierData | None:
        price = self.price_minor()
        if price is None:
            return None
        return tier_service.TierData(
            name=self.name.data or "",
            kind=TierKind(self.kind.data),
            description=self.description.data or "",
            price_minor=price,
            currency=(self.currency.data or "").upper(),
            capacity=self.capacity.data or 0,
            sales_start=local_to_utc(self.sales_start.data, event.timezone),
            sales_end=local_to_utc(self.sales_end.data, event.timezone),
            min_per_order=self.min_per_order.data,
            max_per_order=self.max_per_order.data,
            per_user_limit=self.per_user_limit.data,
            hidden=bool(self.hidden.data),
            access_code=self.access_code.data or None,
            position=self.position.data or 0,
        )

    def fill_from(self, tier: TicketTier, event: Event) -> None:
        self.price.data = money.format_amount(tier.price_minor, tier.currency)
        self.sales_start.data = utc_to_local(tier.sales_start, event.timezone)
        self.sales_end.data = utc_to_local(tier.sales_end, event.timezone)


def local_to_utc(moment: datetime | None, tz: str) -> datetime | None:
    return moment.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if moment else None


def utc_to_local(moment: datetime | None, tz: str) -> datetime | None:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if moment else None


def _own_tier(event: Event, tier_id: int) -> TicketTier:
    return owned_or_404(get_session().get(TicketTier, tier_id), event.id, owner_attr="event_id")


@bp.get("/tiers")
@requires_organizer_or_member
def index(event_id: int) -> ResponseReturnValue:
    """The event's tiers with sold, held and free units."""
    event = organizer_event_or_404(event_id)
    session = get_session()
    return render_template(
        "organizer/tiers.html",
        event=event,
        tiers=tier_service.event_tiers(session, event),
        sales=tier_service.tier_sales(session, event.id),
    )


def _render_form(
    event: Event, form: TierForm, tier: TicketTier | None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "organizer/tier_form.html",
        event=event,
        form=form,
        tier=tier,
        min_code=tier_service.MIN_ACCESS_CODE,
    ), status


def _save(event: Event, form: TierForm, tier: TicketTier | None) -> ResponseReturnValue:
    form.kept_code = tier.access_code if tier else None
    data = form.to_data(event) if form.validate() else None
    if data is None:
        return _render_form(event, form, tier, 422)
    session = get_session()
    try:
        if tier is None:
            tier = tier_service.create_tier(
                session,
                event=event,
                data=data,
                actor_id=signed_in_user().id,
                now=utcnow(),
                offers=offer_settings(),
            )
            flash(f"Ticket type “{tier.name}” created.", "success")
        else:
            tier_service.update_tier(
                session,
                tier=tier,
                data=data,
                actor_id=signed_in_user().id,
                now=utcnow(),
                offers=offer_settings(),
            )
            flash(f"Ticket type “{tier.name}” saved.", "success")
    except BookingError as error:
        session.rollback()
        form.form_errors.append(error.message)
        return _render_form(
            event, form, _own_tier(event, tier.id) if tier else None, http_status(error)
        )
    return redirect(url_for(".index", event_id=event.id), 303)


@bp.get("/tiers/new")
@requires_organizer_or_member
def new(event_id: int) -> ResponseReturnValue:
    """Form for a new tier."""
    event = organizer_event_or_404(event_id)
    limit = int(current_app.config["TIER_DEFAULT_PER_USER_LIMIT"]) or None
    return _render_form(event, TierForm(currency=event.currency, per_user_limit=limit), None)


@bp.post("/tiers/new")
@requires_organizer_or_member
def create(event_id: int) -> ResponseReturnValue:
    """Create a tier (and its units)."""
    event = organizer_event_or_404(event_id)
    return _save(event, TierForm(), None)


@bp.get("/tiers/<int:tier_id>/edit")
@requires_organizer_or_member
def edit(event_id: int, tier_id: int) -> ResponseReturnValue:
    """Form for an existing tier."""
    event = organizer_event_or_404(event_id)
    tier = _own_tier(event, tier_id)
    form = TierForm(obj=tier)
    form.fill_from(tier, event)
    return _render_form(event, form, tier)


@bp.post("/tiers/<int:tier_id>/edit")
@requires_organizer_or_member
def update(event_id: int, tier_id: int) -> ResponseReturnValue:
    """Save a tier; capacity goes up freely and down to what is sold or held."""
    event = organizer_event_or_404(event_id)
    return _save(event, TierForm(), _own_tier(event, tier_id))


@bp.post("/tiers/<int:tier_id>/delete")
@requires_organizer_or_member
def delete(event_id: int, tier_id: int) -> ResponseReturnValue:
    """Delete a tier nobody booked."""
    event = organizer_event_or_404(event_id)
    tier = _own_tier(event, tier_id)
    try:
        tier_service.delete_tier(
            get_session(), tier=tier, actor_id=signed_in_user().id, now=utcnow()
        )
        flash("Ticket type deleted.", "success")
    except BookingError as error:
        flash(error.message, "error")
    return redirect(url_for(".index", event_id=event.id), 303)


@bp.get("/waitlist")
@requires_organizer_or_member
def waitlist(event_id: int) -> ResponseReturnValue:
    """Each tier's queue in order, with offers made and converted."""
    event = organizer_event_or_404(event_id)
    return render_template(
        "organizer/waitlist.html", event=event, waitlists=event_waitlists(get_session(), event)
    )
