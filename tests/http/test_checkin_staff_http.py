"""Check-in staff over HTTP: the organizer's staff page (invite, withdraw, remove; other
organizers' invitations and staff are "not found"), the invitation page (sign-in first and
back, the wrong account told which address it is for and nothing changed), the staff's
/checkin/ list, and the navigation's "Check-in" link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.checkin import staff
from app.domain.checkin.models import StaffGrant, StaffInvitation
from app.domain.events.models import EventStatus
from tests.factories.accounts import link_in


def _count(db: Session, model: type) -> int:
    db.rollback()  # see what the requests committed
    return db.scalar(select(func.count()).select_from(model))


def _invite(db: Session, organizer, email: str, event_id: int | None = None) -> str:  # noqa: ANN001
    invited = staff.invite(
        db, organizer, email, event_id, utcnow(), accept_link=lambda t: f"http://x/{t}"
    )
    db.commit()
    return invited.token


def test_an_organizer_invites_and_the_mail_leads_to_the_invitation(
    app: Flask, client: FlaskClient, db: Session, make_user, make_event, login_as, notification_mail
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    event = make_event(organizer=organizer, title="Harbour jazz night")
    make_event(organizer=make_user(role=Role.ORGANIZER), title="Someone else's gala")
    login_as(client, organizer)

    page = client.get(f"/organizer/staff/?event={event.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option selected value="{event.id}">Harbour jazz night</option>' in html
    assert "Someone else" not in html

    answer = client.post(
        "/organizer/staff/invitations", data={"email": "Sam@Example.test", "event": event.id}
    )
    assert answer.status_code == 303
    page = client.get("/organizer/staff/").get_data(as_text=True)
    assert "Invitation sent to Sam@example.test." in page
    assert "Sam@example.test" in page and "Harbour jazz night" in page
    (mail,) = notification_mail(to="sam@example.test")
    path = link_in(mail["text"], "/staff/invitations/")
    assert mail["text"].startswith("Hello") and app.config["BASE_URL"] in mail["text"]

    staffer = make_user(email="sam@example.test", name="Sam Staff")
    other = app.test_client()
    login_as(other, staffer)
    shown = other.get(path)
    assert shown.status_code == 200
    assert "Harbour jazz night" in shown.get_data(as_text=True)
    assert other.post(path).status_code == 303
    home = other.get("/checkin/").get_data(as_text=True)
    assert "You can now check in tickets for “Harbour jazz night”." in home
    assert f'href="/checkin/{event.id}"' in home
    assert 'href="/checkin/">Check-in</a>' in home  # in the navigation now
    listed = client.get("/organizer/staff/").get_data(as_text=True)
    assert "Sam Staff" in listed and "sam@example.test" in listed


def test_bad_invitations_are_refused_with_the_reason_beside_the_field(
    client: FlaskClient, db: Session, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    foreign = make_event(organizer=make_user(role=Role.ORGANIZER))
    login_as(client, organizer)
    bad = client.post("/organizer/staff/invitations", data={"email": "nope", "event": "all"})
    assert bad.status_code == 422
    assert "Enter a valid email address" in bad.get_data(as_text=True)
    own = client.post(
        "/organizer/staff/invitations", data={"email": organizer.email, "event": "all"}
    )
    assert own.status_code == 422
    assert "You can check in your own events already." in own.get_data(as_text=True)
    junk = client.post("/organizer/staff/invitations", data={"email": "a@b.test", "event": "x"})
    assert junk.status_code == 422
    forged = client.post(
        "/organizer/staff/invitations", data={"email": "a@b.test", "event": foreign.id}
    )
    assert forged.status_code == 404
    assert _count(db, StaffInvitation) == 0


def test_other_organizers_invitations_and_staff_are_not_found(
    app: Flask, client: FlaskClient, db: Session, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    organizer, other = make_user(role=Role.ORGANIZER), make_user(role=Role.ORGANIZER)
    staffer = make_user(email="sam@example.test")
    staff.accept(db, _invite(db, organizer, staffer.email), staffer, utcnow())
    _invite(db, organizer, "kim@example.test")
    db.commit()
    grant_id = db.scalar(select(StaffGrant.id))
    pending_id = db.scalar(select(StaffInvitation.id).where(StaffInvitation.accepted_at.is_(None)))
    login_as(client, other)

    assert client.post(f"/organizer/staff/{grant_id}/remove").status_code == 404
    assert client.post(f"/organizer/staff/invitations/{pending_id}/revoke").status_code == 404
    page = client.get("/organizer/staff/").get_data(as_text=True)
    assert "sam@example.test" not in page and "kim@example.test" not in page
    assert _count(db, StaffGrant) == 1

    owner = app.test_client()
    login_as(owner, organizer)
    assert owner.post(f"/organizer/staff/invitations/{pending_id}/revoke").status_code == 303
    assert owner.post(f"/organizer/staff/{grant_id}/remove").status_code == 303
    assert _count(db, StaffGrant) == 0
    db.rollback()
    assert db.get(StaffInvitation, pending_id).revoked_at is not None


def test_a_signed_out_visitor_logs_in_and_comes_back(
    client: FlaskClient, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    token = _invite(db, make_user(role=Role.ORGANIZER), "sam@example.test")
    answer = client.get(f"/staff/invitations/{token}")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [f"/staff/invitations/{token}"]
    assert client.post(f"/staff/invitations/{token}").status_code == 302
    assert _count(db, StaffGrant) == 0


def test_the_wrong_account_is_told_whose_it_is_and_nothing_changes(
    client: FlaskClient, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    token = _invite(db, make_user(role=Role.ORGANIZER), "sam@example.test")
    login_as(client, make_user(email="mallory@example.test"))

    for answer in (
        client.get(f"/staff/invitations/{token}"),
        client.post(f"/staff/invitations/{token}"),
    ):
        assert answer.status_code == 403
        html = answer.get_data(as_text=True)
        assert "This invitation is for s***@example.test" in html
        assert "sam@example.test" not in html
        assert "Log out and sign in as s***@example.test" in html
    assert _count(db, StaffGrant) == 0
    db.rollback()
    assert db.scalar(select(StaffInvitation.accepted_at)) is None

    # The button logs out and leads to the login page, on the way back to the invitation.
    out = client.post("/logout", data={"next": f"/login?next=/staff/invitations/{token}"})
    assert out.headers["Location"] == f"/login?next=/staff/invitations/{token}"
    assert client.post("/logout", data={"next": "https://evil.test/"}).headers["Location"] == "/"


def test_used_revoked_and_unknown_links(
    client: FlaskClient, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    staffer = make_user(email="sam@example.test")
    token = _invite(db, organizer, staffer.email)
    login_as(client, staffer)
    assert client.post(f"/staff/invitations/{token}").status_code == 303
    replay = client.post(f"/staff/invitations/{token}")
    assert replay.status_code == 410
    assert "already been accepted" in replay.get_data(as_text=True)
    assert client.get(f"/staff/invitations/{token}").status_code == 410
    assert client.get("/staff/invitations/not-a-token").status_code == 404
    assert _count(db, StaffGrant) == 1


def test_staff_reach_the_door_list_but_not_the_back_office(
    client: FlaskClient, db: Session, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, title="Harbour jazz night")
    sibling = make_event(organizer=organizer, title="Quiet sibling")
    staffer = make_user(email="sam@example.test")
    staff.accept(db, _invite(db, organizer, staffer.email, event.id), staffer, utcnow())
    db.commit()
    login_as(client, staffer)

    home = client.get("/checkin/").get_data(as_text=True)
    assert "Harbour jazz night" in home and "Quiet sibling" not in home
    assert f'href="/checkin/{sibling.id}"' not in home
    for path in ("/organizer/", "/organizer/staff/", f"/organizer/events/{event.id}/tiers"):
        assert client.get(path).status_code == 403, path


def test_the_navigation_offers_check_in_to_staff_organizers_and_admins(
    app: Flask, db: Session, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    link = 'href="/checkin/">Check-in</a>'
    organizer = make_user(role=Role.ORGANIZER)
    make_event(organizer=organizer, status=EventStatus.DRAFT)
    staffer = make_user()
    db.add(StaffGrant(organizer_id=organizer.id, user_id=staffer.id, event_id=None))
    people = {
        "staff": (staffer, True),
        "organizer": (organizer, True),
        "admin": (make_user(role=Role.ADMIN), True),
        "attendee": (make_user(), False),
    }
    db.commit()
    assert link not in app.test_client().get("/events").get_data(as_text=True)
    for name, (user, shown) in people.items():
        client = app.test_client()
        login_as(client, user)
        assert (link in client.get("/events").get_data(as_text=True)) is shown, name


def test_an_admin_opens_a_door_by_number_and_an_attendee_sees_an_empty_list(
    app: Flask, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    admin, attendee = app.test_client(), app.test_client()
    login_as(admin, make_user(role=Role.ADMIN))
    login_as(attendee, make_user())
    page = admin.get("/checkin/").get_data(as_text=True)
    assert "Open any event’s door by its number" in page
    jump = admin.get("/checkin/?event=42")
    assert (jump.status_code, jump.headers["Location"]) == (303, "/checkin/42")
    empty = attendee.get("/checkin/").get_data(as_text=True)
    assert "No events to check in right now." in empty
    assert "by its number" not in empty
