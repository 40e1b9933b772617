"""The admin's payment search: by booking reference, buyer email, a payment's or a refund's
provider id; nothing found, garbage and overlong input answer clearly (never a 500); pages;
the booking page lists each provider event and keeps the refund form; the search's plans use
the indexes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.backoffice import payment_search
from app.domain.payments.models import Payment, PaymentEvent, PaymentStatus, Refund, RefundStatus
from app.domain.ticketing.models import Booking


@dataclass
class World:
    admin: User
    alice: Booking  # paid twice: a failed try, then a success, part refunded
    bob: Booking  # free: no payment at all
    failed: Payment
    paid: Payment
    refund: Refund


def _payment(db: Session, booking: Booking, ref: str, status: PaymentStatus, at) -> Payment:  # noqa: ANN001
    payment = Payment(
        booking_id=booking.id,
        provider="stripe",
        provider_ref=ref,
        amount_minor=booking.total_minor,
        currency=booking.currency,
        status=status,
        idempotency_key=f"key-{ref}",
        created_at=at,
    )
    db.add(payment)
    db.flush()
    return payment


@pytest.fixture
def world(db: Session, make_user, make_tier, make_tickets, now) -> World:  # noqa: ANN001
    tier = make_tier(price_minor=2500, name="Stalls", capacity=20)
    alice = make_user(name="Alice Able", email="Alice@Example.test")
    alice_booking = make_tickets(tier=tier, quantity=2, user=alice)[0].booking
    bob_booking = make_tickets(user=make_user(name="Bob Baker", email="bob@example.test"))[
        0
    ].booking
    failed = _payment(
        db, alice_booking, "cs_failed_1", PaymentStatus.FAILED, now - timedelta(hours=2)
    )
    paid = _payment(
        db, alice_booking, "cs_paid_2", PaymentStatus.SUCCEEDED, now - timedelta(hours=1)
    )
    refund = Refund(
        payment_id=paid.id,
        amount_minor=1000,
        currency=paid.currency,
        status=RefundStatus.SUCCEEDED,
        reason="Late start",
        idempotency_key="refund-1",
        provider_refund_ref="re_123",
    )
    paid.refunded_minor = 1000
    db.add(refund)
    db.add_all(
        [
            PaymentEvent(
                provider="stripe",
                provider_event_id="evt_fail",
                kind="payment_failed",
                payment_id=failed.id,
                outcome="failed",
                received_at=now - timedelta(hours=2),
            ),
            PaymentEvent(
                provider="stripe",
                provider_event_id="evt_paid",
                kind="payment_succeeded",
                payment_id=paid.id,
                outcome="confirmed",
                received_at=now - timedelta(minutes=50),
            ),
        ]
    )
    admin = make_user(role=Role.ADMIN)
    db.commit()
    return World(admin, alice_booking, bob_booking, failed, paid, refund)


@pytest.fixture
def admin(app: Flask, world: World, login_as) -> FlaskClient:  # noqa: ANN001
    client = app.test_client()
    login_as(client, world.admin)
    return client


def found(client: FlaskClient, query: str) -> list[tuple[str, str]]:
    """(reference, provider id or "") of each result row."""
    answer = client.get("/admin/bookings", query_string={"q": query})
    assert answer.status_code == 200, answer.text
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', answer.text, re.S)
    out = []
    for row in rows:
        reference = re.search(r"<code>(\w+)</code>", row).group(1)
        provider = re.search(r'<code class="muted"[^>]*>([^<]+)</code>', row)
        out.append((reference, provider.group(1) if provider else ""))
    return out


def test_search_by_reference_finds_every_payment_of_the_booking(
    admin: FlaskClient, world: World
) -> None:
    ref = world.alice.reference
    assert found(admin, ref.lower()) == [(ref, "cs_paid_2"), (ref, "cs_failed_1")]  # newest first
    page = admin.get("/admin/bookings", query_string={"q": ref}).text
    assert "2 results" in page and "Alice Able" in page and "Succeeded" in page
    assert "Failed" in page and "50.00" in page


def test_search_by_email_in_any_case(admin: FlaskClient, world: World) -> None:
    ref = world.alice.reference
    assert found(admin, "alice@example.TEST") == [(ref, "cs_paid_2"), (ref, "cs_failed_1")]
    free = found(admin, " bob@example.test ")
    assert free == [(world.bob.reference, "")]
    assert "No payment" in admin.get("/admin/bookings?q=bob@example.test").text


def test_search_by_the_providers_payment_or_refund_id(admin: FlaskClient, world: World) -> None:
    ref = world.alice.reference
    assert found(admin, "cs_failed_1") == [(ref, "cs_failed_1")]
    assert found(admin, "re_123") == [(ref, "cs_paid_2")]
    assert found(admin, "CS_FAILED_1") == []  # provider ids are exact


@pytest.mark.parametrize(
    "query",
    [
        "nobody@example.test",
        "ZZZZZZZZ",
        "'; DROP TABLE payments; --",
        "%",
        "_",
        "\x00",
        "a\x00b",
        "émoji 🎟️",
        "x" * 255,
    ],
)
def test_nothing_found_is_a_clear_empty_result(admin: FlaskClient, query: str) -> None:
    answer = admin.get("/admin/bookings", query_string={"q": query})
    assert answer.status_code == 200
    assert "0 results" in answer.text and "Nothing matches" in answer.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "x" * 256}, "at most 255 characters"),
        ({"q": "x" * 10_000}, "at most 255 characters"),
        ({"q": "cs_paid_2", "page": "0"}, "whole number"),
        ({"q": "cs_paid_2", "page": "abc"}, "whole number"),
        ({"q": "cs_paid_2", "page": "99999999999999999999"}, "whole number"),
    ],
)
def test_overlong_queries_and_bad_pages_answer_400(
    admin: FlaskClient, query: dict, message: str
) -> None:
    answer = admin.get("/admin/bookings", query_string=query)
    assert answer.status_code == 400
    assert message in answer.text
    assert 'id="q"' in answer.text  # the form again, to fix it


def test_an_empty_search_shows_the_form(admin: FlaskClient) -> None:
    answer = admin.get("/admin/bookings?q=")
    assert answer.status_code == 200
    assert 'id="q"' in answer.text and 'id="payment-count"' not in answer.text


def test_results_come_in_pages(db: Session, admin: FlaskClient, world: World, now) -> None:  # noqa: ANN001
    for n in range(payment_search.PAGE_SIZE + 3):
        booking = Booking(
            reference=f"BULK{n:04d}",
            user_id=world.alice.user_id,
            event_id=world.alice.event_id,
            quantity=1,
            total_minor=1000,
            currency="USD",
        )
        db.add(booking)
        db.flush()
        _payment(db, booking, f"cs_bulk_{n}", PaymentStatus.SUCCEEDED, now - timedelta(days=1))
    db.commit()
    total = payment_search.PAGE_SIZE + 3 + 2
    first = admin.get("/admin/bookings?q=alice@example.test").text
    assert f"{total} results" in first and "Page 1 of 2" in first and 'rel="next"' in first
    second = admin.get("/admin/bookings?q=alice@example.test&page=2")
    assert "Page 2 of 2" in second.text
    assert len(re.findall(r'<th scope="row">', second.text)) == total - payment_search.PAGE_SIZE
    past = admin.get("/admin/bookings?q=alice@example.test&page=3")
    assert past.status_code == 200 and "Nothing matches" in past.text


def test_the_booking_page_lists_provider_events_and_keeps_the_refund(
    admin: FlaskClient, world: World
) -> None:
    page = admin.get(f"/admin/bookings/{world.alice.reference}").text
    assert "Provider events" in page
    assert page.index("evt_fail") < page.index("evt_paid")  # in the order received
    for text_ in ("payment_failed", "payment_succeeded", "confirmed", "cs_paid_2"):
        assert text_ in page
    assert "Refund</h2>" in page and f"/admin/bookings/{world.alice.reference}/refund" in page
    free = admin.get(f"/admin/bookings/{world.bob.reference}").text
    assert "No provider has sent an event" in free


def test_organizers_do_not_see_provider_events(
    client: FlaskClient, world: World, login_as, db: Session
) -> None:  # noqa: ANN001
    event = world.alice.event
    login_as(client, db.get(User, event.organizer_id))
    page = client.get(f"/organizer/events/{event.id}/bookings/{world.alice.reference}")
    assert page.status_code == 200 and "Provider events" not in page.text


def test_the_legacy_reference_lookup_still_opens_the_booking(
    admin: FlaskClient, world: World
) -> None:
    answer = admin.get(f"/admin/bookings?reference={world.alice.reference.lower()}")
    assert answer.status_code == 302
    assert answer.location.endswith(f"/admin/bookings/{world.alice.reference}")


@pytest.mark.parametrize(
    ("branch", "index"),
    [
        ("SELECT id FROM payments WHERE provider_ref = 'x'", "ix_payments_provider_ref_alone"),
        (
            "SELECT id FROM refunds WHERE provider_refund_ref = 'x'",
            "ix_refunds_provider_refund_ref",
        ),
        ("SELECT id FROM users WHERE lower(email) = 'x'", "uq_users_email_lower"),
    ],
)
def test_each_search_key_has_its_index(db: Session, world: World, branch: str, index: str) -> None:
    db.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: ask what could be used
    plan = "\n".join(db.execute(text(f"EXPLAIN {branch}")).scalars())
    assert index in plan
    db.rollback()


def test_the_search_reads_no_table_whole(db: Session, world: World) -> None:
    """Every branch of the real statement finds its rows through an index."""
    db.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: ask what could be used
    statement = payment_search._rows("someone@example.test")
    compiled = statement.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "Seq Scan" not in plan, plan
    db.rollback()
