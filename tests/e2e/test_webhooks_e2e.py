"""In Chromium at phone width: an organizer adds a webhook endpoint (a form error first), sees
its secret once, sends a test event that the worker delivers signed to a receiver, and sees it
delivered. Accessibility is checked and a screenshot taken."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import text

from app.domain.accounts.models import Role
from jobs.webhooks import deliver_due
from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def test_add_an_endpoint_and_deliver_a_test_event_on_a_phone(  # noqa: ANN001
    csrf_app: Flask, live_server, new_page, db, make_user, login_as, receiver
) -> None:
    organizer = make_user(role=Role.ORGANIZER, name="Wen Webhook")
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, organizer, login_as)
    page.goto(live_server.url + "/organizer/webhooks/")
    expect(page.get_by_text("None yet. Add one below.")).to_be_visible()
    check_accessibility(page)
    assert page_weight(page) < 300_000

    page.get_by_label("Address (URL)").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.locator("#url-error")).to_contain_text("Enter an address starting with https://")
    check_accessibility(page)

    page.get_by_label("Address (URL)").fill("https://hooks.example.test/in")
    page.get_by_label("booking.confirmed: a booking is paid, or free tickets claimed").check()
    page.get_by_role("button", name="Add the endpoint").click()
    secret = page.get_by_label("Secret", exact=True).input_value()
    assert secret.startswith("whsec_")
    check_accessibility(page)
    screenshot(page, "webhooks-phone")

    page.get_by_role("button", name="Send a test event to https://hooks.example.test/in").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()
    expect(page.get_by_text("Secret", exact=True)).to_have_count(0)
    # The worker's run, with the endpoint moved to the local receiver.
    db.execute(text("UPDATE webhook_endpoints SET url = :url"), {"url": receiver.url})
    db.commit()
    config = {**csrf_app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS": True}
    assert deliver_due(csrf_app.extensions["db"].session, config) == 1
    (request,) = receiver.received
    assert request.signed_by(secret)

    page.reload()
    expect(page.locator(".badge.ok", has_text="delivered")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "webhooks-delivered-phone")
