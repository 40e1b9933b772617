"""In Chromium on a phone: adding a mobile number, a wrong code, then the right one read from the
development outbox where the text landed beside the mail; the settings page then names the
number. axe on each page; screenshots at 390 px and on desktop."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from jobs.relay import deliver_pending
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def no_sideways_scroll(page) -> None:  # noqa: ANN001
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_number_is_added_and_verified_with_the_texted_code(
    live_server, csrf_app: Flask, db, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    csrf_app.config["SMS_BACKEND"] = "outbox"
    user = make_user(name="Tess Texter")
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(f"{live_server.url}/account/profile")
    page.get_by_role("link", name="Add a mobile number").click()
    expect(page.get_by_role("heading", name="Text messages", exact=True)).to_be_visible()
    check_accessibility(page)
    no_sideways_scroll(page)
    screenshot(page, "phone-empty-phone")

    number = page.get_by_role("textbox", name="Mobile number")
    number.fill("06 12 34 56 78")  # no country code
    page.get_by_role("button", name="Add number").click()
    expect(page.locator("#number-error")).to_contain_text("Start with + and your country code")
    expect(number).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)

    page.get_by_role("textbox", name="Mobile number").fill("+33 6 12 34 56 78")
    page.get_by_role("button", name="Add number").click()
    expect(page.get_by_text("We texted a code to +33 6 12 34 56 78")).to_be_visible()
    expect(page.get_by_text("not verified")).to_be_visible()
    page.get_by_label("Code from the text message").fill("12345")
    page.get_by_role("button", name="Verify number").click()
    expect(page.locator("#code-error")).to_contain_text("Enter the 6 digits")
    check_accessibility(page)
    no_sideways_scroll(page)
    screenshot(page, "phone-verify-phone")

    # The worker's outbox backend writes the text beside the mail; /dev/outbox lists both.
    with csrf_app.extensions["db"].session() as session:
        assert deliver_pending(session, csrf_app.config) == 1
        session.commit()
    csrf_app.config["DEBUG"] = True
    try:
        outbox = new_page(viewport=PHONE)
        outbox.goto(f"{live_server.url}/dev/outbox")
        row = outbox.get_by_role("row").filter(has_text="+33612345678")
        expect(row).to_contain_text("SMS:")
        screenshot(outbox, "phone-dev-outbox-phone")
        row.get_by_role("link").click()
        text = outbox.locator(".mail-text").inner_text()
    finally:
        csrf_app.config["DEBUG"] = False
    match = re.search(r"your code is (\d{6})", text)
    assert match, text

    page.get_by_label("Code from the text message").fill(match.group(1))
    page.get_by_role("button", name="Verify number").click()
    expect(page.get_by_text("+33 6 12 34 56 78 is verified")).to_be_visible()
    expect(page.locator(".badge.ok")).to_have_text("verified")
    check_accessibility(page)
    no_sideways_scroll(page)
    screenshot(page, "phone-verified-phone")

    page.goto(f"{live_server.url}/account/profile")
    card = page.get_by_role("region", name="Text messages")
    expect(card).to_contain_text("+33 6 12 34 56 78")
    expect(card.locator(".badge.ok")).to_have_text("verified")
    screenshot(page, "phone-profile-phone")
    page.goto(f"{live_server.url}/account/phone")
    page.get_by_role("link", name="choose which reminders").click()
    expect(page.get_by_text("Text messages go to +33 6 12 34 56 78")).to_be_visible()
    check_accessibility(page)

    desktop = new_page(viewport=DESKTOP)
    log_in(desktop, live_server, csrf_app, user, login_as)
    desktop.goto(f"{live_server.url}/account/phone")
    expect(desktop.get_by_role("heading", name="Change your number")).to_be_visible()
    check_accessibility(desktop)
    screenshot(desktop, "phone-verified-desktop")


def test_the_settings_page_says_no_number_gets_texts(
    live_server, csrf_app: Flask, db, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(f"{live_server.url}/account/notifications/settings")
    expect(page.get_by_text("You have no verified mobile number")).to_be_visible()
    check_accessibility(page)
    no_sideways_scroll(page)
    screenshot(page, "phone-settings-no-number-phone")
