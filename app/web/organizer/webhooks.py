"""The organizer's webhook endpoints (`domain.webhooks.endpoints`): register one (its secret
shown once), rotate the secret, disable, enable, delete, send a test event, and the recent
deliveries with "send again" for a failed one. The owner's alone: another's id is a 404."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice, SelectMultipleField, StringField, widgets

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.webhooks import endpoints
from app.domain.webhooks.endpoints import MAX_URL_LENGTH, WebhookError
from app.domain.webhooks.models import EventType
from app.web.account.forms import show_error
from app.web.authz import requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm

bp = Blueprint("organizer_webhooks", __name__, url_prefix="/organizer/webhooks")

EVENT_LABELS = {
    EventType.BOOKING_CONFIRMED.value: (
        "booking.confirmed: a booking is paid, or free tickets claimed"
    ),
    EventType.BOOKING_REFUNDED.value: "booking.refunded: a refund went through",
    EventType.TICKET_CHECKED_IN.value: "ticket.checked_in: a ticket is scanned in at the door",
}


class EndpointForm(AppForm):
    # The domain checks both fields, so its messages are the ones shown.
    url = StringField(
        "Address (URL)",
        render_kw={"inputmode": "url", "autocomplete": "off", "maxlength": MAX_URL_LENGTH},
    )
    events = SelectMultipleField(
        "Events to send",
        choices=[SelectChoice(value, label) for value, label in EVENT_LABELS.items()],
        validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )


def _page(
    form: EndpointForm, status: int = 200, *, secret: str | None = None, for_id: int | None = None
) -> ResponseReturnValue:
    session, owner = get_session(), signed_in_user()
    page = render_template(
        "organizer/webhooks.html",
        form=form,
        endpoints=endpoints.endpoints(session, owner),
        deliveries=endpoints.recent_deliveries(session, owner),
        labels=EVENT_LABELS,
        secret=secret,
        secret_for=for_id,
    )
    # A page showing a secret must not be kept by any cache or the back button.
    return page, status, {"Cache-Control": "no-store"}


def _back() -> ResponseReturnValue:
    return redirect(url_for(".index"), 303)


@bp.get("/")
@requires_role(Role.ORGANIZER)
def index() -> ResponseReturnValue:
    """The owner's endpoints, recent deliveries and the form to add an endpoint."""
    return _page(EndpointForm(formdata=None))


@bp.post("/")
@requires_role(Role.ORGANIZER)
def create() -> ResponseReturnValue:
    """Register an endpoint and show its secret, this once."""
    form = EndpointForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        created = endpoints.create(
            get_session(),
            signed_in_user(),
            url=form.url.data or "",
            events=form.events.data or [],
            allow_private=bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS")),
            now=utcnow(),
        )
    except WebhookError as error:
        show_error(form, error)
        return _page(form, http_status(error))
    return _page(
        EndpointForm(formdata=None), 201, secret=created.secret, for_id=created.endpoint.id
    )


@bp.post("/<int:endpoint_id>/rotate")
@requires_role(Role.ORGANIZER)
def rotate(endpoint_id: int) -> ResponseReturnValue:
    """Give the endpoint a new secret and show it, this once; the old one stops signing."""
    rotated = endpoints.rotate_secret(get_session(), signed_in_user(), endpoint_id, now=utcnow())
    return _page(EndpointForm(formdata=None), secret=rotated.secret, for_id=endpoint_id)


@bp.post("/<int:endpoint_id>/disable")
@requires_role(Role.ORGANIZER)
def disable(endpoint_id: int) -> ResponseReturnValue:
    """Stop sending to the endpoint (nothing is queued for it meanwhile)."""
    endpoint = endpoints.set_active(
        get_session(), signed_in_user(), endpoint_id, active=False, now=utcnow()
    )
    flash(f"Disabled: {endpoint.url}", "success")
    return _back()


@bp.post("/<int:endpoint_id>/enable")
@requires_role(Role.ORGANIZER)
def enable(endpoint_id: int) -> ResponseReturnValue:
    """Send to the endpoint again, from the next event on."""
    endpoint = endpoints.set_active(
        get_session(), signed_in_user(), endpoint_id, active=True, now=utcnow()
    )
    flash(f"Enabled: {endpoint.url}", "success")
    return _back()


@bp.post("/<int:endpoint_id>/delete")
@requires_role(Role.ORGANIZER)
def delete(endpoint_id: int) -> ResponseReturnValue:
    """Delete the endpoint and its deliveries."""
    url = endpoints.delete(get_session(), signed_in_user(), endpoint_id, now=utcnow())
    flash(f"Deleted: {url}", "success")
    return _back()


@bp.post("/<int:endpoint_id>/test")
@requires_role(Role.ORGANIZER)
def send_test(endpoint_id: int) -> ResponseReturnValue:
    """Queue a `webhook.test` event to the endpoint."""
    endpoints.send_test(get_session(), signed_in_user(), endpoint_id, now=utcnow())
    flash("Test event queued: it goes out within a few seconds.", "success")
    return _back()


@bp.post("/deliveries/<int:delivery_id>/resend")
@requires_role(Role.ORGANIZER)
def resend(delivery_id: int) -> ResponseReturnValue:
    """Queue a failed delivery again, with fresh tries."""
    endpoints.send_again(get_session(), signed_in_user(), delivery_id, now=utcnow())
    flash("Queued again.", "success")
    return _back()
