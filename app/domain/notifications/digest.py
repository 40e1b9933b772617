"""The organizers' daily sales digest: yesterday's tickets and revenue per event, and the
totals to date, once a day at `HOUR` in the organizer's time zone.

An organizer has no time zone of their own: theirs is that of their next upcoming event (else
of their latest one). A sweep (`schedule_digests`, every ten minutes in jobs/schedules.py)
takes the organizers with an upcoming published event or a sale in the last two days, and for
each whose local clock has passed `HOUR` queues one mail and its in-app copy keyed
`organizer:<id>:sales_digest:<local date>:email`: a day's digest is queued once however often
the sweep runs, and a sweep missed at `HOUR` is made up by the next. Organizers with nothing to
report (no sale yesterday, no upcoming event) get nothing. Digests are optional (topic
`digests`): one turned off is written skipped, and the mail carries a one-click unsubscribe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.events.models import Event, EventStatus
from app.domain.money import format_money
from app.domain.notifications.models import Channel, Notification
from app.domain.notifications.queue import notify
from app.domain.ticketing.models import Booking, BookingStatus

KIND = "sales_digest"
HOUR = 8  # local time of the organizer
# Sales this recent make an organizer a candidate (yesterday in any time zone).
RECENT = timedelta(days=2)


@dataclass
class EventSales:
    event_id: int
    title: str
    starts_at: datetime
    timezone: str
    sold_yesterday: int = 0
    revenue_yesterday: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    sold_total: int = 0
    revenue_total: dict[str, int] = field(default_factory=dict)

    def yesterday(self) -> str:
        return _money(self.revenue_yesterday)

    def total(self) -> str:
        return _money(self.revenue_total)


@dataclass
class Report:
    day: date  # the day sales are counted for: the one before the digest's date
    events: list[EventSales]

    @property
    def sold_yesterday(self) -> int:
        return sum(e.sold_yesterday for e in self.events)

    def revenue_yesterday(self) -> str:
        return _money(_sum(e.revenue_yesterday for e in self.events))

    @property
    def sold_total(self) -> int:
        return sum(e.sold_total for e in self.events)

    def revenue_total(self) -> str:
        return _money(_sum(e.revenue_total for e in self.events))


def _sum(amounts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for by_currency in amounts:
        for currency, minor in by_currency.items():
            total[currency] += minor
    return dict(total)


def _money(amounts: dict[str, int]) -> str:
    if not amounts:
        return "0"
    return " + ".join(format_money(minor, currency) for currency, minor in sorted(amounts.items()))


def digest_key(organizer_id: int, on: date, channel: Channel) -> str:
    return f"organizer:{organizer_id}:{KIND}:{on.isoformat()}:{channel.value}"


def report(
    session: Session, organizer_id: int, on: date, timezone: str, now: datetime
) -> Report | None:
    """What the digest of `on` (a date in `timezone`) says: the organizer's events with a sale
    the day before or still to come, with their sales that day and to date; None when there
    is nothing to report."""
    zone = ZoneInfo(timezone)
    end = datetime.combine(on, time(0), tzinfo=zone)
    start = datetime.combine(on - timedelta(days=1), time(0), tzinfo=zone)
    in_day = Booking.confirmed_at >= start, Booking.confirmed_at < end
    sold_day = func.sum(Booking.quantity).filter(*in_day)
    revenue_day = func.sum(Booking.total_minor).filter(*in_day)
    rows = session.execute(
        select(
            Event.id,
            Event.title,
            Event.starts_at,
            Event.timezone,
            Booking.currency,
            func.coalesce(sold_day, 0),
            func.coalesce(revenue_day, 0),
            func.coalesce(func.sum(Booking.quantity), 0),
            func.coalesce(func.sum(Booking.total_minor), 0),
        )
        .select_from(Event)
        .outerjoin(
            Booking,
            (Booking.event_id == Event.id) & (Booking.status == BookingStatus.CONFIRMED),
        )
        .where(Event.organizer_id == organizer_id)
        .group_by(Event.id, Booking.currency)
        .order_by(Event.starts_at, Event.id)
    ).all()
    upcoming = set(
        session.scalars(
            select(Event.id).where(
                Event.organizer_id == organizer_id,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at > now,
            )
        )
    )
    events: dict[int, EventSales] = {}
    for event_id, title, starts_at, tz, currency, sold, revenue, sold_all, revenue_all in rows:
        line = events.setdefault(event_id, EventSales(event_id, title, starts_at, tz))
        line.sold_yesterday += sold
        line.sold_total += sold_all
        if currency is not None:
            if sold:
                line.revenue_yesterday[currency] = revenue
            if sold_all:
                line.revenue_total[currency] = revenue_all
    kept = [e for e in events.values() if e.sold_yesterday or e.event_id in upcoming]
    if not kept:
        return None
    return Report(on - timedelta(days=1), kept)


def _candidates(session: Session, now: datetime) -> list[tuple[int, str, str]]:
    """(organizer id, email, time zone) of each live organizer with an upcoming published
    event or a recent sale."""
    return [
        (row.organizer_id, row.email, row.timezone)
        for row in session.execute(
            text(
                "SELECT DISTINCT ON (e.organizer_id) e.organizer_id, u.email, e.timezone "
                "FROM events e JOIN users u ON u.id = e.organizer_id "
                "WHERE u.deleted_at IS NULL AND e.organizer_id IN ("
                "  SELECT organizer_id FROM events "
                "  WHERE status = 'published' AND ends_at > :now "
                "  UNION SELECT ev.organizer_id FROM bookings b JOIN events ev "
                "  ON ev.id = b.event_id WHERE b.status = 'confirmed' AND b.confirmed_at >= :recent"
                ") "
                "ORDER BY e.organizer_id, (e.ends_at <= :now), "
                "CASE WHEN e.ends_at > :now THEN e.starts_at END, e.starts_at DESC"
            ),
            {"now": now, "recent": now - RECENT},
        )
    ]


def schedule_digests(session: Session, now: datetime) -> int:
    """Queue today's digest of every organizer whose local `HOUR` has come and who has
    something to report; how many were added (the caller commits)."""
    due = []
    for organizer_id, email, timezone in _candidates(session, now):
        local = now.astimezone(ZoneInfo(timezone))
        if local.hour >= HOUR:
            due.append((organizer_id, email, timezone, local.date()))
    if not due:
        return 0
    queued = set(
        session.scalars(
            select(Notification.key).where(
                Notification.key.in_([digest_key(o, d, Channel.EMAIL) for o, _, _, d in due])
            )
        )
    )
    added = 0
    for organizer_id, email, timezone, on in due:
        if digest_key(organizer_id, on, Channel.EMAIL) in queued:
            continue
        if report(session, organizer_id, on, timezone, now) is None:
            continue
        payload = {"organizer_id": organizer_id, "date": on.isoformat(), "timezone": timezone}
        # Keyed by hand (not `notify_user`): the date sits between the kind and the channel.
        for channel, recipient in ((Channel.EMAIL, email), (Channel.IN_APP, None)):
            notify(
                session,
                key=digest_key(organizer_id, on, channel),
                kind=KIND,
                channel=channel,
                now=now,
                user_id=organizer_id,
                recipient=recipient,
                payload=payload,
            )
        added += 1
    return added
