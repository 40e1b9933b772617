"""The organizer's exports of an event's orders (a row per booking) and payments (a row per
payment and per refund), as CSV and Excel: parsed back and checked against the bookings,
payments and refunds made here; formulas neutralised; another organizer's event not found;
a 50,000-booking export streams in batches instead of being built in memory."""

from __future__ import annotations

import csv
import inspect
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.backoffice import booking_exports
from app.domain.events.models import Event
from app.domain.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.models import Booking, BookingStatus, CouponKind


@dataclass
class World:
    organizer: User
    event: Event
    alice: Booking  # two tickets with a coupon, paid (after a failed try), part refunded
    eve: Booking  # a buyer named like a formula, paid by a provider id like one
    payments: list[Payment]
    refund: Refund

    def url(self, name: str) -> str:
        return f"/organizer/events/{self.event.id}/{name}"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""


@pytest.fixture
def world(db: Session, make_user, make_event, make_tier, make_tickets, now) -> World:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, slug="harbour-gala")
    tier = make_tier(event=event, price_minor=2500, capacity=20, name="Stalls")
    coupon = create_coupon(
        db,
        event=event,
        data=CouponData(code="SPRING10", kind=CouponKind.PERCENT, percent_off=10),
        actor_id=None,
        now=now,
    )
    alice = make_tickets(
        tier=tier, quantity=2, user=make_user(name="Alice Able", email="alice@example.test")
    )[0].booking
    alice.coupon_id, alice.discount_minor, alice.total_minor = coupon.id, 500, 4500
    eve = make_tickets(
        tier=tier, user=make_user(name='=HYPERLINK("x")', email="+eve@example.test")
    )[0].booking

    def pay(booking: Booking, ref: str, status: PaymentStatus, minutes_ago: int) -> Payment:
        payment = Payment(
            booking_id=booking.id,
            provider="stripe",
            provider_ref=ref,
            amount_minor=booking.total_minor,
            currency="USD",
            status=status,
            idempotency_key=f"k-{ref}",
            created_at=now - timedelta(minutes=minutes_ago),
        )
        db.add(payment)
        db.flush()
        return payment

    payments = [
        pay(alice, "cs_try_1", PaymentStatus.FAILED, 30),
        pay(alice, "cs_paid_2", PaymentStatus.SUCCEEDED, 20),
        pay(eve, "=cmd|' /C calc'!A0", PaymentStatus.SUCCEEDED, 10),
    ]
    refund = Refund(
        payment_id=payments[1].id,
        amount_minor=1250,
        currency="USD",
        status=RefundStatus.SUCCEEDED,
        reason="One seat unused",
        idempotency_key="r-1",
        provider_refund_ref="re_77",
        created_at=now - timedelta(minutes=5),
    )
    payments[1].refunded_minor = 1250
    db.add(refund)
    other = make_tickets(tier=make_tier(price_minor=900))[0].booking  # another event's
    pay(other, "cs_elsewhere", PaymentStatus.SUCCEEDED, 1)
    db.commit()
    return World(organizer, event, alice, eve, payments, refund)


@pytest.fixture
def signed_in(client: FlaskClient, login_as, world: World) -> FlaskClient:  # noqa: ANN001
    login_as(client, world.organizer)
    return client


def parsed_csv(client: FlaskClient, url: str) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.text)))


def parsed_xlsx(client: FlaskClient, url: str, sheet: str) -> list[list[object]]:
    answer = client.get(url)
    assert answer.status_code == 200
    rows = load_workbook(io.BytesIO(answer.data), read_only=True)[sheet]
    return [[_value(cell) for cell in row] for row in rows.values]


def _value(cell: object) -> object:
    """A cell as comparable across CSV text and Excel: amounts and counts as numbers (the
    workbook holds numbers, not text), the rest as text."""
    if cell is None:
        return ""
    if isinstance(cell, int | float) or re.fullmatch(r"\d+(\.\d+)?", str(cell)):
        return Decimal(str(cell))
    return str(cell)


def as_values(rows: list[list[str]]) -> list[list[object]]:
    return [[_value(cell) for cell in row] for row in rows]


def test_orders_export_one_row_per_booking(
    db: Session, signed_in: FlaskClient, world: World
) -> None:
    alice, eve = world.alice, world.eve
    expected = [
        list(booking_exports.BOOKING_HEADER),
        [
            alice.reference,
            "Alice Able",
            "alice@example.test",
            "confirmed",
            "2",
            "50.00",
            "5.00",
            "45.00",
            "USD",
            "SPRING10",
            _when(alice.created_at),
            _when(alice.confirmed_at),
            "12.50",
        ],
        [
            eve.reference,
            '\'=HYPERLINK("x")',
            "'+eve@example.test",
            "confirmed",
            "1",
            "25.00",
            "0.00",
            "25.00",
            "USD",
            "",
            _when(eve.created_at),
            _when(eve.confirmed_at),
            "0.00",
        ],
    ]
    rows = parsed_csv(signed_in, world.url("orders.csv"))
    assert rows == expected
    assert parsed_xlsx(signed_in, world.url("orders.xlsx"), "Orders") == as_values(expected)
    answer = signed_in.get(world.url("orders.csv"))
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="harbour-gala-orders-')


def test_payments_export_one_row_per_payment_and_refund(
    signed_in: FlaskClient, world: World
) -> None:
    ref_a, ref_e = world.alice.reference, world.eve.reference
    tried, paid, eves = world.payments
    expected = [
        list(booking_exports.PAYMENT_HEADER),
        [ref_a, "payment", "stripe", "cs_try_1", "45.00", "USD", "failed", _when(tried.created_at)],
        [ref_a, "payment", "stripe", "cs_paid_2", "45.00", "USD", "succeeded",
         _when(paid.created_at)],
        [ref_e, "payment", "stripe", "'=cmd|' /C calc'!A0", "25.00", "USD", "succeeded",
         _when(eves.created_at)],
        [ref_a, "refund", "stripe", "re_77", "12.50", "USD", "succeeded",
         _when(world.refund.created_at)],
    ]  # fmt: skip
    assert parsed_csv(signed_in, world.url("payments.csv")) == expected
    assert parsed_xlsx(signed_in, world.url("payments.xlsx"), "Payments") == as_values(expected)


def test_no_cell_could_run_as_a_formula(signed_in: FlaskClient, world: World) -> None:
    for name in ("orders.csv", "payments.csv"):
        for row in parsed_csv(signed_in, world.url(name)):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_the_payments_page_links_to_the_exports(signed_in: FlaskClient, world: World) -> None:
    page = signed_in.get(world.url("payments")).text
    for name in ("orders.csv", "orders.xlsx", "payments.csv", "payments.xlsx"):
        assert world.url(name) in page


@pytest.mark.parametrize("name", ["orders.csv", "orders.xlsx", "payments.csv", "payments.xlsx"])
def test_another_organizers_event_is_not_found(
    app: Flask, make_user, login_as, world: World, db: Session, name: str
) -> None:  # noqa: ANN001
    stranger = app.test_client()
    login_as(stranger, make_user(role=Role.ORGANIZER))
    db.commit()
    assert stranger.get(world.url(name)).status_code == 404
    assert stranger.get(f"/organizer/events/99999999/{name}").status_code == 404


def test_an_event_without_orders_exports_the_header_alone(
    db: Session, signed_in: FlaskClient, world: World, make_event
) -> None:  # noqa: ANN001
    empty = make_event(organizer=world.organizer)
    db.commit()
    rows = parsed_csv(signed_in, f"/organizer/events/{empty.id}/payments.csv")
    assert rows == [list(booking_exports.PAYMENT_HEADER)]


def test_fifty_thousand_orders_stream_in_batches(
    db: Session, signed_in: FlaskClient, world: World
) -> None:
    count = 50_000
    db.execute(
        insert(Booking),
        [
            {
                "reference": f"B{n:07d}",
                "user_id": world.alice.user_id,
                "event_id": world.event.id,
                "status": BookingStatus.CONFIRMED,
                "quantity": 1,
                "total_minor": 2500,
                "currency": "USD",
            }
            for n in range(count)
        ],
    )
    db.commit()
    assert inspect.isgenerator(booking_exports.all_bookings(db, world.event.id))
    answer = signed_in.get(world.url("orders.csv"), buffered=False)
    assert answer.is_streamed
    chunks = [len(chunk) for chunk in answer.response]
    answer.close()
    assert len(chunks) > count // 500  # written in batches, not one body
    assert max(chunks) < 200_000
    assert sum(chunks) > count * 40
    body = signed_in.get(world.url("orders.csv")).text
    assert len(body.splitlines()) == 1 + 2 + count
