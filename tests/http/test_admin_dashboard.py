"""The admin dashboard over HTTP: its figures and charts, a range that cannot be shown explained
(and the default one shown), each chart's CSV parsed back, admins only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.domain.accounts.models import Role
from app.domain.backoffice import admin_dashboard as dash
from app.domain.events.models import EventStatus
from tests.factories.sales import sell


def _admin_client(app, make_user, login_as):  # noqa: ANN001, ANN202
    client = app.test_client()
    login_as(client, make_user(role=Role.ADMIN))
    return client


def test_the_dashboard_shows_the_figures_and_charts_of_the_range(
    app, db, now, make_user, login_as, make_event, make_category
) -> None:  # noqa: ANN001
    gig = make_event(category=make_category(name="Jazz"), title="Late gig")
    sell(db, gig, 3, now, paid=4500)
    sell(db, gig, 2, now - timedelta(days=40), paid=3000)  # outside the default 30 days
    make_event(status=EventStatus.SUBMITTED)
    db.commit()
    client = _admin_client(app, make_user, login_as)

    index = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/dashboard"' in index
    response = client.get("/admin/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Days run midnight to midnight, UTC" in page
    assert "USD 45.00" in page and "Late gig" in page and "Jazz" in page
    assert page.count("<svg") == 3  # sales, revenue in USD, top events
    today = dash.local_today(now, "UTC")
    first = today - timedelta(days=dash.DEFAULT_DAYS - 1)
    assert f'value="{first.isoformat()}"' in page and f'value="{today.isoformat()}"' in page
    assert f"/admin/dashboard.csv?chart=categories-USD&amp;from={first}&amp;to={today}" in page
    assert 'href="/admin/notifications"' in page and 'href="/admin/moderation"' in page
    assert len(page.encode()) < 300_000

    # A wider range takes the older sale in.
    wide = client.get(f"/admin/dashboard?from={today - timedelta(days=45)}&to={today}").get_data(
        as_text=True
    )
    assert "USD 75.00" in wide


def test_a_range_that_cannot_be_shown_is_explained_and_the_default_shown(
    app, db, now, make_user, login_as
) -> None:  # noqa: ANN001
    client = _admin_client(app, make_user, login_as)
    today = dash.local_today(now, "UTC")
    default_first = today - timedelta(days=dash.DEFAULT_DAYS - 1)
    for query, words in (
        ("from=31-12-2025", "should look like 2025-03-31"),
        (f"from={today}&to={today - timedelta(days=1)}", "ends before it starts"),
        (f"from={today - timedelta(days=400)}&to={today}", "at most 366 days"),
        ("to=%3Cscript%3E", "should look like"),
        ("from=9999-12-31", "Pick dates between 2000-01-01"),
        ("to=0001-01-01", "Pick dates between 2000-01-01"),
    ):
        response = client.get(f"/admin/dashboard?{query}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert words in page and 'role="alert"' in page, query
        assert f'value="{default_first.isoformat()}"' in page, query
        assert "<script>" not in page


def test_each_chart_downloads_as_csv_and_a_bad_request_is_refused(
    app, db, now, make_user, login_as, make_event
) -> None:  # noqa: ANN001
    gig = make_event(title="=HYPERLINK(1)")
    sell(db, gig, 3, now, paid=4500)
    db.commit()
    client = _admin_client(app, make_user, login_as)
    today = dash.local_today(now, "UTC")
    span = f"from={today - timedelta(days=1)}&to={today}"

    def read(chart: str) -> list[list[str]]:
        response = client.get(f"/admin/dashboard.csv?chart={chart}&{span}")
        assert response.status_code == 200 and response.mimetype == "text/csv", chart
        assert (
            f'filename="{chart}-{today - timedelta(days=1)}-to-{today}.csv"'
            in (response.headers["Content-Disposition"])
        )
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))

    assert read("sales") == [
        ["Day", "Tickets sold"],
        [str(today - timedelta(days=1)), "0"],
        [str(today), "3"],
    ]
    assert read("categories-USD") == [["Category", "Net revenue (USD)"], ["No category", "45.00"]]
    assert read("top-events") == [["Event", "Tickets sold"], ["'=HYPERLINK(1)", "3"]]
    for query, words in (
        (f"chart=nope&{span}", "Choose a chart"),
        ("chart=sales&from=2026-13-01", "should look like"),
        (f"chart=sales&from={today}&to={today - timedelta(days=3)}", "ends before it starts"),
    ):
        refused = client.get(f"/admin/dashboard.csv?{query}")
        assert refused.status_code == 400, query
        assert words in refused.get_data(as_text=True), query


def test_only_admins_see_the_dashboard(app, db, make_user, login_as) -> None:  # noqa: ANN001
    anonymous = app.test_client().get("/admin/dashboard")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    for role in (Role.ATTENDEE, Role.ORGANIZER):
        client = app.test_client()
        login_as(client, make_user(role=role))
        assert client.get("/admin/dashboard").status_code == 403
        assert client.get("/admin/dashboard.csv?chart=sales").status_code == 403
