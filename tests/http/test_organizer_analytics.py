"""The organizer's analytics page and its CSVs: the figures of `sales_scenario` on the page
and parsed back from each chart's CSV; another organizer's event, or a chart the page does
not have, is not found and shows nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role


def _csv(client: FlaskClient, url: str) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200, url
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="')
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def test_the_page_shows_every_chart_with_its_numbers(
    client: FlaskClient,
    db: Session,
    sales_scenario,
    login_as,  # noqa: ANN001
) -> None:
    s = sales_scenario(title="Harbour jazz night")
    db.commit()
    login_as(client, s.organizer)
    page = client.get(f"/organizer/events/{s.event.id}/analytics")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="total-sold">6<' in html
    assert 'id="total-checked-in">3<' in html and "of 5 tickets checked in" in html
    assert "USD 47.50" in html and "USD 72.50" in html
    assert html.count('role="img"') == 6
    assert html.count("Download CSV") == 6
    assert "America/New_York" in html
    assert '<th scope="row">SAVE10</th>' in html


def test_each_chart_parses_back_from_its_csv(
    client: FlaskClient,
    db: Session,
    sales_scenario,
    login_as,  # noqa: ANN001
) -> None:
    s = sales_scenario()
    db.commit()
    login_as(client, s.organizer)
    base = f"/organizer/events/{s.event.id}/analytics"
    first = s.first_day
    assert _csv(client, f"{base}/sales.csv") == [
        ["Day", "VIP", "General"],
        [first.isoformat(), "3", "0"],
        [(first + timedelta(days=1)).isoformat(), "0", "0"],
        [(first + timedelta(days=2)).isoformat(), "0", "3"],
    ]
    assert _csv(client, f"{base}/revenue-usd.csv") == [
        ["Figure", "Amount (USD)"],
        ["Gross (charged)", "72.50"],
        ["Coupon discounts", "2.50"],
        ["Refunds", "25.00"],
        ["Net", "47.50"],
    ]
    assert _csv(client, f"{base}/coupons.csv") == [
        ["Code", "Uses", "Discount", "Currency"],
        ["SAVE10", "1", "2.50", "USD"],
        ["UNUSED", "0", "0.00", "USD"],
    ]
    assert _csv(client, f"{base}/waitlist.csv")[1:] == [
        ["Joined", "6"],
        ["Offered", "3"],
        ["Booked (converted)", "1"],
    ]
    assert _csv(client, f"{base}/check-ins-by-tier.csv") == [
        ["Ticket type", "Checked in (%)", "Admitted", "Tickets"],
        ["VIP", "50", "1", "2"],
        ["General", "67", "2", "3"],
    ]
    assert _csv(client, f"{base}/check-ins-by-gate.csv") == [
        ["Gate", "Admitted", "Share"],
        ["North", "2", "67"],
        ["South", "1", "33"],
    ]
    assert client.get(f"{base}/revenue-eur.csv").status_code == 404
    assert client.get(f"{base}/nothing.csv").status_code == 404


def test_another_organizers_event_is_not_found_and_shows_nothing(
    client: FlaskClient,
    db: Session,
    sales_scenario,
    make_user,
    login_as,  # noqa: ANN001
) -> None:
    s = sales_scenario(title="Harbour jazz night")
    stranger = make_user(role=Role.ORGANIZER)
    db.commit()
    login_as(client, stranger)
    for url in (
        f"/organizer/events/{s.event.id}/analytics",
        f"/organizer/events/{s.event.id}/analytics/sales.csv",
        f"/organizer/events/{s.event.id}/analytics/revenue-usd.csv",
        "/organizer/events/999999999/analytics",
    ):
        answer = client.get(url)
        body = answer.get_data(as_text=True)
        assert answer.status_code == 404, url
        assert "Harbour jazz night" not in body and "72.50" not in body and "SAVE10" not in body


def test_an_event_without_sales_says_so(
    client: FlaskClient,
    db: Session,
    make_user,
    make_event,
    make_tier,
    login_as,  # noqa: ANN001
) -> None:
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    make_tier(event=event, name="General", capacity=5)
    db.commit()
    login_as(client, organizer)
    html = client.get(f"/organizer/events/{event.id}/analytics").get_data(as_text=True)
    assert 'id="total-sold">0<' in html
    assert html.count("Nothing to show yet.") == 5  # no revenue chart without payments
    assert _csv(client, f"/organizer/events/{event.id}/analytics/sales.csv") == [["Day"]]
