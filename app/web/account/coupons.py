"""A coupon code on one's held booking: apply it, or take it off (`ticketing.coupons`).

From the booking page's form: htmx swaps the booking fragment in place (a refusal too, with its
status: 409, 422, 429), a plain form post lands on the booking page (a 303 after success, the
page with the message after a refusal). Someone else's booking is a 404 and nothing changes.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.db import get_db, get_session
from app.domain.accounts import rate_limit
from app.domain.base import Busy, utcnow
from app.domain.ticketing import bookings, coupons
from app.domain.ticketing.errors import BookingError, CouponError
from app.web.account.bookings import render_booking
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.htmx import wants_fragment
from app.web.network import client_network

bp = Blueprint("account_coupons", __name__, url_prefix="/account")


class CouponForm(AppForm):
    class Meta:
        csrf = False  # CSRFProtect has checked every POST's token before the view runs

    code = StringField("Code", validators=[DataRequired(), Length(max=coupons.MAX_CODE)])


def _form_problem(form: CouponForm) -> str:
    if not (form.code.data or "").strip():
        return "Enter a code."
    return f"A code has at most {coupons.MAX_CODE} characters."


def _changed(reference: str, message: str) -> ResponseReturnValue:
    """htmx: the booking's fragment with its new total; a plain post: the page, after a 303."""
    if wants_fragment():
        session = get_session()
        session.expire_all()  # the booking as the service left it (and its coupon)
        return render_booking(
            bookings.user_booking(session, user_id=signed_in_user().id, reference=reference),
            notice=message,
        )
    flash(message, "success")
    return redirect(url_for("account_bookings.detail", reference=reference), 303)


def _refused(
    reference: str, error: BookingError | CouponError | Busy, code: str | None
) -> ResponseReturnValue:
    session = get_session()
    session.rollback()
    booking = bookings.user_booking(session, user_id=signed_in_user().id, reference=reference)
    if isinstance(error, CouponError) and error.code != "too_many_guesses":
        return render_booking(
            booking, status=http_status(error), coupon_error=error.message, coupon_code=code
        )
    return render_booking(booking, status=http_status(error), error=error.message)


@bp.post("/bookings/<reference>/coupon")
@login_required
def apply(reference: str) -> ResponseReturnValue:
    """Apply a coupon code to one's held booking (a code that does not apply counts as a guess)."""
    session = get_session()
    user_id = signed_in_user().id
    booking = bookings.user_booking(session, user_id=user_id, reference=reference)
    # The form's fields only: a file sent where the code goes is no code (Flask-WTF would
    # otherwise hand the field the upload).
    form = CouponForm(formdata=request.form)
    if not form.validate():
        return render_booking(
            booking, status=422, coupon_error=_form_problem(form), coupon_code=None
        )
    network = client_network()
    try:
        applied = coupons.apply_coupon(
            session,
            booking,
            form.code.data or "",
            now=utcnow(),
            policy=rate_limit.policy(rate_limit.COUPON, current_app.config),
            network=network,
        )
    except CouponError as error:
        if coupons.counts_as_guess(error):
            # In a transaction of its own: this request's is rolled back.
            with get_db().session() as own:
                coupons.record_wrong_code(own, user_id=user_id, network=network, now=utcnow())
                own.commit()
        return _refused(reference, error, form.code.data)
    except (BookingError, Busy) as error:
        return _refused(reference, error, form.code.data)
    code = applied.coupon.code if applied.coupon else ""
    return _changed(reference, f"Code {code} applied.")


@bp.post("/bookings/<reference>/coupon/remove")
@login_required
def remove(reference: str) -> ResponseReturnValue:
    """Take the coupon code off one's held booking."""
    session = get_session()
    booking = bookings.user_booking(session, user_id=signed_in_user().id, reference=reference)
    try:
        coupons.remove_coupon(session, booking, now=utcnow())
    except (BookingError, Busy) as error:
        return _refused(reference, error, None)
    return _changed(reference, "The code was removed.")
