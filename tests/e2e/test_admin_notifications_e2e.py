"""An admin on a phone: the failed notifications list, a retry, and a template's preview."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.domain.accounts.models import Role
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import notify
from tests.browser import PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_an_admin_retries_a_failed_mail_and_previews_a_template(
    db, now, csrf_app, live_server, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    notify(
        db,
        key="e2e:failed",
        kind="booking_confirmed",
        channel=Channel.EMAIL,
        now=now,
        recipient="a-rather-long-address.that-bounced@example.test",
        payload={"booking_id": 1},
    )
    row = db.scalars(select(Notification)).one()
    row.status = NotificationStatus.FAILED
    row.attempts = 1
    row.last_error = "PermanentFailure: SMTP 550: 5.1.1 <a-rather-long-address…> No such user"
    db.commit()

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, admin, login_as)
    page.goto(f"{live_server.url}/admin/notifications")
    expect(page.get_by_role("heading", name="Failed notifications")).to_be_visible()
    expect(page.get_by_text("5.1.1")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "admin-notifications-failed-phone")

    page.get_by_role("link", name="Booking confirmed").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.get_by_text("Your booking B7K2QX is confirmed")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "admin-notification-preview-phone")

    page.go_back()
    page.get_by_role("button", name="Retry booking_confirmed").click()
    expect(page.get_by_text("Queued again")).to_be_visible()
    expect(page.get_by_text("Nothing has failed.")).to_be_visible()
    db.expire_all()
    assert db.get(Notification, row.id).status == NotificationStatus.PENDING
