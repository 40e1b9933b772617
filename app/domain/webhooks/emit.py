"""Queue webhook deliveries in the transaction of their cause.

`emit` is one set-based statement: a delivery for each of the event's organizer's active
endpoints that take the event type, none read first, so a rush's booking transaction pays for
one index probe of `webhook_endpoints` (none at all to insert for an organizer without
endpoints). The key (event id + endpoint id) is unique, so the same cause again adds nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.webhooks.models import EventType

if TYPE_CHECKING:
    from app.domain.payments.models import Payment, Refund
    from app.domain.ticketing.models import Booking

_EMIT = text(
    """
    INSERT INTO webhook_deliveries
        (endpoint_id, event_type, key, payload, status, attempts, next_try_at, created_at)
    SELECT e.id, :type, :event_id || ':' || e.id, CAST(:payload AS jsonb), 'pending', 0, :now, :now
    FROM webhook_endpoints e
    WHERE e.organizer_id = (SELECT organizer_id FROM events WHERE id = :event)
      AND e.active AND CAST(:type AS varchar) = ANY(e.events)
    ON CONFLICT (key) DO NOTHING
    """
)


def message(event_type: str, event_id: str, data: dict[str, Any], now: datetime) -> dict:
    """The body sent (Standard Webhooks' shape), with the id its `Webhook-Id` header carries."""
    return {"id": event_id, "type": event_type, "timestamp": now.isoformat(), "data": data}


def emit(
    session: Session,
    event_type: EventType,
    *,
    event_id: int,
    about: object,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Queue `event_type` about `about` (a booking's, refund's or check-in's id) for the
    endpoints of the organizer of event `event_id`; once per cause and endpoint."""
    message_id = f"{event_type.value}:{about}"
    body = message(event_type.value, message_id, {"event_id": event_id, **data}, now)
    session.execute(
        _EMIT,
        {
            "type": event_type.value,
            "event_id": message_id,
            "payload": json.dumps(body),
            "now": now,
            "event": event_id,
        },
    )


def booking_confirmed(session: Session, booking: Booking, *, now: datetime) -> None:
    """From every path that confirms a booking (a payment, a free claim), next to its mail."""
    emit(
        session,
        EventType.BOOKING_CONFIRMED,
        event_id=booking.event_id,
        about=booking.id,
        data={
            "booking_id": booking.id,
            "reference": booking.reference,
            "total_minor": booking.total_minor,
            "currency": booking.currency,
        },
        now=now,
    )


def booking_refunded(
    session: Session, booking: Booking, refund: Refund, payment: Payment, *, now: datetime
) -> None:
    """A refund the provider says succeeded (in full or in part: `fully_refunded` says)."""
    emit(
        session,
        EventType.BOOKING_REFUNDED,
        event_id=booking.event_id,
        about=refund.id,
        data={
            "booking_id": booking.id,
            "reference": booking.reference,
            "refund_id": refund.id,
            "amount_minor": refund.amount_minor,
            "currency": refund.currency,
            "fully_refunded": payment.refunded_minor >= payment.amount_minor,
        },
        now=now,
    )


def ticket_checked_in(
    session: Session, *, event_id: int, ticket_id: int, check_in_id: int, gate: str, now: datetime
) -> None:
    emit(
        session,
        EventType.TICKET_CHECKED_IN,
        event_id=event_id,
        about=check_in_id,
        data={"ticket_id": ticket_id, "check_in_id": check_in_id, "gate": gate},
        now=now,
    )
