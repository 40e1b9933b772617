"""The profile page over HTTP: details, email, password, preferences, application, deletion."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.domain.accounts.models import ApplicationStatus, OrganizerApplication, User
from app.domain.accounts.passwords import verify_password
from tests.conftest import csrf_token_from
from tests.factories.accounts import DEFAULT_PASSWORD, link_in

NEW = "a brand new passphrase"


def _fresh(db, user) -> User:  # noqa: ANN001
    db.expire_all()
    return db.get(User, user.id)


def test_profile_shows_every_section(client, db, make_user, login_as, make_category) -> None:  # noqa: ANN001
    make_category(name="Jazz")
    user = make_user(name="Pia Profile")
    login_as(client, user)
    html = client.get("/account/profile").get_data(as_text=True)
    for text in (
        "Your details",
        "Email address",
        "Password",
        "Two-factor authentication",
        "Event preferences",
        "Jazz",
        "Organize events",
        "Where you are logged in",
        "this device",
        "Delete your account",
    ):
        assert text in html, text


def test_details_are_saved_and_bad_phone_changes_nothing(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(name="Old Name")
    login_as(client, user)
    bad = client.post("/account/profile", data={"name": "New Name", "phone": "call me maybe"})
    assert bad.status_code == 422 and "Enter a phone number" in bad.get_data(as_text=True)
    assert _fresh(db, user).name == "Old Name"
    ok = client.post("/account/profile", data={"name": "New Name", "phone": "+44 20 7946 0958"})
    assert ok.status_code == 302
    assert (_fresh(db, user).name, _fresh(db, user).phone) == ("New Name", "+44 20 7946 0958")


def test_email_change_waits_for_the_link(client, db, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="before@example.test")
    login_as(client, user)
    wrong = client.post(
        "/account/email", data={"email": "after@example.test", "password": "wrong password"}
    )
    assert wrong.status_code == 422 and mailbox() == []
    response = client.post(
        "/account/email", data={"email": "after@example.test", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert _fresh(db, user).email == "before@example.test"
    [mail] = mailbox(to="after@example.test")
    confirmed = client.get(link_in(mail["text"], "/account/email/confirm/"))
    assert confirmed.status_code == 302
    assert _fresh(db, user).email == "after@example.test"
    [notice] = mailbox(to="before@example.test")
    assert notice["subject"] == "Your email address was changed"


def test_password_change_logs_out_other_devices(
    app, client, db, make_user, login_as, mailbox
) -> None:  # noqa: ANN001
    user = make_user()
    other_device = app.test_client()
    login_as(other_device, user)
    login_as(client, user)
    short = client.post(
        "/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422 and "Use at least 10 characters" in short.get_data(as_text=True)
    response = client.post(
        "/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": NEW}
    )
    assert response.status_code == 302
    assert verify_password(_fresh(db, user).password_hash, NEW)
    assert client.get("/account/profile").status_code == 200
    assert other_device.get("/account/profile").status_code == 302
    assert mailbox(to=user.email)[-1]["subject"] == "Your password was changed"


def test_preferences_are_stored(client, db, make_user, login_as, make_category) -> None:  # noqa: ANN001
    music, talks = make_category(name="Music"), make_category(name="Talks")
    user = make_user()
    login_as(client, user)
    response = client.post(
        "/account/preferences",
        data={
            "categories": [str(music.id), str(talks.id)],
            "home_city": "Nairobi",
            "mode": "online",
        },
    )
    assert response.status_code == 302
    assert _fresh(db, user).preferences == {
        "categories": sorted([music.id, talks.id]),
        "home_city": "Nairobi",
        "mode": "online",
    }
    html = client.get("/account/profile").get_data(as_text=True)
    for category in (music, talks):
        assert re.search(rf'<input checked [^>]*value="{category.id}"', html)
    forged = client.post("/account/preferences", data={"categories": ["999999"], "mode": "any"})
    assert forged.status_code == 422
    assert _fresh(db, user).preferences["home_city"] == "Nairobi"


def test_organizer_application_and_its_rejection_reason(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    response = client.post(
        "/account/organizer-application",
        data={"organization_name": "Lakeside Theatre", "details": "Plays"},
    )
    assert response.status_code == 302
    assert "Waiting for review" in client.get("/account/profile").get_data(as_text=True)
    again = client.post(
        "/account/organizer-application", data={"organization_name": "Twice", "details": ""}
    )
    assert again.status_code == 422
    assert "already have an application" in again.get_data(as_text=True)
    application = db.scalar(select(OrganizerApplication))
    application.status = ApplicationStatus.REJECTED
    application.reason = "Tell us about your venue."
    db.commit()
    html = client.get("/account/profile").get_data(as_text=True)
    assert "Not approved" in html and "Tell us about your venue." in html


def test_delete_account_needs_password_and_confirmation(client, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(email="bye@example.test")
    login_as(client, user)
    assert client.get("/account/delete").status_code == 200
    unticked = client.post("/account/delete", data={"password": DEFAULT_PASSWORD})
    assert unticked.status_code == 422 and "Tick the box" in unticked.get_data(as_text=True)
    wrong = client.post("/account/delete", data={"password": "wrong!", "confirm": "y"})
    assert wrong.status_code == 422
    assert _fresh(db, user).deleted_at is None
    done = client.post("/account/delete", data={"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    gone = _fresh(db, user)
    assert gone.deleted_at is not None and gone.email == f"deleted-{user.id}@invalid"
    assert client.get("/account/profile").status_code == 302
    login = client.post("/login", data={"email": "bye@example.test", "password": DEFAULT_PASSWORD})
    assert login.status_code == 422


def test_profile_forms_need_csrf(csrf_app, db, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(name="Unchanged")
    client = csrf_app.test_client()
    login_as(client, user)
    refused = client.post("/account/profile", data={"name": "Forged", "phone": ""})
    assert refused.status_code == 400
    assert _fresh(db, user).name == "Unchanged"
    token = csrf_token_from(client.get("/account/profile").get_data(as_text=True))
    ok = client.post("/account/profile", data={"name": "Mine", "phone": "", "csrf_token": token})
    assert ok.status_code == 302 and _fresh(db, user).name == "Mine"
