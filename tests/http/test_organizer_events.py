"""The organizer dashboard over HTTP: create, edit, uploads, lifecycle, others' events."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import Event, EventStatus
from tests.domain.test_events_storage import image_bytes

XSS = '<script>alert("x")</script>'
# The day the form's event takes place: ahead of the real clock, so it can still be submitted.
DAY = (utcnow() + timedelta(days=90)).date().isoformat()


def form_data(**changes) -> dict:  # noqa: ANN003
    data = {
        "title": "Jazz in the Park",
        "description": "Bring a **blanket**.",
        "event_type": "offline",
        "venue_name": "Park stage",
        "address": "1 Park Lane",
        "city": "Berlin",
        "online_url": "",
        "starts_at": f"{DAY}T19:00",
        "ends_at": f"{DAY}T22:00",
        "timezone": "Europe/Berlin",
        "category_id": "",
        "tags": "jazz, outdoors",
        "speakers-0-name": "Ella",
        "speakers-0-title": "Singer",
        "speakers-0-bio": "",
        "speakers-1-name": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def organizer(db, make_user, client, login_as):  # noqa: ANN001, ANN201
    user = make_user(role=Role.ORGANIZER)
    db.commit()
    login_as(client, user)
    return user


def event_count(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Event))


def test_create_with_cover_and_speaker_photo(client, db, organizer) -> None:  # noqa: ANN001
    data = form_data()
    data["cover"] = (io.BytesIO(image_bytes(fmt="JPEG", size=(1600, 900))), "cover.jpg")
    data["speakers-0-photo"] = (io.BytesIO(image_bytes(size=(500, 400))), "ella.png")
    response = client.post("/organizer/events/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    event = db.scalar(select(Event))
    assert event.status == EventStatus.DRAFT and event.organizer_id == organizer.id
    assert event.cover_image.startswith("covers/")
    assert event.speakers[0].photo.startswith("speakers/")
    assert client.get(f"/media/{event.cover_image}").status_code == 200
    edit = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Draft saved" in edit and 'value="Jazz in the Park"' in edit


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at": f"{DAY}T18:00"}, "The end must be after the start."),
        ({"timezone": "Mars/Base"}, "Choose a time zone from the list"),
        ({"venue_name": ""}, "needs a venue name"),
        ({"event_type": "online", "online_url": ""}, "needs a join link"),
        ({"event_type": "online", "online_url": "ftp://x"}, "must start with http"),
        ({"starts_at": "not a date"}, "Not a valid datetime value"),
        ({"title": "x" * 5000}, "at most 200 characters"),
        ({"event_type": "party"}, "Not a valid choice"),
        ({"category_id": "999999"}, "Not a valid choice"),
    ],
)
def test_bad_input_rerenders_the_form_with_422(client, db, organizer, changes, message) -> None:  # noqa: ANN001
    response = client.post("/organizer/events/new", data=form_data(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="Park stage"' in html or changes.get("venue_name") == ""
    assert event_count(db) == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((b"%PDF-1.4 definitely not an image", "cv.pdf"), "not an image we can read"),
        ((b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10), "huge.jpg"), "larger than 5 MB"),
    ],
)
def test_bad_uploads_rerender_with_422(client, db, organizer, upload, message) -> None:  # noqa: ANN001
    data = form_data()
    data["cover"] = (io.BytesIO(upload[0]), upload[1])
    response = client.post("/organizer/events/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert event_count(db) == 0


def test_an_upload_past_the_request_limit_is_refused_with_413(client, db, organizer) -> None:  # noqa: ANN001
    data = form_data()
    data["cover"] = (io.BytesIO(b"0" * (7 * 1024 * 1024)), "huge.jpg")
    response = client.post("/organizer/events/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert event_count(db) == 0


def test_text_fields_are_escaped_in_the_form_and_dashboard(client, db, organizer) -> None:  # noqa: ANN001
    data = form_data(title=f"T {XSS}", venue_name=XSS, city=XSS, **{"speakers-0-name": XSS})
    assert client.post("/organizer/events/new", data=data).status_code == 303
    event = db.scalar(select(Event))
    for url in (
        "/organizer/",
        f"/organizer/events/{event.id}/edit",
        f"/events/{event.id}-{event.slug}",
    ):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html and "&lt;script&gt;" in html, url


def test_edit_keeps_cover_and_lifecycle_actions(client, db, organizer, make_event) -> None:  # noqa: ANN001
    event = make_event(
        organizer=organizer, status=EventStatus.DRAFT, cover_image="covers/" + "a" * 40 + ".jpg"
    )
    db.commit()
    page = client.get(f"/organizer/events/{event.id}/edit").get_data(as_text=True)
    assert 'name="cover_key"' in page
    data = form_data(title="Renamed", cover_key=event.cover_image)
    assert client.post(f"/organizer/events/{event.id}/edit", data=data).status_code == 303
    db.expire_all()
    event = db.get(Event, event.id)
    assert event.title == "Renamed" and event.cover_image == "covers/" + "a" * 40 + ".jpg"
    assert client.post(f"/organizer/events/{event.id}/submit").status_code == 303
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.SUBMITTED
    # Only drafts can be deleted: the refusal is a message, the event stays.
    response = client.post(f"/organizer/events/{event.id}/delete", follow_redirects=True)
    assert "Only drafts can be deleted" in response.get_data(as_text=True)
    assert event_count(db) == 1


def test_duplicate_and_delete_a_draft(client, db, organizer, make_event) -> None:  # noqa: ANN001
    event = make_event(organizer=organizer, title="Original")
    db.commit()
    response = client.post(f"/organizer/events/{event.id}/duplicate")
    assert response.status_code == 303
    copy = db.scalar(select(Event).where(Event.id != event.id))
    assert copy.title == "Copy of Original" and copy.status == EventStatus.DRAFT
    assert client.post(f"/organizer/events/{copy.id}/delete").status_code == 303
    assert event_count(db) == 1


def test_cancel_a_published_event(client, db, organizer, make_event) -> None:  # noqa: ANN001
    event = make_event(organizer=organizer)
    db.commit()
    response = client.post(f"/organizer/events/{event.id}/cancel", data={"reason": "Storm"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Event, event.id).status == EventStatus.CANCELLED


def test_dashboard_lists_own_events_by_status(client, db, organizer, make_event) -> None:  # noqa: ANN001
    make_event(organizer=organizer, title="My draft", status=EventStatus.DRAFT)
    make_event(
        organizer=organizer,
        title="Sent back",
        status=EventStatus.REJECTED,
        rejection_reason="Add an address",
    )
    make_event(title="Someone else's")
    db.commit()
    html = client.get("/organizer/").get_data(as_text=True)
    assert "My draft" in html and "Sent back" in html and "Add an address" in html
    assert "Someone else" not in html
    assert html.index("Drafts") < html.index("My draft")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/organizer/events/{id}/edit"),
        ("post", "/organizer/events/{id}/edit"),
        ("post", "/organizer/events/{id}/submit"),
        ("post", "/organizer/events/{id}/delete"),
        ("post", "/organizer/events/{id}/duplicate"),
        ("post", "/organizer/events/{id}/cancel"),
    ],
)
def test_another_organizers_event_answers_404_and_is_unchanged(
    client, db, organizer, make_event, method, path
) -> None:  # noqa: ANN001
    theirs = make_event(status=EventStatus.DRAFT, title="Their secret draft")
    db.commit()
    response = getattr(client, method)(path.format(id=theirs.id), data=form_data(title="Hacked"))
    assert response.status_code == 404
    assert "Their secret draft" not in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, theirs.id).title == "Their secret draft"
    assert event_count(db) == 1


def test_attendees_and_anonymous_users_are_kept_out(client, db, make_user, login_as) -> None:  # noqa: ANN001
    assert client.get("/organizer/").status_code in (302, 303)
    login_as(client, make_user(role=Role.ATTENDEE))
    assert client.get("/organizer/").status_code == 403
    assert client.post("/organizer/events/new", data=form_data()).status_code == 403
    assert event_count(db) == 0
