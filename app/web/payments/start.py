"""Starting a payment of a booking with a provider: shared by the booking page's pay button and
the API's checkout."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import utcnow
from app.domain.payments import checkout
from app.domain.payments.errors import PaymentError
from app.domain.payments.models import Payment
from app.domain.ticketing.models import Booking
from app.integrations.payments.base import Checkout, CheckoutRequest, ProviderError
from app.web.links import absolute_url
from app.web.payments.choices import providers_for

log = logging.getLogger(__name__)


def start_checkout(
    session: Session, booking: Booking, *, user: User, provider_name: str
) -> tuple[Payment, Checkout]:
    """A pending payment of `booking` with the provider, and its checkout. The payment commits
    before the provider is called (its webhook may arrive first); a provider that fails is
    recorded and refused as `provider_unavailable`."""
    event = booking.event
    accepted = providers_for(event.payment_providers)
    payment = checkout.begin_payment(
        session, booking, provider=provider_name, accepted=accepted, now=utcnow()
    )
    session.commit()
    provider = accepted[provider_name]
    try:
        made = provider.create_checkout(
            CheckoutRequest(
                payment_id=payment.id,
                booking_reference=booking.reference,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                description=f"{event.title}: booking {booking.reference}",
                buyer_email=user.email,
                return_url=absolute_url("payments.status", reference=booking.reference),
                cancel_url=absolute_url("account_bookings.detail", reference=booking.reference),
                idempotency_key=payment.idempotency_key,
            )
        )
    except ProviderError as error:
        log.warning("checkout of payment %s failed: %s", payment.id, error)
        checkout.record_checkout_failure(session, payment.id, str(error))
        session.commit()
        raise PaymentError("provider_unavailable") from error
    checkout.record_checkout(
        session, payment.id, provider_ref=made.provider_ref, checkout_url=made.redirect_url
    )
    session.commit()
    return payment, made
