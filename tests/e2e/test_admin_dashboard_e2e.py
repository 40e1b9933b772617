"""An admin opens the dashboard from the admin home on a phone and on a desktop: the figures,
the charts with their tables, another range through the form, and a reversed one explained."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from app.domain.backoffice import admin_dashboard as dash
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, page_weight, screenshot
from tests.factories.sales import pay, refund, sell

pytestmark = pytest.mark.e2e


def test_an_admin_reads_the_dashboard_and_picks_a_range(
    db, now, csrf_app, live_server, new_page, make_user, login_as, make_event, make_category
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    categories = [make_category(name=name) for name in ("Music", "Technology", "Food & drink")]
    events = [
        make_event(title=title, category=categories[n % 3], currency=("USD", "EUR")[n % 2])
        for n, title in enumerate(
            ("Harbour jazz night", "Open source summit", "Street food fair", "Chamber concert")
        )
    ]
    for day in range(20):
        for n, event in enumerate(events):
            if (day + n) % 3:
                sell(
                    db, event, 1 + (day * 7 + n) % 5, now - timedelta(days=day), paid=2500 * (n + 1)
                )
    refund(db, pay(db, sell(db, events[0], 2, now), 5000, now), 2000, now)
    db.commit()

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, admin, login_as)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Dashboard", exact=True).first.click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Tickets sold per day")).to_be_visible()
    expect(page.get_by_role("img", name="Revenue by category, EUR")).to_be_visible()
    expect(page.get_by_role("img", name="Top events")).to_be_visible()
    expect(page.get_by_role("region", name="Top events: the numbers")).to_contain_text(
        "Harbour jazz night"
    )
    check_accessibility(page)
    assert page_weight(page) < 300_000
    # Nothing wider than the phone: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "admin-dashboard-phone")

    today = dash.local_today(now, "UTC")
    page.get_by_label("From", exact=True).fill(str(today - timedelta(days=6)))
    page.get_by_label("To", exact=True).fill(str(today))
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_role("heading", name=f"Charts, {today - timedelta(days=6)} to {today}")
    ).to_be_visible()
    expect(page.get_by_role("region", name="Tickets sold per day: the numbers")).to_contain_text(
        str(today - timedelta(days=6))
    )

    page.get_by_label("From", exact=True).fill(str(today))
    page.get_by_label("To", exact=True).fill(str(today - timedelta(days=1)))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("ends before it starts")
    check_accessibility(page)

    wide = new_page(viewport=DESKTOP)
    log_in(wide, live_server, csrf_app, admin, login_as)
    wide.goto(f"{live_server.url}/admin/dashboard")
    expect(wide.get_by_role("img", name="Revenue by category, USD")).to_be_visible()
    check_accessibility(wide)
    screenshot(wide, "admin-dashboard-desktop")
