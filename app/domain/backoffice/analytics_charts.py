"""The charts of an event's analytics page, by name (the name is also its CSV's URL)."""

from __future__ import annotations

from app.domain.backoffice.analytics import EventAnalytics
from app.domain.backoffice.charts import (
    Chart,
    Column,
    Series,
    bar_chart,
    format_count,
    money_formats,
    time_chart,
)


def _percent(value: int | None) -> str:
    return "–" if value is None else f"{value}%"


def event_charts(figures: EventAnalytics) -> dict[str, Chart]:
    """Every chart of the page in page order; amounts get one chart per currency."""
    charts = {"sales": _sales(figures)}
    for money in figures.money:
        shown, plain = money_formats(money.currency)
        name = f"revenue-{money.currency.lower()}"
        charts[name] = bar_chart(
            name,
            f"Revenue in {money.currency}",
            "Gross is what buyers were charged, coupon discounts already taken off; discounts "
            "are what coupons took off confirmed bookings; refunds include those still being "
            "sent; net is gross less refunds.",
            ["Gross (charged)", "Coupon discounts", "Refunds", "Net"],
            [money.gross, money.discounts, money.refunds, money.net],
            category_name="Figure",
            value_name=f"Amount ({money.currency})",
            fmt=shown,
            csv_fmt=plain,
        )
    charts["coupons"] = _coupons(figures)
    charts["waitlist"] = _waitlist(figures)
    charts["check-ins-by-tier"] = _check_ins_by_tier(figures)
    charts["check-ins-by-gate"] = _check_ins_by_gate(figures)
    return charts


def _sales(figures: EventAnalytics) -> Chart:
    cut = f" The last {len(figures.days)} days are shown." if figures.days_cut else ""
    return time_chart(
        "sales",
        "Tickets sold per day",
        f"By ticket type, on the day the booking was confirmed, days in {figures.timezone}.{cut}",
        figures.days,
        [Series(name, tuple(figures.sold_by_day[tier_id])) for tier_id, name in figures.tiers]
        if figures.days
        else [],
    )


def _coupons(figures: EventAnalytics) -> Chart:
    coupons = figures.coupons
    discounts = [money_formats(c.currency) for c in coupons]
    return bar_chart(
        "coupons",
        "Coupon use",
        "Confirmed bookings per coupon code, with the discount they gave.",
        [c.code for c in coupons],
        [c.uses for c in coupons],
        category_name="Code",
        value_name="Uses",
        extra=[
            Column(
                "Discount",
                tuple(shown(c.discount) for c, (shown, _) in zip(coupons, discounts, strict=True)),
                tuple(plain(c.discount) for c, (_, plain) in zip(coupons, discounts, strict=True)),
            ),
            Column(
                "Currency", tuple(c.currency for c in coupons), tuple(c.currency for c in coupons)
            ),
        ],
    )


def _waitlist(figures: EventAnalytics) -> Chart:
    w = figures.waitlist
    return bar_chart(
        "waitlist",
        "Waitlist",
        f"Entries that joined, got an offer and booked; {w.waiting} still waiting. "
        f"Conversion (booked over offers that ended): {_percent(w.conversion)}.",
        ["Joined", "Offered", "Booked (converted)"] if w.joined else [],
        [w.joined, w.offered, w.converted] if w.joined else [],
        category_name="Stage",
        value_name="Entries",
    )


def _check_ins_by_tier(figures: EventAnalytics) -> Chart:
    rows = [t for t in figures.check_ins_by_tier if t.tickets]
    return bar_chart(
        "check-ins-by-tier",
        "Check-in rate by ticket type",
        "Tickets admitted at the door over tickets issued and not voided.",
        [t.name for t in rows],
        [t.rate for t in rows],
        category_name="Ticket type",
        value_name="Checked in (%)",
        fmt=_percent,
        top=100,
        extra=[
            Column(
                "Admitted",
                tuple(format_count(t.checked_in) for t in rows),
                tuple(str(t.checked_in) for t in rows),
            ),
            Column(
                "Tickets",
                tuple(format_count(t.tickets) for t in rows),
                tuple(str(t.tickets) for t in rows),
            ),
        ],
    )


def _check_ins_by_gate(figures: EventAnalytics) -> Chart:
    total = figures.checked_in
    gates = figures.check_ins_by_gate
    shares = tuple(f"{round(100 * count / total)}%" for _, count in gates)
    return bar_chart(
        "check-ins-by-gate",
        "Admissions by gate",
        "Tickets admitted at each gate, and each gate's share of all admissions.",
        [gate or "No gate named" for gate, _ in gates],
        [count for _, count in gates],
        category_name="Gate",
        value_name="Admitted",
        extra=[Column("Share", shares, tuple(s.rstrip("%") for s in shares))],
    )
