"""Bookings through the API: hold (general admission or seats), read, list, cancel, pay and
the tickets, with the booking form's domain functions, limits and refusals. Every create takes
an `Idempotency-Key` (app/domain/api_tokens/idempotency.py): a retry gets the first answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError

from app.db import get_session
from app.domain.accounts.login import EmailNotVerified
from app.domain.api_tokens import idempotency
from app.domain.api_tokens.errors import InvalidRequest
from app.domain.base import NotFound, utcnow
from app.domain.ticketing import allocation, bookings
from app.domain.ticketing.bookings import SummaryLine
from app.domain.ticketing.models import Booking, BookingStatus
from app.domain.ticketing.on_sale import load_event_on_sale, tier_and_event
from app.domain.tickets import wallet
from app.web.api import bp
from app.web.api.booking_schemas import (
    BookingCreate,
    BookingLineOut,
    BookingListQuery,
    BookingOut,
    BookingPage,
    CheckoutCreate,
    CheckoutOut,
    TicketList,
    TicketOut,
)
from app.web.api.events import query_as
from app.web.api.guard import api_caller, api_user
from app.web.api.openapi import operation
from app.web.api.problems import http_problem
from app.web.authz import published_or_404
from app.web.links import absolute_url
from app.web.network import booking_wait, busy_network_message
from app.web.payments.start import start_checkout
from app.web.public.booking import hold_rules, offer_settings, unlock_code

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
SCOPE = "bookings:write"
REPLAYED = "Idempotent-Replayed"
TAG = "bookings"


def json_answer(model: BaseModel, status: int = 200) -> Response:
    response = current_app.response_class(
        model.model_dump_json(), status=status, mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def json_body(model: type[M]) -> M:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("Send a JSON object (Content-Type: application/json).")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"`{'.'.join(str(part) for part in e['loc']) or 'body'}`: {e['msg']}"
            for e in error.errors()
        )
        raise InvalidRequest(f"Check the request: {problems}.") from None


def idempotent(view: F) -> F:
    """Honour an `Idempotency-Key` header on a create (see the module of `idempotency`)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        idempotency.check_key(key)
        session = get_session()
        user_id = api_caller().user.id
        fingerprint = idempotency.request_hash(
            request.path, request.get_json(silent=True) if request.content_length else None
        )
        earlier = idempotency.claim(
            session,
            user_id=user_id,
            key=key,
            route=request.url_rule.rule if request.url_rule else request.path,
            fingerprint=fingerprint,
            now=utcnow(),
        )
        if earlier is not None:
            replay = current_app.response_class(
                earlier.body, status=earlier.status, mimetype="application/json"
            )
            replay.headers[REPLAYED] = "true"
            replay.headers["Cache-Control"] = "no-store"
            return replay
        try:
            response: Response = view(*args, **kwargs)
        except Exception:
            # A refused create keeps no key: a retry runs again. (Checkout commits its payment
            # midway, so the key may have committed with it: it goes too.)
            session.rollback()
            idempotency.forget(session, user_id=user_id, key=key)
            session.commit()
            raise
        idempotency.keep_answer(
            session,
            user_id=user_id,
            key=key,
            status=response.status_code,
            body=response.get_data(as_text=True),
        )
        return response

    return wrapped  # type: ignore[return-value]


def _booking_out(booking: Booking, lines: list[SummaryLine] | None = None) -> BookingOut:
    """The booking as the API shows it; `lines` saves loading its lines and their tiers."""
    if lines is None:
        lines = [
            SummaryLine(
                line.tier_id,
                line.tier.name,
                line.quantity,
                line.unit_price_minor,
                list(line.seat_ids or []),
            )
            for line in booking.lines
        ]
    return BookingOut(
        reference=booking.reference,
        event_id=booking.event_id,
        status=BookingStatus(bookings.display_status(booking, utcnow())),
        quantity=booking.quantity,
        total_minor=booking.total_minor,
        discount_minor=booking.discount_minor,
        currency=booking.currency,
        hold_expires_at=booking.hold_expires_at,
        created_at=booking.created_at,
        lines=[BookingLineOut(**asdict(line)) for line in lines],
    )


def _own(reference: str) -> Booking:
    if len(reference) > 16:
        raise NotFound("We could not find that booking.")
    return bookings.user_booking(get_session(), user_id=api_caller().user.id, reference=reference)


def _own_open(reference: str) -> Booking:
    """`_own`, with a hold that ran out released on the way, as the booking page does."""
    if len(reference) > 16:
        raise NotFound("We could not find that booking.")
    return bookings.open_booking(
        get_session(),
        user_id=api_caller().user.id,
        reference=reference,
        now=utcnow(),
        offers=offer_settings(),
    )


@bp.post("/bookings")
@operation(
    summary="Hold tickets",
    tag=TAG,
    body=BookingCreate,
    response=BookingOut,
    status=201,
    errors=(400, 403, 404, 409, 415, 422),
    bearer=True,
    idempotent=True,
)
@api_user(scope=SCOPE)
@idempotent
def hold() -> Response:
    """Hold general admission tickets of one tier, or chosen seats, as the booking form does."""
    user = api_caller().user
    if user.email_verified_at is None:
        raise EmailNotVerified(user)
    if wait := booking_wait():
        return http_problem(429, busy_network_message(wait), {"Retry-After": str(wait)})
    data = json_body(BookingCreate)
    session = get_session()
    common = {
        "now": utcnow(),
        "hold_minutes": int(current_app.config["HOLD_MINUTES"]),
        "offers": offer_settings(),
        "rules": hold_rules(),
    }
    if data.seat_ids is not None:
        event = published_or_404(load_event_on_sale(session, data.event_id))
        if not event.is_seated:
            raise NotFound("We could not find that event.")
        booking = allocation.hold_units(
            session,
            user=user,
            event=event,
            tier=None,
            quantity=len(data.seat_ids),
            seat_ids=data.seat_ids,
            allow_single_seats=data.allow_single_seats,
            **common,
        )
        summary = bookings.booking_lines(session, booking)
    else:
        assert data.tier_id is not None and data.quantity is not None  # noqa: S101 - validated
        unlock_code(data.event_id, data.access_code, user_id=user.id)
        # `allocation.hold_tier`'s steps, keeping the tier it loads for the answer's line.
        tier, sale_event = tier_and_event(
            session, data.tier_id, event_id=data.event_id, buyer_id=user.id
        )
        booking = allocation.hold_units(
            session,
            user=user,
            event=sale_event,
            tier=tier,
            quantity=data.quantity,
            access_code=data.access_code,
            limit_locked=True,
            gate_held=True,
            **common,
        )
        line = SummaryLine(tier.id, tier.name, data.quantity, tier.price_minor, [])
        summary = [line]
    response = json_answer(_booking_out(booking, summary), 201)
    response.headers["Location"] = f"{bp.url_prefix}/bookings/{booking.reference}"
    return response


@bp.get("/bookings")
@operation(
    summary="Your bookings",
    tag=TAG,
    query=BookingListQuery,
    response=BookingPage,
    errors=(400, 403),
    bearer=True,
)
@api_user(scope=SCOPE)
def my_bookings() -> Response:
    """Your bookings, newest first, a page at a time."""
    query = query_as(BookingListQuery)
    rows, next_id = bookings.user_bookings_page(
        get_session(),
        user_id=api_caller().user.id,
        before_id=int(query.cursor) if query.cursor else None,
        limit=query.limit,
    )
    page = BookingPage(
        items=[_booking_out(row) for row in rows],
        next_cursor=str(next_id) if next_id is not None else None,
    )
    return json_answer(page)


@bp.get("/bookings/<reference>")
@operation(summary="A booking", tag=TAG, response=BookingOut, errors=(403, 404), bearer=True)
@api_user(scope=SCOPE)
def booking(reference: str) -> Response:
    """One of your bookings (anyone else's is not found); a hold that ran out is released."""
    return json_answer(_booking_out(_own_open(reference)))


@bp.post("/bookings/<reference>/cancel")
@operation(
    summary="Cancel a booking",
    tag=TAG,
    response=BookingOut,
    errors=(400, 403, 404, 409, 422),
    bearer=True,
    idempotent=True,
)
@api_user(scope=SCOPE)
@idempotent
def cancel(reference: str) -> Response:
    """Cancel a hold, or a free booking before the event, as the booking page does."""
    session = get_session()
    booking = _own(reference)
    bookings.cancel_booking(
        session, booking, actor_id=api_caller().user.id, now=utcnow(), offers=offer_settings()
    )
    return json_answer(_booking_out(booking))


@bp.post("/bookings/<reference>/checkout")
@operation(
    summary="Pay for a booking",
    tag=TAG,
    body=CheckoutCreate,
    response=CheckoutOut,
    status=201,
    errors=(400, 403, 404, 409, 415, 422, 503),
    bearer=True,
    idempotent=True,
)
@api_user(scope=SCOPE)
@idempotent
def checkout(reference: str) -> Response:
    """Start a payment with one of the event's providers; pay at `checkout_url`."""
    booking = _own(reference)
    user = api_caller().user
    if user.email_verified_at is None:
        raise EmailNotVerified(user)
    data = json_body(CheckoutCreate)
    payment, made = start_checkout(get_session(), booking, user=user, provider_name=data.provider)
    answer = CheckoutOut(
        payment_id=payment.id,
        provider=payment.provider,
        checkout_url=made.redirect_url,
        booking_url=absolute_url("account_bookings.detail", reference=booking.reference),
    )
    return json_answer(answer, 201)


@bp.get("/bookings/<reference>/tickets")
@operation(
    summary="A booking's tickets", tag=TAG, response=TicketList, errors=(403, 404), bearer=True
)
@api_user(scope=SCOPE)
def booking_tickets(reference: str) -> Response:
    """The tickets of a confirmed booking, each with the signed text of its QR code."""
    booking = _own_open(reference)
    found = []
    if booking.status == BookingStatus.CONFIRMED:
        found = wallet.booking_tickets(get_session(), booking, now=utcnow())
    answer = TicketList(
        reference=booking.reference,
        tickets=[
            TicketOut(
                id=t.id,
                number=t.number,
                status=t.status,
                tier_name=t.tier_name,
                seat=t.seat,
                attendee=t.attendee,
                qr_payload=t.code,
                checked_in_at=t.checked_in_at,
            )
            for t in found
        ],
    )
    return json_answer(answer)
