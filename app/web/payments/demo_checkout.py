"""The demo provider's hosted checkout (`/pay/demo/<ref>`), served by the site itself outside
production: the payer succeeds, fails or gives up, as on a real provider's page.

The choice becomes a demo provider event, queued in the outbox and delivered by the worker,
signed, to `POST /webhooks/demo` (jobs/payment_tasks.deliver_demo_webhook): this page
confirms nothing itself. The page is the buyer's own (their payment), like a provider's
checkout link, and answers 404 to anyone else and when the demo provider is off.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.db import get_session
from app.domain.base import NotFound
from app.domain.outbox import enqueue
from app.domain.payments.checkout import payment_by_ref
from app.domain.payments.models import Payment, PaymentStatus
from app.integrations.payments import configured_providers
from app.integrations.payments.base import EventKind
from app.integrations.payments.demo import WEBHOOK_TOPIC, new_event
from app.web.authz import signed_in_user

bp = Blueprint("demo_checkout", __name__, url_prefix="/pay/demo")
CHOICES = {"succeed": EventKind.SUCCEEDED, "fail": EventKind.FAILED}


def _payment_or_404(ref: str) -> Payment:
    if "demo" not in configured_providers(current_app.config):
        abort(404)
    payment = payment_by_ref(get_session(), provider="demo", provider_ref=ref)
    if payment is None or payment.booking.user_id != signed_in_user().id:
        raise NotFound("We could not find that payment.")
    return payment


@bp.get("/<ref>")
@login_required
def page(ref: str) -> ResponseReturnValue:
    payment = _payment_or_404(ref)
    return render_template("payments/demo_checkout.html", payment=payment, booking=payment.booking)


@bp.post("/<ref>")
@login_required
def choose(ref: str) -> ResponseReturnValue:
    payment = _payment_or_404(ref)
    reference = payment.booking.reference
    choice = request.form.get("choice", "")
    if choice == "abandon" or payment.status != PaymentStatus.PENDING:
        return redirect(url_for("account_bookings.detail", reference=reference), 303)
    kind = CHOICES.get(choice)
    if kind is None:
        abort(400)
    extra = {"failure_message": "The demo card was declined."} if kind == EventKind.FAILED else {}
    event = new_event(
        kind,
        provider_ref=ref,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        **extra,
    )
    enqueue(get_session(), WEBHOOK_TOPIC, {"event": event})
    get_session().commit()
    return redirect(url_for("payments.status", reference=reference), 303)
