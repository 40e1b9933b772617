"""The admin's payment search: bookings and their payments found by booking reference, buyer
email or a provider's transaction id, one row per payment (or per booking without one).

Each key is an exact match on an index (the reference's unique index, `lower(email)`, the
provider ids of payments and refunds, migration 0020): the branches are united first and
the rows read for the few bookings they name, so a search costs the same at any size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import DomainError
from app.domain.events.models import Event
from app.domain.payments.models import Payment, PaymentEvent, Refund
from app.domain.ticketing.models import Booking

PAGE_SIZE = 25
MAX_PAGE = 10_000
# The longest key there is: a provider's id (String(255)); an email is at most 254.
MAX_QUERY = 255


class BadPaymentSearch(DomainError):
    """A search the list cannot run (too long, a bad page number): answered with 400."""

    code = "bad_search"


@dataclass(frozen=True)
class PaymentSearch:
    query: str = ""
    page: int = 1


@dataclass(frozen=True)
class PaymentHit:
    reference: str
    buyer_name: str
    buyer_email: str
    event_title: str
    amount_minor: int
    currency: str
    provider: str | None  # None: a booking without any payment
    provider_ref: str | None
    status: str  # the payment's, or the booking's when it has no payment
    created_at: datetime


@dataclass(frozen=True)
class PaymentHits:
    rows: list[PaymentHit]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def parse_search(args: Mapping[str, str]) -> PaymentSearch:
    """The search from a query string (`q`, `page`); too long a query or a page that is not
    a number from 1 raises `BadPaymentSearch`. Anything else is searched for as it is."""
    query = (args.get("q") or "").strip()
    if len(query) > MAX_QUERY:
        raise BadPaymentSearch(f"Search for at most {MAX_QUERY} characters.")
    raw_page = args.get("page") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise BadPaymentSearch(f"The page must be a whole number from 1 to {MAX_PAGE}.")
    return PaymentSearch(query, int(raw_page))


def _hits(query: str) -> Select:
    """(booking_id, payment_id) pairs the query names; payment_id NULL: all the booking's."""
    # Typed: PostgreSQL resolves a UNION pairwise, and two bare NULLs would make it text.
    no_payment = cast(null(), BigInteger)
    by_reference = select(Booking.id.label("booking_id"), no_payment.label("payment_id")).where(
        Booking.reference == query.upper()
    )
    by_email = (
        select(Booking.id, no_payment)
        .join(User, User.id == Booking.user_id)
        .where(func.lower(User.email) == query.lower())
    )
    by_payment = select(Payment.booking_id, Payment.id).where(Payment.provider_ref == query)
    by_refund = (
        select(Payment.booking_id, Payment.id)
        .join(Refund, Refund.payment_id == Payment.id)
        .where(Refund.provider_refund_ref == query)
    )
    return union(by_reference, by_email, by_payment, by_refund)


def _rows(query: str) -> Select:
    hits = _hits(query).subquery("hits")
    chosen = or_(hits.c.payment_id.is_(None), Payment.id == hits.c.payment_id)
    return (
        select(
            Booking.reference,
            User.name,
            User.email,
            Event.title,
            func.coalesce(Payment.amount_minor, Booking.total_minor).label("amount_minor"),
            func.coalesce(Payment.currency, Booking.currency).label("currency"),
            Payment.provider,
            Payment.provider_ref,
            func.coalesce(
                type_coerce(Payment.status, String), type_coerce(Booking.status, String)
            ).label("status"),
            func.coalesce(Payment.created_at, Booking.created_at).label("created_at"),
            Booking.id.label("booking_id"),
            func.coalesce(Payment.id, literal(0)).label("payment_id"),
        )
        .select_from(hits)
        .join(Booking, Booking.id == hits.c.booking_id)
        .join(Event, Event.id == Booking.event_id)
        .outerjoin(User, User.id == Booking.user_id)
        .outerjoin(Payment, and_(Payment.booking_id == Booking.id, chosen))
        .distinct()
    )


def search_payments(session: Session, search: PaymentSearch) -> PaymentHits:
    """One page of what the search finds, newest first; nothing (not an error) for an empty
    query, a query that matches nothing, or one no stored key could hold."""
    if not search.query or not search.query.isprintable():
        return PaymentHits([], 0, search.page)
    rows = _rows(search.query).subquery("found")
    total = session.scalar(select(func.count()).select_from(rows)) or 0
    found = session.execute(
        select(rows)
        .order_by(rows.c.created_at.desc(), rows.c.booking_id, rows.c.payment_id)
        .limit(PAGE_SIZE)
        .offset((search.page - 1) * PAGE_SIZE)
    )
    return PaymentHits(
        [
            PaymentHit(
                reference=row.reference,
                buyer_name=row.name or "(deleted account)",
                buyer_email=row.email or "",
                event_title=row.title,
                amount_minor=row.amount_minor,
                currency=row.currency,
                provider=row.provider,
                provider_ref=row.provider_ref,
                status=str(row.status),
                created_at=row.created_at,
            )
            for row in found
        ],
        total,
        search.page,
    )


def provider_events(session: Session, booking_id: int) -> list[PaymentEvent]:
    """Every event the providers sent about the booking's payments, in the order received."""
    return list(
        session.scalars(
            select(PaymentEvent)
            .join(Payment, Payment.id == PaymentEvent.payment_id)
            .where(Payment.booking_id == booking_id)
            .order_by(PaymentEvent.received_at, PaymentEvent.id)
        )
    )
