"""An event's analytics figures, checked against the bookings, payments, refunds, coupons,
waitlist entries and check-ins the test made (`sales_scenario`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.backoffice.analytics import MAX_DAYS, Money, TierCheckIns, event_analytics
from app.domain.backoffice.analytics_charts import event_charts
from app.domain.ticketing.models import Booking


def test_sales_are_counted_per_tier_on_the_day_in_the_event_zone(
    db: Session, sales_scenario
) -> None:  # noqa: ANN001
    s = sales_scenario()
    figures = event_analytics(db, s.event)
    first = s.first_day
    assert figures.days == [first, first + timedelta(days=1), first + timedelta(days=2)]
    assert figures.sold_by_day == {s.vip.id: [3, 0, 0], s.general.id: [0, 0, 3]}
    assert figures.sold == 6 and not figures.days_cut


def test_money_gross_discounts_refunds_and_net(db: Session, sales_scenario) -> None:  # noqa: ANN001
    figures = event_analytics(db, sales_scenario().event)
    assert figures.money == [Money("USD", gross=7250, refunds=2500, discounts=250)]
    assert figures.money[0].net == 4750


def test_coupon_uses_and_discounts(db: Session, sales_scenario) -> None:  # noqa: ANN001
    coupons = event_analytics(db, sales_scenario().event).coupons
    assert [(c.code, c.uses, c.discount) for c in coupons] == [("SAVE10", 1, 250), ("UNUSED", 0, 0)]


def test_waitlist_size_and_conversion(db: Session, sales_scenario) -> None:  # noqa: ANN001
    w = event_analytics(db, sales_scenario().event).waitlist
    assert (w.joined, w.waiting, w.offered, w.converted, w.expired) == (6, 2, 3, 1, 1)
    assert w.conversion == 50


def test_check_in_rate_by_tier_and_gate(db: Session, sales_scenario) -> None:  # noqa: ANN001
    figures = event_analytics(db, sales_scenario().event)
    assert figures.check_ins_by_tier == [TierCheckIns("VIP", 2, 1), TierCheckIns("General", 3, 2)]
    assert [t.rate for t in figures.check_ins_by_tier] == [50, 67]
    assert figures.check_ins_by_gate == [("North", 2), ("South", 1)]


def test_another_event_of_the_same_organizer_shares_nothing(
    db: Session,
    sales_scenario,
    make_event,  # noqa: ANN001
) -> None:
    s = sales_scenario()
    quiet = make_event(organizer=s.organizer)
    figures = event_analytics(db, quiet)
    assert figures.days == [] and figures.money == [] and figures.coupons == []
    assert figures.waitlist.joined == 0 and figures.check_ins_by_gate == []


def test_a_sale_longer_than_a_year_shows_its_last_year(db: Session, sales_scenario) -> None:  # noqa: ANN001
    s = sales_scenario()
    pair = db.scalar(select(func.min(Booking.id)).where(Booking.event_id == s.event.id))
    long_ago = s.first_day - timedelta(days=400)
    db.execute(update(Booking).where(Booking.id == pair).values(confirmed_at=long_ago))
    figures = event_analytics(db, s.event)
    assert figures.days_cut and len(figures.days) == MAX_DAYS
    assert figures.days[-1] == s.first_day + timedelta(days=2)
    assert figures.sold == 4  # the pair sold 400 days ago is before the first day shown


def test_the_charts_carry_the_figures(db: Session, sales_scenario) -> None:  # noqa: ANN001
    charts = event_charts(event_analytics(db, sales_scenario().event))
    assert list(charts) == [
        "sales",
        "revenue-usd",
        "coupons",
        "waitlist",
        "check-ins-by-tier",
        "check-ins-by-gate",
    ]
    assert charts["sales"].header == ("Day", "VIP", "General")
    assert charts["revenue-usd"].csv_rows == (
        ("Gross (charged)", "72.50"),
        ("Coupon discounts", "2.50"),
        ("Refunds", "25.00"),
        ("Net", "47.50"),
    )
    assert charts["coupons"].rows[0] == ("SAVE10", "1", "USD 2.50", "USD")
    assert charts["waitlist"].csv_rows == (
        ("Joined", "6"),
        ("Offered", "3"),
        ("Booked (converted)", "1"),
    )
    assert "Conversion (booked over offers that ended): 50%" in charts["waitlist"].description
    assert charts["check-ins-by-tier"].rows == (
        ("VIP", "50%", "1", "2"),
        ("General", "67%", "2", "3"),
    )
    assert charts["check-ins-by-gate"].csv_rows == (("North", "2", "67"), ("South", "1", "33"))
