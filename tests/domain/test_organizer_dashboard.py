"""The organizer dashboard's summary: sales today and this week in the next event's zone,
per currency, only the organizer's own; the next seven days' events with sold and capacity."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.backoffice.organizer_dashboard import Period, organizer_summary, summary_zone
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking

NEW_YORK = ZoneInfo("America/New_York")


def _a_thursday_afternoon() -> datetime:
    today = utcnow()
    thursday = today.date() + timedelta(days=3 - today.weekday())
    return datetime.combine(thursday, time(17), tzinfo=ZoneInfo("UTC"))


def _confirmed(db: Session, tickets: list, at: datetime) -> None:
    booking_id = tickets[0].booking_id
    db.execute(update(Booking).where(Booking.id == booking_id).values(confirmed_at=at))


def test_today_and_this_week_in_the_next_events_zone(
    db: Session,
    make_user,
    make_event,
    make_tier,
    make_tickets,  # noqa: ANN001
) -> None:
    now = _a_thursday_afternoon()
    organizer = make_user(role=Role.ORGANIZER)
    soon = make_event(
        organizer=organizer, starts_at=now + timedelta(days=3), timezone="America/New_York"
    )
    later = make_event(
        organizer=organizer,
        starts_at=now + timedelta(days=20),
        timezone="Asia/Tokyo",
        currency="EUR",
    )
    usd = make_tier(event=soon, price_minor=1000, capacity=50)
    eur = make_tier(event=later, price_minor=700, capacity=50)
    elsewhere = make_tier(price_minor=999, capacity=50)  # another organizer's event
    local_midnight = datetime.combine(now.astimezone(NEW_YORK).date(), time(0), NEW_YORK)
    for tier, quantity, at in (
        (usd, 2, now - timedelta(hours=1)),  # today
        (eur, 1, now - timedelta(hours=2)),  # today, in euros
        (usd, 3, now - timedelta(days=2)),  # Tuesday
        (usd, 4, local_midnight - timedelta(minutes=1)),  # Thursday in UTC, Wednesday in New York
        (usd, 5, now - timedelta(days=5)),  # last Saturday
        (elsewhere, 6, now - timedelta(hours=1)),
    ):
        _confirmed(db, make_tickets(tier=tier, quantity=quantity), at)
    make_tier(event=soon, capacity=0)  # a seated or empty tier adds no capacity
    events = [soon, later]
    summary = organizer_summary(db, organizer.id, events, now=now)
    assert summary.timezone == "America/New_York"
    assert summary.week_starts.weekday() == 0 and summary.week_starts.tzinfo is not None
    assert summary.today == Period(3, {"EUR": 700, "USD": 2000})
    assert summary.week == Period(10, {"EUR": 700, "USD": 9000})
    assert [(u.event.id, u.sold, u.capacity) for u in summary.upcoming] == [(soon.id, 14, 50)]
    assert summary.sold == {soon.id: 14, later.id: 1}  # live, for the list of every event


def test_upcoming_is_the_next_seven_days_published_events(
    db: Session,
    make_user,
    make_event,
    make_tier,  # noqa: ANN001
) -> None:
    now = utcnow()
    organizer = make_user(role=Role.ORGANIZER)

    def event(days: float, status: EventStatus = EventStatus.PUBLISHED) -> Event:
        return make_event(organizer=organizer, starts_at=now + timedelta(days=days), status=status)

    running = event(-1 / 24)  # started an hour ago, ends in an hour
    tomorrow, in_six = event(1), event(6)
    others = [event(8), event(2, EventStatus.DRAFT), event(3, EventStatus.CANCELLED), event(-2)]
    make_tier(event=tomorrow, capacity=30)
    make_tier(event=tomorrow, capacity=20)
    summary = organizer_summary(db, organizer.id, [tomorrow, in_six, running, *others], now=now)
    assert [(u.event.id, u.sold, u.capacity) for u in summary.upcoming] == [
        (running.id, 0, 0),
        (tomorrow.id, 0, 50),
        (in_six.id, 0, 0),
    ]
    assert summary.today == Period() and summary.week == Period()


def test_the_zone_is_utc_without_an_event_ahead(db: Session, make_event) -> None:  # noqa: ANN001
    now = utcnow()
    past = make_event(starts_at=now - timedelta(days=3), timezone="Asia/Tokyo")
    cancelled = make_event(
        starts_at=now + timedelta(days=3), timezone="Asia/Tokyo", status=EventStatus.CANCELLED
    )
    assert summary_zone([past, cancelled], now) == "UTC"
    assert summary_zone([], now) == "UTC"
