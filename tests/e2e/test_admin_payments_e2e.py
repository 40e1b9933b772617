"""In Chromium at 390 px: an admin searches payments by a buyer's email, opens the booking
and reads the providers' events; the jobs page with a failed job retried; the organizer's
payments page with its exports. Axe on each page, page weight, screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.outbox import enqueue
from app.domain.payments.models import Payment, PaymentEvent, PaymentStatus
from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def _fits(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_finds_a_payment_by_email_and_reads_its_provider_events(
    live_server,
    csrf_app,
    db: Session,
    new_page,
    make_user,
    make_event,
    make_tier,
    make_tickets,
    login_as,
    now,
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, title="Harbour jazz night")
    tier = make_tier(event=event, price_minor=3200, capacity=10, name="Standing")
    buyer = make_user(name="Nina Patel", email="nina.patel@example.test")
    booking = make_tickets(tier=tier, quantity=2, user=buyer)[0].booking
    payment = Payment(
        booking_id=booking.id,
        provider="stripe",
        provider_ref="cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuV",
        amount_minor=booking.total_minor,
        currency="USD",
        status=PaymentStatus.SUCCEEDED,
        idempotency_key="e2e-pay",
        created_at=now - timedelta(minutes=20),
    )
    db.add(payment)
    db.flush()
    db.add(
        PaymentEvent(
            provider="stripe",
            provider_event_id="evt_1QeXyZ2eZvKYlo2C",
            kind="payment_succeeded",
            payment_id=payment.id,
            outcome="confirmed",
            received_at=now - timedelta(minutes=19),
        )
    )
    job = enqueue(db, "email.send", {}, available_at=now + timedelta(minutes=30))
    job.attempts, job.last_error = 2, "TemporaryFailure: SMTP unreachable: ConnectionRefusedError"
    admin = make_user(role=Role.ADMIN)
    db.commit()

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, admin, login_as)
    page.goto(f"{live_server.url}/admin/bookings")
    expect(page.get_by_role("heading", name="Payments", exact=True)).to_be_visible()
    page.get_by_label("Booking reference, buyer email or provider id").fill(
        "Nina.Patel@example.test"
    )
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#payment-count")).to_have_text("1 result")
    expect(page.get_by_role("rowheader")).to_contain_text(booking.reference)
    check_accessibility(page)
    assert _fits(page) and page_weight(page) < 300_000
    screenshot(page, "admin-payments-search-phone")

    page.get_by_label("Booking reference, buyer email or provider id").fill("no-such-thing")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#payment-count")).to_have_text("0 results")
    expect(page.get_by_text("Nothing matches")).to_be_visible()

    page.get_by_label("Booking reference, buyer email or provider id").fill(
        "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuV"
    )
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=booking.reference).click()
    expect(page.get_by_role("heading", name=f"Booking {booking.reference}")).to_be_visible()
    expect(page.get_by_role("heading", name="Provider events")).to_be_visible()
    expect(page.get_by_text("evt_1QeXyZ2eZvKYlo2C")).to_be_visible()
    expect(page.get_by_role("heading", name="Refund")).to_be_visible()
    check_accessibility(page)
    assert _fits(page) and page_weight(page) < 300_000
    screenshot(page, "admin-payments-booking-phone")

    page.get_by_role("link", name="Payments").click()  # back to the admin's pages
    page.get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    expect(page.get_by_text("SMTP unreachable")).to_be_visible()
    check_accessibility(page)
    assert _fits(page) and page_weight(page) < 300_000
    screenshot(page, "admin-jobs-phone")
    page.get_by_role("button", name=f"Retry now job {job.id}").click()
    expect(page.get_by_text("runs again shortly")).to_be_visible()
    page.get_by_role("button", name="Reconcile now").click()
    expect(page.get_by_text("Reconciliation queued")).to_be_visible()
    expect(page.locator(".reconcile-runs")).to_contain_text("Waiting")

    desk = new_page(viewport=PHONE)
    log_in(desk, live_server, csrf_app, organizer, login_as)
    desk.goto(f"{live_server.url}/organizer/events/{event.id}/payments")
    expect(desk.get_by_role("link", name="Orders CSV")).to_be_visible()
    check_accessibility(desk)
    assert _fits(desk)
    with desk.expect_download() as download:
        desk.get_by_role("link", name="Payments CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    screenshot(desk, "organizer-payments-exports-phone")
