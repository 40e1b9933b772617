"""An event's attendee list: one row per ticket with its buyer, booking and live check-in,
filtered and searched the same way for the page and for the CSV and Excel exports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import DomainError
from app.domain.checkin.models import CheckIn
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, TicketTier, Unit
from app.domain.ticketing.seatmap_view import seat_label

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_QUERY = 100
STREAM_BATCH = 1_000
CHECKED_IN_CHOICES = ("yes", "no")


class BadAttendeeFilter(DomainError):
    """A filter of the attendee list the list cannot honour (answered with 400)."""

    code = "bad_filter"


@dataclass(frozen=True)
class AttendeeFilter:
    query: str = ""
    tier_id: int | None = None
    status: BookingStatus | None = None
    checked_in: bool | None = None
    page: int = 1


@dataclass(frozen=True)
class AttendeeRow:
    ticket_id: int
    buyer_name: str
    buyer_email: str
    holder_name: str
    reference: str
    tier: str
    seat: str
    status: BookingStatus
    checked_in_at: datetime | None

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None


def _positive_int(raw: str, what: str, maximum: int) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadAttendeeFilter(f"The {what} must be a whole number from 1 to {maximum}.")
    return int(raw)


def parse_filter(session: Session, event_id: int, args: Mapping[str, str]) -> AttendeeFilter:
    """The filter from a query string; a value it cannot honour (another event's tier, an
    unknown status, page 0) raises `BadAttendeeFilter` instead of being silently dropped, so
    an export never holds other rows than the person asked for. Empty values mean "any"."""
    query = (args.get("q") or "").strip()
    if len(query) > MAX_QUERY:
        raise BadAttendeeFilter(f"Search for at most {MAX_QUERY} characters.")
    tier_id = None
    if raw_tier := (args.get("tier") or "").strip():
        tier_id = _positive_int(raw_tier, "ticket type", 2**31 - 1)
        tier = session.get(TicketTier, tier_id)
        if tier is None or tier.event_id != event_id:
            raise BadAttendeeFilter("That ticket type is not one of this event's.")
    status = None
    if raw_status := (args.get("status") or "").strip():
        try:
            status = BookingStatus(raw_status)
        except ValueError:
            raise BadAttendeeFilter("Choose a booking status from the list.") from None
    checked_in = None
    if raw_checked := (args.get("checked_in") or "").strip():
        if raw_checked not in CHECKED_IN_CHOICES:
            raise BadAttendeeFilter("Checked in is yes, no or empty.")
        checked_in = raw_checked == "yes"
    page = _positive_int(args.get("page") or "1", "page", MAX_PAGE)
    return AttendeeFilter(query, tier_id, status, checked_in, page)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _select(event_id: int, chosen: AttendeeFilter) -> Select:
    live = and_(CheckIn.ticket_id == Ticket.id, CheckIn.undone_at.is_(None))
    statement = (
        select(
            Ticket.id,
            User.name,
            User.email,
            Ticket.holder_name,
            Booking.reference,
            TicketTier.name,
            Unit.section,
            Unit.row_label,
            Unit.seat_number,
            Booking.status,
            CheckIn.scanned_at,
        )
        .join(Booking, Booking.id == Ticket.booking_id)
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .join(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(User, User.id == Booking.user_id)
        .outerjoin(CheckIn, live)
        .where(Booking.event_id == event_id)
    )
    if chosen.query:
        pattern = _like(chosen.query)
        statement = statement.where(
            or_(
                User.name.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
                Ticket.holder_name.ilike(pattern, escape="\\"),
                Booking.reference.ilike(pattern, escape="\\"),
            )
        )
    if chosen.tier_id is not None:
        statement = statement.where(Ticket.tier_id == chosen.tier_id)
    if chosen.status is not None:
        statement = statement.where(Booking.status == chosen.status)
    if chosen.checked_in is not None:
        admitted = CheckIn.id.is_not(None)
        statement = statement.where(admitted if chosen.checked_in else ~admitted)
    return statement


def _row(values: tuple) -> AttendeeRow:
    ticket_id, name, email, holder, reference, tier, section, row, number, status, at = values
    seat = seat_label(section, row, number) if number is not None else ""
    return AttendeeRow(
        ticket_id=ticket_id,
        buyer_name=name or "(deleted account)",
        buyer_email=email or "",
        holder_name=holder or "",
        reference=reference,
        tier=tier,
        seat=seat,
        status=status,
        checked_in_at=at,
    )


@dataclass(frozen=True)
class AttendeePage:
    rows: list[AttendeeRow]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def attendee_page(session: Session, event_id: int, chosen: AttendeeFilter) -> AttendeePage:
    """One page of the list in ticket order (stable: a ticket's id never changes); a page past
    the last is empty, not an error."""
    statement = _select(event_id, chosen)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.execute(
        statement.order_by(Ticket.id).limit(PAGE_SIZE).offset((chosen.page - 1) * PAGE_SIZE)
    )
    return AttendeePage([_row(tuple(values)) for values in rows], total, chosen.page)


def attendees_after(
    session: Session, event_id: int, chosen: AttendeeFilter, *, after: int | None, limit: int
) -> tuple[list[AttendeeRow], int | None]:
    """Up to `limit` rows after the ticket `after` in ticket order (the API's cursor pages;
    `chosen.page` aside), and the ticket to continue after (None: that was the last)."""
    statement = _select(event_id, chosen)
    if after is not None:
        statement = statement.where(Ticket.id > after)
    rows = session.execute(statement.order_by(Ticket.id).limit(limit + 1)).all()
    page = [_row(tuple(values)) for values in rows[:limit]]
    return page, page[-1].ticket_id if len(rows) > limit else None


def all_attendees(session: Session, event_id: int, chosen: AttendeeFilter) -> Iterator[AttendeeRow]:
    """Every row the filter selects (pages aside), read through a server-side cursor in
    batches: an export of tens of thousands of tickets never sits in memory at once."""
    result = session.execute(
        _select(event_id, chosen).order_by(Ticket.id),
        execution_options={"stream_results": True, "yield_per": STREAM_BATCH},
    )
    try:
        for values in result:
            yield _row(tuple(values))
    finally:
        result.close()
