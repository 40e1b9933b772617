"""The top of the organizer dashboard: today's and this week's sales and the next seven days'
events, with links to their analytics and check-in; nothing of another organizer's."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role


def test_the_dashboard_opens_with_sales_and_the_coming_week(
    client: FlaskClient,
    db: Session,
    make_user,
    make_event,
    make_tier,
    make_tickets,
    login_as,
    now,  # noqa: ANN001
) -> None:
    organizer = make_user(role=Role.ORGANIZER)
    soon = make_event(
        organizer=organizer,
        title="Harbour jazz night",
        starts_at=now + timedelta(days=2),
        timezone="America/New_York",
    )
    make_tickets(tier=make_tier(event=soon, price_minor=1500, capacity=40), quantity=2)
    stranger = make_user(role=Role.ORGANIZER)
    theirs = make_event(
        organizer=stranger, title="Someone else's gala", starts_at=now + timedelta(days=1)
    )
    make_tickets(tier=make_tier(event=theirs, price_minor=99_900, capacity=40), quantity=3)
    db.commit()
    login_as(client, organizer)
    html = client.get("/organizer/").get_data(as_text=True)
    assert "days in America/New_York (your next event’s time zone)" in html
    assert 'id="sold-2">2<' in html  # this week (today too, unless midnight just passed)
    assert "USD 30.00" in html
    assert "2 of 40 sold" in html
    assert "· 2 sold" in html  # the event list's count is live too
    assert f'href="/organizer/events/{soon.id}/analytics"' in html
    assert f'href="/checkin/{soon.id}"' in html
    assert "Someone else" not in html and "999.00" not in html


def test_an_organizer_without_events_sees_no_summary(
    client: FlaskClient,
    db: Session,
    make_user,
    login_as,  # noqa: ANN001
) -> None:
    organizer = make_user(role=Role.ORGANIZER)
    db.commit()
    login_as(client, organizer)
    html = client.get("/organizer/").get_data(as_text=True)
    assert "You have no events yet." in html and "sales-heading" not in html
