"""The admin dashboard's figures against bookings, payments and refunds made here: what counts
today, this week and in a range (boundaries in the display zone), cancelled and refunded
sales, money per currency, the charts' numbers and their CSV; and the range's validation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.backoffice import admin_dashboard as dash
from app.domain.backoffice.admin_dashboard import BadDashboardRequest, DayRange, Money
from app.domain.backoffice.charts import chart_csv
from app.domain.events.models import EventRevision, EventStatus, ReportStatus
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.payments.models import PaymentStatus, RefundStatus
from app.domain.payments.refunds import refund_booking, send_refund
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Booking, BookingStatus
from app.domain.ticketing.waitlist import OfferSettings
from tests.factories.sales import pay, refund, sell


@pytest.fixture
def wednesday(now: datetime) -> datetime:
    """Noon UTC on the Wednesday of the test's week (or the one before): a day with a Monday
    and a Tuesday before it in the same week."""
    return (now - timedelta(days=(now.weekday() - 2) % 7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )


def test_the_range_is_parsed_or_refused_with_a_reason() -> None:
    today = date(2026, 3, 18)
    assert dash.parse_range({}, today=today) == DayRange(date(2026, 2, 17), today)
    assert dash.parse_range({"from": " ", "to": ""}, today=today).days == dash.DEFAULT_DAYS
    assert dash.parse_range({"from": "2026-03-01", "to": "2026-03-07"}, today=today) == DayRange(
        date(2026, 3, 1), date(2026, 3, 7)
    )
    # One end alone: the start runs to today, the end goes back the default length.
    assert dash.parse_range({"from": "2026-03-10"}, today=today) == DayRange(
        date(2026, 3, 10), today
    )
    assert dash.parse_range({"to": "2026-01-30"}, today=today) == DayRange(
        date(2026, 1, 1), date(2026, 1, 30)
    )
    assert dash.parse_range({"from": "2026-03-18", "to": "2026-03-18"}, today=today).days == 1
    assert dash.parse_range({"to": "2000-01-05"}, today=today).first == dash.EARLIEST
    refusals = {
        "look like": {"from": "18/03/2026"},
        "end date should": {"to": "2026-02-30"},
        "start date": {"from": "yesterday", "to": "2026-03-01"},
        "ends before it starts": {"from": "2026-03-10", "to": "2026-03-09"},
        "at most 366 days": {"from": "2025-01-01", "to": "2026-03-01"},
        "between 2000-01-01 and 2027-03-19": {"from": "9999-12-30", "to": "9999-12-31"},
        "between 2000-01-01": {"from": "0001-01-01", "to": "0001-01-02"},
        "and 2027-03-19": {"to": "0001-01-01"},
    }
    for words, args in refusals.items():
        with pytest.raises(BadDashboardRequest) as refused:
            dash.parse_range(args, today=today)
        assert words in refused.value.message, (args, refused.value.message)


def test_today_week_and_range_count_sales_and_money_at_their_boundaries(
    db, make_event, make_category, wednesday
) -> None:  # noqa: ANN001
    music, talks = make_category(name="Music"), make_category(name="Talks")
    gig = make_event(category=music, title="Gig")
    fest = make_event(category=music, title="Fest", currency="EUR")
    talk = make_event(category=talks, title="Talk")
    free = make_event(title="Free meetup")
    midnight = wednesday.replace(hour=0)
    monday = midnight - timedelta(days=2)

    sell(db, gig, 2, midnight, paid=2000)  # today, on its first instant
    sell(db, fest, 3, midnight - timedelta(microseconds=1), paid=3000)  # Tuesday's last instant
    sunday = monday - timedelta(seconds=1)  # last week
    sunday_payment = pay(db, sell(db, talk, 1, sunday), 1000, sunday)
    sell(db, free, 4, monday + timedelta(hours=9), status=BookingStatus.CANCELLED)
    sell(db, talk, 1, monday + timedelta(hours=10), status=BookingStatus.REFUNDED)
    before = sell(db, gig, 5, midnight - timedelta(days=30), paid=5000)  # before the 30 days
    pay(db, before, 5000, wednesday - timedelta(hours=1))  # its second payment, today
    # Not sales: a hold (no confirmation), an expired one, a payment that never went through.
    held = Booking(reference="DASHHELD", event_id=gig.id, quantity=1, currency="USD")
    gone = Booking(reference="DASHGONE", event_id=gig.id, quantity=2, status=BookingStatus.EXPIRED)
    db.add_all([held, gone])
    db.flush()
    pay(db, held, 1000, wednesday, status=PaymentStatus.PENDING)
    pay(db, held, 1000, wednesday, status=PaymentStatus.FAILED)
    # Sunday's talk is refunded in part today; a pending and a failed refund count nothing.
    refund(db, sunday_payment, 400, wednesday - timedelta(hours=2))
    refund(db, sunday_payment, 100, wednesday, status=RefundStatus.PENDING)
    refund(db, sunday_payment, 100, wednesday, status=RefundStatus.FAILED)
    db.flush()

    chosen = dash.default_range(wednesday.date())
    board = dash.dashboard(db, chosen, now=wednesday, zone="UTC")

    assert (board.today.tickets.sold, board.today.tickets.undone) == (2, 0)
    assert board.today.money == [Money("USD", 7000, 400)]
    assert (board.week.tickets.sold, board.week.tickets.undone) == (10, 5)
    assert board.week.tickets.kept == 5
    assert board.week.money == [Money("EUR", 3000, 0), Money("USD", 7000, 400)]
    assert (board.in_range.tickets.sold, board.in_range.tickets.undone) == (11, 5)
    assert board.in_range.money == [Money("EUR", 3000, 0), Money("USD", 8000, 400)]
    assert board.in_range.money[1].net_minor == 7600
    assert board.in_range.money[1].shown("net") == "USD 76.00"

    by_day = {d.day: d.tickets for d in board.sales}
    assert len(board.sales) == 30 and board.sales[-1].day == wednesday.date()
    assert by_day[wednesday.date()] == 2
    assert by_day[wednesday.date() - timedelta(days=1)] == 3
    assert by_day[monday.date()] == 5
    assert by_day[monday.date() - timedelta(days=1)] == 1
    assert sum(by_day.values()) == 11

    assert [(r.category, r.money) for r in board.categories] == [
        ("Music", Money("EUR", 3000, 0)),
        ("Music", Money("USD", 7000, 0)),
        ("Talks", Money("USD", 1000, 400)),
    ]
    assert [(e.title, e.tickets) for e in board.top_events] == [
        ("Free meetup", 4),
        ("Fest", 3),
        ("Gig", 2),
        ("Talk", 2),
    ]


def test_days_follow_the_display_zone(db, make_event, wednesday) -> None:  # noqa: ANN001
    gig = make_event()
    # 03:00 UTC on Wednesday is still Tuesday evening in New York.
    sell(db, gig, 2, wednesday.replace(hour=3))
    sell(db, gig, 1, wednesday.replace(hour=5))  # 00:00 in New York in winter, 01:00 in summer
    zone = "America/New_York"
    chosen = DayRange(wednesday.date() - timedelta(days=1), wednesday.date())
    by_day = {d.day: d.tickets for d in dash.sales_by_day(db, chosen, zone=zone)}
    assert by_day == {chosen.first: 2, chosen.last: 1}
    start = dash.day_start(wednesday.date(), zone)
    assert start.tzinfo == UTC and start.hour in (4, 5)  # New York's midnight, DST or not
    board = dash.dashboard(db, chosen, now=wednesday, zone=zone)
    assert board.today.tickets.sold == 1 and board.in_range.tickets.sold == 3


def test_attention_counts_live_events_the_queue_reports_and_failed_notifications(
    db, make_event, make_user, wednesday
) -> None:  # noqa: ANN001
    from app.domain.events.models import EventReport

    make_event()
    running = make_event(starts_at=wednesday - timedelta(hours=1))
    running.ends_at = wednesday + timedelta(hours=1)
    make_event(starts_at=wednesday - timedelta(days=2))  # over
    make_event(hidden_at=wednesday)  # its organizer is suspended
    make_event(status=EventStatus.DRAFT)
    make_event(status=EventStatus.SUBMITTED)
    make_event(status=EventStatus.SUBMITTED)
    changed = make_event()
    db.add(EventRevision(event_id=changed.id, changes={}, author_id=None))
    db.add(EventReport(event_id=changed.id, reason="spam", status=ReportStatus.OPEN))
    db.add(EventReport(event_id=changed.id, reason="old", status=ReportStatus.DISMISSED))
    for n, status in enumerate((NotificationStatus.FAILED, NotificationStatus.SENT)):
        db.add(
            Notification(
                key=f"dash:{n}",
                kind="booking_confirmed",
                channel=Channel.EMAIL,
                recipient="a@example.test",
                status=status,
            )
        )
    db.flush()
    seen = dash.attention(db, now=wednesday)
    assert (seen.events_live, seen.events_waiting, seen.changes_waiting) == (3, 2, 1)
    assert (seen.moderation_queue, seen.open_reports, seen.failed_notifications) == (3, 1, 1)


def test_the_dashboard_reads_what_the_payment_and_refund_services_write(
    db, now, make_user, make_tier, pay_booking
) -> None:  # noqa: ANN001
    tier = make_tier(capacity=4, price_minor=2500)
    booking = hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    paid = pay_booking(booking)
    (given_back,) = refund_booking(
        db,
        paid,
        amount_minor=1000,
        reason="x",
        actor_id=None,
        now=now,
        offers=OfferSettings(),
    )
    send_refund(db, given_back.id, lambda payment, refund: ("re_1", True), now=now)
    board = dash.dashboard(db, dash.default_range(now.date()), now=now, zone="UTC")
    assert board.today.tickets.sold == 2
    assert board.today.money == [Money(tier.currency, 5000, 1000)]
    assert [(e.event_id, e.tickets) for e in board.top_events] == [(tier.event_id, 2)]


def test_each_chart_carries_its_numbers_as_csv_that_reads_back(
    db, make_event, make_category, wednesday
) -> None:  # noqa: ANN001
    gig = make_event(category=make_category(name="=Music"), title="+Gig, live")
    fest = make_event(title="Fest", currency="EUR")
    sell(db, gig, 3, wednesday, paid=1250)
    refund(db, pay(db, sell(db, fest, 1, wednesday), 900, wednesday), 900, wednesday)
    chosen = DayRange(wednesday.date() - timedelta(days=2), wednesday.date())

    def read(chart_id: str) -> list[list[str]]:
        chart = dash.chart(db, chart_id, chosen, zone="UTC")
        return list(csv.reader(io.StringIO(chart_csv(chart))))

    assert read("sales") == [
        ["Day", "Tickets sold"],
        [chosen.first.isoformat(), "0"],
        [(chosen.first + timedelta(days=1)).isoformat(), "0"],
        [chosen.last.isoformat(), "4"],
    ]
    # Names that a spreadsheet would run as formulas stay text.
    assert read("categories-USD") == [["Category", "Net revenue (USD)"], ["'=Music", "12.50"]]
    assert read("categories-EUR") == [["Category", "Net revenue (EUR)"], ["No category", "0.00"]]
    assert read("top-events") == [
        ["Event", "Tickets sold"],
        ["'+Gig, live", "3"],
        ["Fest", "1"],
    ]
    board = dash.dashboard(db, chosen, now=wednesday, zone="UTC")
    assert [c.id for c in board.charts()] == [
        "sales",
        "categories-EUR",
        "categories-USD",
        "top-events",
    ]
    for missing in ("bogus", "categories-GBP", ""):
        with pytest.raises(BadDashboardRequest, match="Choose a chart"):
            dash.chart(db, missing, chosen, zone="UTC")
