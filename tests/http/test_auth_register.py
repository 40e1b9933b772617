"""Registration and email verification over HTTP, with the bad inputs the issue lists."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.outbox import OutboxMessage
from tests.conftest import csrf_token_from
from tests.factories.accounts import link_in

FORM = {"name": "Nia Okafor", "email": "nia@example.test", "password": "a sturdy passphrase"}


def _users(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(User))


def _mails(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(OutboxMessage))


def test_register_page_has_the_form(client) -> None:  # noqa: ANN001
    page = client.get("/register")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("name", "email", "password"):
        assert f'name="{name}"' in html
    assert 'autocomplete="new-password"' in html


def test_register_mails_a_link_that_verifies_the_address(client, db, mailbox) -> None:  # noqa: ANN001
    response = client.post("/register", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/check-email"
    assert "nia@example.test" in client.get("/register/check-email").get_data(as_text=True)
    user = db.scalar(select(User).where(User.email == "nia@example.test"))
    assert user.email_verified_at is None
    [mail] = mailbox(to="nia@example.test")
    assert mail["subject"] == "Confirm your email address"
    assert mail["html"] and "Nia Okafor" in mail["text"]
    link = link_in(mail["text"], "/verify/")
    assert link_in(mail["html"], "/verify/") == link

    verified = client.get(link)
    assert verified.status_code == 302 and verified.headers["Location"] == "/login"
    db.refresh(user)
    assert user.email_verified_at is not None
    assert "your email address is confirmed" in client.get("/login").get_data(as_text=True)


def test_a_broken_verification_link_gets_a_clear_page(client) -> None:  # noqa: ANN001
    response = client.get("/verify/not-a-real-token")
    assert response.status_code == 400
    assert "That link is not valid" in response.get_data(as_text=True)


def test_a_taken_address_answers_alike_and_mails_its_owner(client, db, make_user, mailbox) -> None:  # noqa: ANN001
    owner = make_user(email="nia@example.test", name="Nia Owner")
    db.commit()
    response = client.post("/register", data={**FORM, "email": "NIA@Example.TEST"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/check-email"
    page = client.get("/register/check-email").get_data(as_text=True)
    assert "We sent a confirmation link to NIA@example.test" in page
    assert "already exists" not in page
    assert _users(db) == 1
    db.refresh(owner)
    assert owner.name == "Nia Owner" and owner.password_hash  # nothing about it changed
    [note] = mailbox(to="nia@example.test")
    assert note["subject"] == "Someone tried to sign up with your email address"
    assert link_in(note["text"], "/login") and link_in(note["text"], "/forgot")
    assert "/verify/" not in note["text"]


def test_registering_a_new_and_a_taken_address_look_alike(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="taken@example.test")
    db.commit()
    taken = client.post("/register", data={**FORM, "email": "taken@example.test"})
    taken_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    other = client.application.test_client()
    new = other.post("/register", data=FORM)
    new_page = other.get(new.headers["Location"]).get_data(as_text=True)
    assert (taken.status_code, taken.headers["Location"]) == (302, new.headers["Location"])
    csrf = re.compile(r'content="[^"]+\.[^"]+\.[^"]+"')  # each browser's own CSRF token
    assert csrf.sub("", taken_page.replace("taken@example.test", "X")) == csrf.sub(
        "", new_page.replace(FORM["email"], "X")
    )


def test_malformed_email_is_refused_on_the_form(client, db) -> None:  # noqa: ANN001
    response = client.post("/register", data={**FORM, "email": "nia@@example"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a valid email address" in html
    assert 'aria-invalid="true"' in html and 'value="nia@@example"' in html
    assert _users(db) == 0 and _mails(db) == 0


def test_short_and_common_passwords_are_refused_on_the_form(client, db) -> None:  # noqa: ANN001
    short = client.post("/register", data={**FORM, "password": "tiny"})
    assert short.status_code == 422
    assert "Use at least 10 characters" in short.get_data(as_text=True)
    common = client.post("/register", data={**FORM, "password": "qwertyuiop"})
    assert common.status_code == 422
    assert "too easy to guess" in common.get_data(as_text=True)
    assert "qwertyuiop" not in common.get_data(as_text=True)  # never echo a password
    assert _users(db) == 0


def test_missing_fields_are_named(client, db) -> None:  # noqa: ANN001
    response = client.post("/register", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your name." in html and "Enter your email address." in html
    assert _users(db) == 0


def test_missing_csrf_token_is_refused(csrf_app, db) -> None:  # noqa: ANN001
    client = csrf_app.test_client()
    response = client.post("/register", data=FORM)
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert _users(db) == 0
    # With the page's token the same form goes through.
    token = csrf_token_from(client.get("/register").get_data(as_text=True))
    assert client.post("/register", data={**FORM, "csrf_token": token}).status_code == 302
    assert _users(db) == 1


def test_an_oversized_form_is_refused(client, db) -> None:  # noqa: ANN001
    # A multipart text field over MAX_FORM_MEMORY_SIZE (64 KiB) is cut off by the parser.
    multipart = client.post(
        "/register", data={**FORM, "name": "x" * 70_000}, content_type="multipart/form-data"
    )
    assert multipart.status_code == 413
    assert "That upload or form is too large." in multipart.get_data(as_text=True)
    # Any body over MAX_CONTENT_LENGTH is refused before it is read.
    huge = client.post(
        "/register", data=b"x" * (7 * 1024 * 1024), content_type="application/x-www-form-urlencoded"
    )
    assert huge.status_code == 413
    # Below those limits, a field longer than its form allows gets a message on the form.
    long_name = client.post("/register", data={**FORM, "name": "x" * 5_000})
    assert long_name.status_code == 422
    assert "cannot be longer than 120 characters" in long_name.get_data(as_text=True)
    assert _users(db) == 0
