"""In Chromium on a phone: a refused address is explained on the profile, its owner asks for a
check link, opens it from the mail, and the notice is gone. axe; screenshots at 390 px."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.notifications import delivery
from app.domain.notifications.models import Channel
from tests.browser import (
    PHONE,
    check_accessibility,
    deliver_and_read_link,
    log_in,
    page_weight,
    screenshot,
)

pytestmark = pytest.mark.e2e


def test_a_refused_address_checked_again(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, login_as, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(csrf_app.config, "BASE_URL", live_server.url)
    user = make_user(name="Rae Refused", email="rae@example.test")
    delivery.mark_failing(db, Channel.EMAIL, user.email, reason="550 5.1.1 mailbox unavailable",
                          notification_id=None, now=utcnow())  # fmt: skip
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(f"{live_server.url}/account/profile")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("Our mail to rae@example.test is refused")
    check_accessibility(page)
    assert page_weight(page) < 300_000
    screenshot(page, "address-refused-phone")

    notice.get_by_role("button", name="Check this address again").click()
    expect(page.get_by_text("We sent a link to rae@example.test")).to_be_visible()
    link = deliver_and_read_link(csrf_app, "rae@example.test", "/account/email/works/")
    page.goto(link)
    expect(page.get_by_text("Our mail reaches rae@example.test")).to_be_visible()
    expect(page.get_by_text("is refused")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "address-works-phone")
