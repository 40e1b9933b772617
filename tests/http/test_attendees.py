"""The organizer's attendee list and its CSV and Excel exports: rows checked against the
tickets, bookings and check-ins made here; search and filters; bad filters answer 400; another
organizer's event is not found; the exports equal the list and neutralise formulas; the CSV
streams."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.backoffice import attendees
from app.domain.checkin.models import CheckIn
from app.domain.events.models import Event
from app.domain.ticketing.models import BookingStatus, Ticket, TicketTier, Unit


@dataclass
class World:
    organizer: User
    event: Event
    stalls: TicketTier
    balcony: TicketTier
    tickets: dict[str, list[Ticket]]

    @property
    def base(self) -> str:
        return f"/organizer/events/{self.event.id}/attendees"


@pytest.fixture
def world(db: Session, make_user, make_event, make_tier, make_tickets, now) -> World:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, slug="jazz-night")
    stalls = make_tier(event=event, name="Stalls", capacity=20)
    balcony = make_tier(event=event, name="Balcony", capacity=20)

    def buy(name: str, email: str, tier: TicketTier, quantity: int = 1) -> list[Ticket]:
        return make_tickets(tier=tier, quantity=quantity, user=make_user(name=name, email=email))

    tickets = {
        "alice": buy("Alice Able", "alice@example.test", stalls, 2),
        "bob": buy("Bob Baker", "bob@example.test", balcony),
        "carol": buy("Carol 50%_off", "carol@example.test", stalls),
        "dave": buy('=HYPERLINK("x")', "+dave@example.test", balcony),
    }
    tickets["carol"][0].booking.status = BookingStatus.CANCELLED
    tickets["dave"][0].booking.status = BookingStatus.REFUNDED

    def check_in(ticket: Ticket, undone: bool = False) -> None:
        db.add(
            CheckIn(
                ticket_id=ticket.id,
                event_id=event.id,
                tier_id=ticket.tier_id,
                scanned_at=now - timedelta(minutes=5),
                undone_at=now if undone else None,
            )
        )

    check_in(tickets["alice"][0])
    check_in(tickets["bob"][0], undone=True)  # undone: not checked in
    db.commit()
    return World(organizer, event, stalls, balcony, tickets)


@pytest.fixture
def signed_in(client: FlaskClient, login_as, world: World) -> FlaskClient:  # noqa: ANN001
    login_as(client, world.organizer)
    return client


def listed_references(client: FlaskClient, url: str) -> list[tuple[str, str]]:
    """(reference, buyer email) of each row of the CSV export at `url`, for filter checks."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.text)))[1:]
    return [(row[3], row[1].removeprefix("'")) for row in rows]


def test_the_list_shows_every_ticket_with_buyer_status_and_live_check_in(
    db: Session, signed_in: FlaskClient, world: World
) -> None:
    page = signed_in.get(world.base)
    assert page.status_code == 200
    html = page.text
    assert "5 tickets" in html
    for name in ("Alice Able", "Bob Baker", "Carol 50%_off", "=HYPERLINK"):
        assert name in html
    rows = attendees.attendee_page(db, world.event.id, attendees.AttendeeFilter()).rows
    expected = {
        t.id: (t.booking.reference, t.booking.status, t.tier.name)
        for group in world.tickets.values()
        for t in group
    }
    assert {r.ticket_id: (r.reference, r.status, r.tier) for r in rows} == expected
    checked = {r.ticket_id for r in rows if r.checked_in}
    assert checked == {world.tickets["alice"][0].id}
    statuses = {r.buyer_email: r.status for r in rows}
    assert statuses["carol@example.test"] == BookingStatus.CANCELLED
    assert statuses["+dave@example.test"] == BookingStatus.REFUNDED


def test_the_event_pages_link_to_the_list(signed_in: FlaskClient, world: World) -> None:
    assert world.base in signed_in.get(f"/organizer/events/{world.event.id}/tiers").text
    assert world.base in signed_in.get("/organizer/").text


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ("q=alice", {"alice@example.test"}),
        ("q=BAKER", {"bob@example.test"}),
        ("q=50%25_", {"carol@example.test"}),  # % and _ match themselves
        ("q=%25", {"carol@example.test"}),
        ("q=_", {"carol@example.test"}),
        ("status=cancelled", {"carol@example.test"}),
        ("status=refunded", {"+dave@example.test"}),
        ("status=confirmed", {"alice@example.test", "bob@example.test"}),
        ("checked_in=yes", {"alice@example.test"}),
        (
            "checked_in=no",
            {"alice@example.test", "bob@example.test", "carol@example.test", "+dave@example.test"},
        ),
        (
            "status=&tier=&checked_in=&q=",
            {"alice@example.test", "bob@example.test", "carol@example.test", "+dave@example.test"},
        ),
    ],
)
def test_search_and_filters(signed_in: FlaskClient, world: World, query: str, emails: set) -> None:
    found = listed_references(signed_in, f"{world.base}.csv?{query}")
    assert {email for _, email in found} == emails


def test_search_by_reference_and_filter_by_tier(signed_in: FlaskClient, world: World) -> None:
    reference = world.tickets["bob"][0].booking.reference
    found = listed_references(signed_in, f"{world.base}.csv?q={reference.lower()}")
    assert found == [(reference, "bob@example.test")]
    stalls = listed_references(signed_in, f"{world.base}.csv?tier={world.stalls.id}")
    assert sorted(e for _, e in stalls) == [
        "alice@example.test",
        "alice@example.test",
        "carol@example.test",
    ]
    page = signed_in.get(f"{world.base}?tier={world.balcony.id}&checked_in=no")
    assert "Bob Baker" in page.text and "Alice Able" not in page.text


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=0",
        "page=abc",
        "page=99999999999",
        "status=junk",
        "checked_in=maybe",
        "tier=abc",
        "tier=999999999",
        "q=" + "x" * 101,
    ],
)
@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_bad_filters_answer_400(
    signed_in: FlaskClient, world: World, query: str, suffix: str
) -> None:
    answer = signed_in.get(f"{world.base}{suffix}?{query}")
    assert answer.status_code == 400


def test_another_events_tier_is_a_bad_filter(
    signed_in: FlaskClient,
    world: World,
    make_tier,
    db: Session,  # noqa: ANN001
) -> None:
    foreign = make_tier(name="Elsewhere")
    db.commit()
    answer = signed_in.get(f"{world.base}?tier={foreign.id}")
    assert answer.status_code == 400
    assert "not one of this event" in answer.text


def test_pages(db: Session, signed_in: FlaskClient, world: World, make_tier, make_tickets) -> None:  # noqa: ANN001
    standing = make_tier(event=world.event, name="Standing", capacity=60)
    for _ in range(6):
        make_tickets(tier=standing, quantity=10)
    db.commit()  # 5 + 60 tickets: two pages
    first = signed_in.get(world.base + "?status=confirmed")
    assert "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = signed_in.get(world.base + "?status=confirmed&page=2")
    assert "Page 2 of 2" in second.text and 'rel="prev"' in second.text
    assert "status=confirmed" in second.text.split('rel="prev"')[0].rsplit("href=", 1)[1]
    chosen = attendees.AttendeeFilter(page=1)
    one = attendees.attendee_page(db, world.event.id, chosen).rows
    two = attendees.attendee_page(db, world.event.id, attendees.AttendeeFilter(page=2)).rows
    assert len(one) == attendees.PAGE_SIZE and len(two) == 65 - attendees.PAGE_SIZE
    assert [r.ticket_id for r in one + two] == sorted(r.ticket_id for r in one + two)
    past = signed_in.get(world.base + "?page=3")
    assert past.status_code == 200 and "No tickets match." in past.text


@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_another_organizers_event_is_not_found(
    client: FlaskClient,
    login_as,
    make_user,
    world: World,
    suffix: str,  # noqa: ANN001
) -> None:
    login_as(client, make_user(role=Role.ORGANIZER))
    assert client.get(f"{world.base}{suffix}").status_code == 404


def test_exports_equal_the_list_and_neutralise_formulas(
    db: Session, signed_in: FlaskClient, world: World
) -> None:
    rows = attendees.attendee_page(db, world.event.id, attendees.AttendeeFilter()).rows
    from app.domain.backoffice.exports import HEADER, cells

    expected = [list(HEADER)] + [cells(row) for row in rows]
    answer = signed_in.get(world.base + ".csv")
    assert answer.mimetype == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="jazz-night-attendees-')
    assert disposition.endswith('.csv"')
    parsed = list(csv.reader(io.StringIO(answer.text)))
    assert parsed == expected
    workbook = signed_in.get(world.base + ".xlsx")
    assert "jazz-night-attendees-" in workbook.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(workbook.data), read_only=True)["Attendees"]
    assert [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)] == expected
    dave = next(row for row in parsed if row[1].endswith("dave@example.test"))
    assert dave[0] == '\'=HYPERLINK("x")' and dave[1] == "'+dave@example.test"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in parsed for cell in row)


def test_the_csv_streams_thousands_of_rows(
    db: Session, signed_in: FlaskClient, world: World
) -> None:
    booking = world.tickets["bob"][0].booking
    units = (
        db.execute(
            insert(Unit).returning(Unit.id),
            [{"event_id": world.event.id, "tier_id": world.balcony.id} for _ in range(3000)],
        )
        .scalars()
        .all()
    )
    db.execute(
        insert(Ticket),
        [
            {
                "booking_id": booking.id,
                "unit_id": unit,
                "tier_id": world.balcony.id,
                "secret": f"bulk-{unit}",
            }
            for unit in units
        ],
    )
    db.commit()
    answer = signed_in.get(world.base + ".csv", buffered=False)
    assert answer.is_streamed
    chunks = [len(chunk) for chunk in answer.response]
    answer.close()
    assert len(chunks) > 3000 // 500  # written in batches, not one body
    assert max(chunks) < 200_000
    body = signed_in.get(world.base + ".csv").text
    assert len(body.splitlines()) == 1 + 5 + 3000
    workbook = signed_in.get(world.base + ".xlsx?checked_in=no")
    sheet = load_workbook(io.BytesIO(workbook.data), read_only=True)["Attendees"]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + 4 + 3000
