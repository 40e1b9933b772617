"""The buyer's tickets over HTTP: the ticket page (a QR per valid ticket, none for void ones,
only a message for a booking without tickets), the PDF and the calendar file, a guest's name
(htmx swaps the ticket's card, a plain post gets the page; refusals show next to the field and
change nothing), someone else's booking or ticket a 404, the form CSRF-protected, and the
ticket pages' service worker with its narrow scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditEntry
from app.domain.base import utcnow
from app.domain.events.models import EventType
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, Ticket, TicketStatus
from app.domain.ticketing.waitlist import OfferSettings
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true"}
QR_LABEL = re.compile(r'aria-label="QR code of ticket (\d)"')


@pytest.fixture
def buyer(make_user):  # noqa: ANN001, ANN201
    return make_user(name="Clara Buyer")


@pytest.fixture
def booking(db: Session, client: FlaskClient, buyer, make_seated_booking, login_as) -> Booking:  # noqa: ANN001
    """The signed-in buyer's confirmed booking of two seats."""
    made = make_seated_booking(buyer=buyer, title="Quartet at the Lyric")
    login_as(client, buyer)
    db.commit()
    return made


def tickets(db: Session, booking: Booking) -> list[Ticket]:
    db.expire_all()
    return list(
        db.scalars(select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id))
    )


def names(db: Session, booking: Booking) -> list[str | None]:
    return [t.holder_name for t in tickets(db, booking)]


def audit_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry))


def url(booking: Booking, tail: str = "tickets") -> str:
    return f"/account/bookings/{booking.reference}/{tail}"


def test_the_ticket_page_shows_a_qr_per_ticket_with_name_seat_and_links(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    page = client.get(url(booking))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert QR_LABEL.findall(html) == ["1", "2"]
    assert html.count("<svg") == 2
    assert "Stalls, Row B seat 1" in html and "Stalls, Row B seat 2" in html
    assert html.count("Clara Buyer") >= 2
    assert url(booking, "tickets.pdf") in html and url(booking, "tickets.ics") in html
    assert re.search(r"/static/js/tickets\.[0-9a-f]{12}\.js", html)
    detail = client.get(f"/account/bookings/{booking.reference}").get_data(as_text=True)
    for link in ("Your tickets", "Download PDF", "Add to calendar", url(booking)):
        assert link in detail
    assert url(booking) in client.get("/account/bookings").get_data(as_text=True)


def test_a_held_booking_has_a_message_and_no_pdf_or_calendar(
    client: FlaskClient, db: Session, buyer, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    held = make_seated_booking(buyer=buyer, price_minor=3000)
    login_as(client, buyer)
    page = client.get(url(held)).get_data(as_text=True)
    assert "appear here once the booking is confirmed" in page and "<svg" not in page
    assert client.get(url(held, "tickets.pdf")).status_code == 404
    assert client.get(url(held, "tickets.ics")).status_code == 404
    assert url(held) not in client.get(f"/account/bookings/{held.reference}").get_data(as_text=True)


def test_a_cancelled_booking_shows_no_codes(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    cancel_booking(db, booking, actor_id=None, now=utcnow(), offers=OfferSettings())
    db.commit()
    page = client.get(url(booking)).get_data(as_text=True)
    assert "its tickets are no longer valid" in page and "<svg" not in page
    assert client.get(url(booking, "tickets.pdf")).status_code == 404
    assert client.get(url(booking, "tickets.ics")).status_code == 404


def test_the_pdf_is_an_attachment_named_after_the_reference(
    client: FlaskClient, booking: Booking
) -> None:
    response = client.get(url(booking, "tickets.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="tickets-{booking.reference}.pdf"'
    )


def test_the_calendar_file_links_back_to_the_tickets(
    client: FlaskClient, db: Session, buyer, make_seated_booking, app: Flask, login_as
) -> None:  # noqa: ANN001
    online = make_seated_booking(
        buyer=buyer,
        quantity=1,
        event_type=EventType.ONLINE,
        online_url="https://meet.example.test/q",
    )
    login_as(client, buyer)
    response = client.get(url(online, "tickets.ics"))
    body = re.sub(r"\r\n[ \t]", "", response.get_data(as_text=True))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{online.reference}.ics"'
    )
    assert f"UID:booking-{online.id}@" in body
    assert "LOCATION:https://meet.example.test/q" in body  # only ticket holders see it
    assert f"Booking {online.reference}\\, 1 ticket" in body
    assert app.config["BASE_URL"] + url(online) in body


def test_a_guest_name_by_htmx_swaps_the_ticket_card(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    first, second = tickets(db, booking)
    response = client.post(
        url(booking, f"tickets/{second.id}/name"), data={"name": "  Ada  Lovelace "}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="ticket-{second.id}"' in html
    assert "<html" not in html and "Ada Lovelace" in html and html.count("<svg") == 1
    assert "now in the name of Ada Lovelace" in html
    assert names(db, booking) == [None, "Ada Lovelace"]
    assert response.headers["Vary"] and "HX-Request" in response.headers["Vary"]


def test_a_guest_name_by_a_plain_form_lands_on_the_page(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    first, _ = tickets(db, booking)
    response = client.post(url(booking, f"tickets/{first.id}/name"), data={"name": "Ada"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(booking) + f"#ticket-{first.id}")
    page = client.get(url(booking)).get_data(as_text=True)
    assert "now in the name of Ada" in page
    client.post(url(booking, f"tickets/{first.id}/name"), data={"name": ""})
    assert names(db, booking) == [None, None]


@pytest.mark.parametrize("htmx", [True, False])
def test_a_bad_name_is_shown_next_to_the_field_and_changes_nothing(
    client: FlaskClient, db: Session, booking: Booking, htmx: bool
) -> None:
    first, _ = tickets(db, booking)
    before = audit_count(db)
    response = client.post(
        url(booking, f"tickets/{first.id}/name"),
        data={"name": "x" * 121},
        headers=HTMX if htmx else {},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="guest-name-{first.id}-error"' in html
    assert "Use at most 120 characters for a name." in html
    assert 'aria-invalid="true"' in html and ("<html" in html) is not htmx
    assert names(db, booking) == [None, None] and audit_count(db) == before


def test_after_the_event_started_names_are_refused(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    booking.event.starts_at = utcnow() - timedelta(minutes=5)
    db.commit()
    first, _ = tickets(db, booking)
    response = client.post(url(booking, f"tickets/{first.id}/name"), data={"name": "Ada"})
    assert response.status_code == 422
    assert "The event has started" in response.get_data(as_text=True)
    assert names(db, booking) == [None, None]
    assert "Put a guest" not in client.get(url(booking)).get_data(as_text=True)


def test_someone_elses_booking_or_ticket_is_not_found_and_nothing_changes(
    app: Flask, db: Session, booking: Booking, make_user, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    stranger = make_user()
    theirs = make_seated_booking(buyer=stranger)
    db.commit()
    their_ticket = tickets(db, theirs)[0]
    mine = tickets(db, booking)[0]
    client = app.test_client()
    login_as(client, stranger)
    before = (names(db, booking), audit_count(db))
    for path in ("tickets", "tickets.pdf", "tickets.ics"):
        assert client.get(url(booking, path)).status_code == 404
    assert (
        client.post(url(booking, f"tickets/{mine.id}/name"), data={"name": "X"}).status_code == 404
    )
    # Their own booking in the URL does not reach another's ticket.
    owner = app.test_client()
    login_as(owner, booking.user)
    assert (
        owner.post(url(booking, f"tickets/{their_ticket.id}/name"), data={"name": "X"}).status_code
        == 404
    )
    assert (names(db, booking), audit_count(db)) == before
    assert names(db, theirs) == [None, None]


def test_the_name_form_needs_its_csrf_token(
    csrf_app: Flask, db: Session, buyer, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    made = make_seated_booking(buyer=buyer)
    db.commit()
    client = csrf_app.test_client()
    login_as(client, buyer)
    first = tickets(db, made)[0]
    target = url(made, f"tickets/{first.id}/name")
    assert client.post(target, data={"name": "Ada"}).status_code == 400
    assert names(db, made) == [None, None]
    token = csrf_token_from(client.get(url(made)).get_data(as_text=True))
    assert client.post(target, data={"name": "Ada", "csrf_token": token}).status_code == 303
    assert names(db, made) == ["Ada", None]


def test_a_void_ticket_is_listed_without_a_code(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    first, second = tickets(db, booking)
    first.status = TicketStatus.VOID  # as a refund of that one ticket leaves it
    db.commit()
    html = client.get(url(booking)).get_data(as_text=True)
    assert QR_LABEL.findall(html) == ["2"]
    assert "cancelled or refunded and cannot be used" in html
    response = client.post(url(booking, f"tickets/{first.id}/name"), data={"name": "A"})
    assert response.status_code == 409
    assert "no longer valid" in response.get_data(as_text=True)
    assert names(db, booking) == [None, None]


def test_the_service_worker_is_served_for_the_ticket_pages_only(
    client: FlaskClient,
) -> None:
    response = client.get("/account/bookings/tickets-sw.js")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "/checkin" not in body
    pattern = re.search(r"var TICKETS = /(.+)/;", body)
    assert pattern is not None
    tickets_page = re.compile(pattern.group(1).replace("\\/", "/"))
    assert tickets_page.match("/account/bookings/AB12CD34/tickets")
    for other in ("/account/bookings/AB12CD34", "/account/bookings", "/checkin/1", "/events/1"):
        assert not tickets_page.match(other)
    csp = client.get("/account/bookings/tickets-sw.js").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "worker-src" not in csp  # 'self' covers workers
