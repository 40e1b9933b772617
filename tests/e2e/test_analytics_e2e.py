"""In Chromium at 390 px: the organizer's analytics page, reached from the event's ticket
types, with axe, page weight and no sideways scroll; a screenshot under test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def test_the_organizer_reads_the_sales_analytics_on_a_phone(
    live_server, csrf_app: Flask, db: Session, new_page, sales_scenario, login_as
) -> None:  # noqa: ANN001
    s = sales_scenario(title="Harbour jazz night")
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, s.organizer, login_as)
    page.goto(f"{live_server.url}/organizer/events/{s.event.id}/tiers")
    page.get_by_role("link", name="Sales analytics").click()
    expect(
        page.get_by_role("heading", name="Sales analytics of Harbour jazz night")
    ).to_be_visible()
    expect(page.locator("#total-sold")).to_have_text("6")
    expect(page.get_by_role("img", name="Tickets sold per day")).to_be_visible()
    expect(page.get_by_role("img", name="Revenue in USD")).to_be_visible()
    revenue = page.get_by_role("table", name="Revenue in USD")
    expect(revenue.get_by_role("row", name="Net")).to_contain_text("USD 47.50")
    check_accessibility(page)
    assert page_weight(page) < 300_000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "analytics-phone")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of Revenue in USD").click()
    name = download.value.suggested_filename
    assert name.startswith(f"{s.event.slug}-revenue-usd-") and name.endswith(".csv")


def test_the_dashboard_leads_to_the_coming_weeks_events_on_a_phone(
    live_server, csrf_app: Flask, db: Session, new_page, sales_scenario, login_as
) -> None:  # noqa: ANN001
    s = sales_scenario(title="Harbour jazz night", starts_at=utcnow() + timedelta(days=2))
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, s.organizer, login_as)
    page.goto(f"{live_server.url}/organizer/")
    sales = page.get_by_role("region", name="Sales")
    expect(sales).to_contain_text("days in America/New_York")
    expect(sales.get_by_role("listitem")).to_contain_text("5 of 20 sold")
    check_accessibility(page)
    assert page_weight(page) < 300_000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "organizer-dashboard-phone")
    sales.get_by_role("link", name="Harbour jazz night", exact=True).click()
    expect(
        page.get_by_role("heading", name="Sales analytics of Harbour jazz night")
    ).to_be_visible()
