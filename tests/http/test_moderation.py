"""Admin queues over HTTP: moderation, abuse reports, categories; attendees reporting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.events.models import Category, Event, EventReport, EventStatus, ReportStatus


@pytest.fixture
def admin(db, make_user, client, login_as):  # noqa: ANN001, ANN201
    user = make_user(role=Role.ADMIN)
    db.commit()
    login_as(client, user)
    return user


def status_of(db, event_id: int) -> EventStatus:  # noqa: ANN001
    db.expire_all()
    return db.get(Event, event_id).status


def test_queue_approve_and_reject(client, db, admin, make_event) -> None:  # noqa: ANN001
    first = make_event(status=EventStatus.SUBMITTED, title="First <b>one</b>")
    second = make_event(status=EventStatus.SUBMITTED, title="Second")
    db.commit()
    html = client.get("/admin/moderation").get_data(as_text=True)
    assert "First &lt;b&gt;one&lt;/b&gt;" in html and "Second" in html
    assert f'name="version" value="{first.version}"' in html
    approved = client.post(f"/admin/moderation/{first.id}/approve", data={"version": first.version})
    assert approved.status_code == 303
    assert status_of(db, first.id) == EventStatus.PUBLISHED
    seen = {"version": second.version}
    response = client.post(f"/admin/moderation/{second.id}/reject", data={"reason": "", **seen})
    assert response.status_code == 422
    assert "Explain the decision" in response.get_data(as_text=True)
    assert status_of(db, second.id) == EventStatus.SUBMITTED
    response = client.post(
        f"/admin/moderation/{second.id}/reject", data={"reason": "Venue address missing", **seen}
    )
    assert response.status_code == 303
    assert status_of(db, second.id) == EventStatus.REJECTED
    assert "Nothing is waiting" in client.get("/admin/moderation").get_data(as_text=True)


def test_approving_twice_or_a_missing_event(client, db, admin, make_event) -> None:  # noqa: ANN001
    event = make_event(status=EventStatus.DRAFT)
    db.commit()
    response = client.post(
        f"/admin/moderation/{event.id}/approve", data={"version": 1}, follow_redirects=True
    )
    assert "cannot be approved" in response.get_data(as_text=True)
    assert status_of(db, event.id) == EventStatus.DRAFT
    assert client.post("/admin/moderation/999999/approve").status_code == 404


def test_attendee_reports_and_admin_unpublishes(
    client, db, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    event = make_event(title="Shady sale")
    reporter, admin = make_user(), make_user(role=Role.ADMIN)
    db.commit()
    url = f"/events/{event.id}-{event.slug}"
    anonymous = client.post(f"/events/{event.id}/report", data={"reason": "A scam, clearly."})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    login_as(client, reporter)
    assert "Report abuse" in client.get(url).get_data(as_text=True)
    short = client.post(f"/events/{event.id}/report", data={"reason": "bad"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    ok = client.post(f"/events/{event.id}/report", data={"reason": "<script>x</script> A scam."})
    assert ok.status_code == 302
    again = client.post(
        f"/events/{event.id}/report", data={"reason": "Again, a scam."}, follow_redirects=True
    )
    assert "already reported" in again.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(EventReport)) == 1

    login_as(client, admin)
    html = client.get("/admin/reports").get_data(as_text=True)
    assert "Shady sale" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    report = db.scalar(select(EventReport))
    empty = client.post(f"/admin/reports/{report.id}/unpublish", data={"reason": " "})
    assert empty.status_code == 422
    assert status_of(db, event.id) == EventStatus.PUBLISHED
    response = client.post(
        f"/admin/reports/{report.id}/unpublish", data={"reason": "Fraudulent listing"}
    )
    assert response.status_code == 303
    assert status_of(db, event.id) == EventStatus.REJECTED
    db.expire_all()
    assert db.get(EventReport, report.id).status == ReportStatus.ACTIONED
    assert client.get(url).status_code == 200  # admins still see it
    login_as(client, reporter)
    assert client.get(url).status_code == 404


def test_dismiss_a_report(client, db, admin, make_event, make_user) -> None:  # noqa: ANN001
    event = make_event()
    report = EventReport(event_id=event.id, reporter_id=make_user().id, reason="Spam maybe?")
    db.add(report)
    db.commit()
    assert client.post(f"/admin/reports/{report.id}/dismiss").status_code == 303
    db.expire_all()
    assert db.get(EventReport, report.id).status == ReportStatus.DISMISSED
    assert status_of(db, event.id) == EventStatus.PUBLISHED
    assert client.post(f"/admin/reports/{report.id}/dismiss").status_code == 404


def test_manage_categories(client, db, admin, make_event) -> None:  # noqa: ANN001
    assert client.post("/admin/categories", data={"name": "Music"}).status_code == 303
    duplicate = client.post("/admin/categories", data={"name": "music"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.get_data(as_text=True)
    too_long = client.post("/admin/categories", data={"name": "x" * 500})
    assert too_long.status_code == 422
    music = db.scalar(select(Category))
    assert (
        client.post(f"/admin/categories/{music.id}/rename", data={"name": "Live music"}).status_code
        == 303
    )
    make_event(category_id=music.id)
    db.commit()
    html = client.get("/admin/categories").get_data(as_text=True)
    assert "Live music" in html and "In use" in html
    refused = client.post(f"/admin/categories/{music.id}/delete", follow_redirects=True)
    assert "cannot be deleted" in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Category)) == 1


@pytest.mark.parametrize("role", [Role.ATTENDEE, Role.ORGANIZER])
def test_non_admins_are_refused(client, db, make_user, make_event, login_as, role) -> None:  # noqa: ANN001
    event = make_event(status=EventStatus.SUBMITTED)
    db.commit()
    login_as(client, make_user(role=role))
    assert client.get("/admin/moderation").status_code == 403
    assert client.post(f"/admin/moderation/{event.id}/approve").status_code == 403
    assert client.post("/admin/categories", data={"name": "X"}).status_code == 403
    assert status_of(db, event.id) == EventStatus.SUBMITTED
