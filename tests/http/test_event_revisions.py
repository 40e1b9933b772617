"""Changes to a published event over HTTP: the organizer saves them, the public page keeps the
approved version, an admin reads the diff and decides; stale or forged decisions change
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.editing import create_event
from app.domain.events.lifecycle import submit_event
from app.domain.events.models import Event, EventRevision, EventStatus, RevisionStatus
from app.domain.events.moderation import approve_event
from tests.domain.test_events_editing import valid_input
from tests.http.test_organizer_events import DAY, form_data

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def people(db, make_user):  # noqa: ANN001, ANN201
    organizer = make_user(role=Role.ORGANIZER)
    admin = make_user(role=Role.ADMIN)
    db.commit()
    return organizer, admin


@pytest.fixture
def published(db, people):  # noqa: ANN001, ANN201
    """Made with the same values as `form_data()`, submitted and approved."""
    organizer, admin = people
    start = (utcnow() + timedelta(days=30)).replace(hour=19, minute=0, second=0, microsecond=0)
    data = valid_input(
        starts_local=start.replace(tzinfo=None),
        ends_local=(start + timedelta(hours=3)).replace(tzinfo=None),
        tags="jazz, outdoors",
        description="Bring a **blanket**.",
    )
    event = create_event(db, organizer, data, now=utcnow())
    submit_event(db, event, actor=organizer, now=utcnow())
    approve_event(db, event, admin=admin, version=event.version, now=utcnow())
    db.commit()
    return event


def form_for(event: Event, **changes) -> dict:  # noqa: ANN003
    local = "%Y-%m-%dT%H:%M"
    return form_data(
        starts_at=event.starts_at.astimezone(_zone(event)).strftime(local),
        ends_at=event.ends_at.astimezone(_zone(event)).strftime(local),
        **changes,
    )


def _zone(event: Event):  # noqa: ANN202
    from zoneinfo import ZoneInfo

    return ZoneInfo(event.timezone)


def public_page(client, event: Event) -> str:  # noqa: ANN001
    return client.get(f"/events/{event.id}-{event.slug}").get_data(as_text=True)


def pending(db) -> EventRevision:  # noqa: ANN001
    db.expire_all()
    return db.scalars(select(EventRevision).where(EventRevision.status == "pending")).one()


def test_changes_wait_for_review_then_go_public(client, db, login_as, people, published) -> None:  # noqa: ANN001
    organizer, admin = people
    login_as(client, organizer)
    edit_url = f"/organizer/events/{published.id}/edit"
    saved = client.post(
        edit_url, data=form_for(published, title=f"New {XSS}", tags="jazz"), follow_redirects=True
    )
    html = saved.get_data(as_text=True)
    assert "wait for an admin’s review" in html and "Changes waiting for an admin’s review" in html
    assert "New &lt;img src=x" in html and "<img src=x" not in html  # the pending title
    db.expire_all()
    assert db.get(Event, published.id).tags == ["jazz"]  # applied at once
    assert "Jazz in the Park" in public_page(client, published)
    assert "Changes waiting for review" in client.get("/organizer/").get_data(as_text=True)

    login_as(client, admin)
    queue = client.get("/admin/moderation").get_data(as_text=True)
    assert "Changes to published events" in queue and "changes title" in queue
    revision = pending(db)
    diff = client.get(f"/admin/moderation/changes/{revision.id}").get_data(as_text=True)
    assert "Jazz in the Park" in diff and "New &lt;img src=x" in diff and "<img src=x" not in diff
    approved = client.post(f"/admin/moderation/changes/{revision.id}/approve")
    assert approved.status_code == 303
    db.expire_all()
    event = db.get(Event, published.id)
    assert event.title == f"New {XSS}"
    assert "New &lt;img" in client.get(f"/events/{event.id}-{event.slug}").get_data(as_text=True)
    replay = client.post(f"/admin/moderation/changes/{revision.id}/approve", follow_redirects=True)
    assert "someone already decided" in replay.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, published.id).version == event.version  # nothing applied twice

    login_as(client, organizer)
    assert "were approved" in client.get(edit_url).get_data(as_text=True)


def test_rejected_changes_with_their_reason(client, db, login_as, people, published) -> None:  # noqa: ANN001
    organizer, admin = people
    login_as(client, organizer)
    client.post(
        f"/organizer/events/{published.id}/edit", data=form_for(published, city="Elsewhere")
    )
    revision = pending(db)
    login_as(client, admin)
    url = f"/admin/moderation/changes/{revision.id}/reject"
    empty = client.post(url, data={"reason": "  "})
    assert empty.status_code == 422 and "Explain the decision" in empty.get_data(as_text=True)
    assert pending(db).id == revision.id
    assert client.post(url, data={"reason": "Wrong <city>"}).status_code == 303
    login_as(client, organizer)
    page = client.get(f"/organizer/events/{published.id}/edit").get_data(as_text=True)
    assert "were not approved" in page and "Wrong &lt;city&gt;" in page
    assert 'value="Berlin"' in page  # the form is back to the public version


def test_stale_forged_and_foreign_decisions_change_nothing(
    client, db, login_as, people, published, make_user
) -> None:  # noqa: ANN001
    organizer, admin = people
    login_as(client, organizer)
    edit_url = f"/organizer/events/{published.id}/edit"
    client.post(edit_url, data=form_for(published, title="First try"))
    seen = pending(db)
    client.post(edit_url, data=form_for(published, title="Second try"))
    login_as(client, admin)
    stale = client.post(f"/admin/moderation/changes/{seen.id}/approve", follow_redirects=True)
    assert "replaced or withdrawn" in stale.get_data(as_text=True)
    assert client.post("/admin/moderation/changes/999999/approve").status_code == 404
    assert client.get("/admin/moderation/changes/999999").status_code == 404
    db.expire_all()
    assert db.get(Event, published.id).title == "Jazz in the Park"
    assert db.get(EventRevision, seen.id).status == RevisionStatus.SUPERSEDED

    latest = pending(db)
    for role in (Role.ORGANIZER, Role.ATTENDEE):
        login_as(client, make_user(role=role))
        assert client.post(f"/admin/moderation/changes/{latest.id}/approve").status_code == 403
        assert client.post(f"/organizer/events/{published.id}/edit").status_code in (403, 404)
    assert pending(db).id == latest.id


def test_a_submitted_event_approved_as_seen(client, db, login_as, people) -> None:  # noqa: ANN001
    organizer, admin = people
    event = create_event(db, organizer, valid_input(), now=utcnow())
    submit_event(db, event, actor=organizer, now=utcnow())
    db.commit()
    seen = event.version
    login_as(client, organizer)
    form = form_data(title="Swapped after submitting", starts_at=f"{DAY}T18:00")
    assert client.post(f"/organizer/events/{event.id}/edit", data=form).status_code == 303
    login_as(client, admin)
    url = f"/admin/moderation/{event.id}/approve"
    stale = client.post(url, data={"version": seen}, follow_redirects=True)
    assert "changed this event while you were reviewing it" in stale.get_data(as_text=True)
    missing = client.post(url, data={"version": "x"}, follow_redirects=True)
    assert "This form is incomplete" in missing.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.SUBMITTED
    assert client.post(url, data={"version": seen + 1}).status_code == 303
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.PUBLISHED
