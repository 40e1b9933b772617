"""The top of the organizer's dashboard, across all their events: tickets sold and revenue
today and this week, and the events of the next seven days with their sales against capacity.
Two aggregate queries, whatever the number of events; the second also gives the live sold
count that the event list shows for each published event.

Days and weeks (from Monday) are those of the organizer's next event's time zone, UTC when
there is none. Sold means confirmed in the period (a later refund does not take it back);
revenue is what those bookings cost their buyers, coupon discounts taken off, per currency.
An upcoming event's sold tickets are its valid ones (refunds and cancellations void theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking, Ticket, TicketStatus, TicketTier

UPCOMING_DAYS = 7


@dataclass(frozen=True)
class Period:
    sold: int = 0
    revenue: dict[str, int] = field(default_factory=dict)  # currency -> minor units


@dataclass(frozen=True)
class Upcoming:
    event: Event
    sold: int
    capacity: int


@dataclass(frozen=True)
class OrganizerSummary:
    timezone: str
    today: Period
    week: Period
    week_starts: datetime  # local midnight of this week's Monday
    upcoming: list[Upcoming]
    sold: dict[int, int]  # event id -> tickets sold, for every published event


def summary_zone(events: Sequence[Event], now: datetime) -> str:
    """The time zone of the organizer's next event that is not cancelled, else UTC."""
    ahead = [e for e in events if e.starts_at >= now and e.status != EventStatus.CANCELLED]
    return min(ahead, key=lambda e: (e.starts_at, e.id)).timezone if ahead else "UTC"


def organizer_summary(
    session: Session, organizer_id: int, events: Sequence[Event], *, now: datetime
) -> OrganizerSummary:
    """The figures at the top of the dashboard; `events` are the organizer's own (the page
    has them already), from which the zone and the upcoming events are picked."""
    timezone = summary_zone(events, now)
    local = now.astimezone(ZoneInfo(timezone))
    today = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), local.tzinfo)
    today_sold, week_sold = _period_sales(session, organizer_id, today, monday)
    sales = _published_sales(session, events)
    upcoming = sorted(
        (
            e
            for e in events
            if e.id in sales
            and e.ends_at > now
            and e.starts_at < now + timedelta(days=UPCOMING_DAYS)
        ),
        key=lambda e: (e.starts_at, e.id),
    )
    return OrganizerSummary(
        timezone=timezone,
        today=today_sold,
        week=week_sold,
        week_starts=monday,
        upcoming=[Upcoming(e, *sales[e.id]) for e in upcoming],
        sold={event_id: figures[0] for event_id, figures in sales.items()},
    )


def _period_sales(
    session: Session, organizer_id: int, today: datetime, monday: datetime
) -> tuple[Period, Period]:
    is_today = Booking.confirmed_at >= today
    rows = session.execute(
        select(
            Booking.currency,
            func.coalesce(func.sum(Booking.quantity).filter(is_today), 0),
            func.coalesce(func.sum(Booking.total_minor).filter(is_today), 0),
            func.sum(Booking.quantity),
            func.sum(Booking.total_minor),
        )
        .join(Event, Event.id == Booking.event_id)
        .where(Event.organizer_id == organizer_id, Booking.confirmed_at >= monday)
        .group_by(Booking.currency)
        .order_by(Booking.currency)
    ).all()
    today_sold = Period(sum(int(r[1]) for r in rows), {r[0]: int(r[2]) for r in rows if r[1]})
    week_sold = Period(sum(int(r[3]) for r in rows), {r[0]: int(r[4]) for r in rows})
    return today_sold, week_sold


def _published_sales(session: Session, events: Sequence[Event]) -> dict[int, tuple[int, int]]:
    """Sold and capacity of each published event, in one statement."""
    ids = [e.id for e in events if e.status == EventStatus.PUBLISHED]
    if not ids:
        return {}
    # Valid tickets, as the door expects them (refunded and cancelled ones are void), counted
    # from the partial index of valid tickets per tier.
    sold = (
        select(func.count(Ticket.id))
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .where(TicketTier.event_id == Event.id, Ticket.status == TicketStatus.VALID)
        .scalar_subquery()
    )
    capacity = (
        select(func.coalesce(func.sum(TicketTier.capacity), 0))
        .where(TicketTier.event_id == Event.id)
        .scalar_subquery()
    )
    rows = session.execute(select(Event.id, sold, capacity).where(Event.id.in_(ids)))
    return {event_id: (int(n), int(c)) for event_id, n, c in rows}
