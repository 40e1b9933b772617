"""Forgot password and reset links over HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.domain.accounts.models import PasswordResetToken, User
from app.domain.accounts.passwords import verify_password
from app.domain.outbox import OutboxMessage
from tests.factories.accounts import DEFAULT_PASSWORD, link_in

NEW = "a brand new passphrase"
SENT = "If an account exists for that address, we sent a link"


def _reset_link(client, db, mailbox, email):  # noqa: ANN001, ANN202
    client.post("/forgot", data={"email": email})
    return link_in(mailbox(to=email)[-1]["text"], "/reset/")


def test_forgot_answers_the_same_for_unknown_addresses(client, db, make_user) -> None:  # noqa: ANN001
    make_user(email="known@example.test")
    db.commit()
    known = client.post("/forgot", data={"email": "known@example.test"})
    unknown = client.post("/forgot", data={"email": "unknown@example.test"})
    assert known.status_code == unknown.status_code == 200
    assert SENT in known.get_data(as_text=True) and SENT in unknown.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_reset_link_sets_a_new_password_once(client, db, make_user, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="reset@example.test")
    db.commit()
    link = _reset_link(client, db, mailbox, "reset@example.test")
    form = client.get(link)
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.get_data(as_text=True)
    done = client.post(link, data={"password": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    db.refresh(user)
    assert verify_password(user.password_hash, NEW)
    assert mailbox(to="reset@example.test")[-1]["subject"] == "Your password was changed"
    # The link is spent.
    again = client.post(link, data={"password": "yet another passphrase"})
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    assert client.get(link).status_code == 400
    db.refresh(user)
    assert verify_password(user.password_hash, NEW)


def test_an_expired_reset_link_changes_nothing(client, db, make_user, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="late@example.test")
    db.commit()
    link = _reset_link(client, db, mailbox, "late@example.test")
    db.execute(
        update(PasswordResetToken).values(
            expires_at=PasswordResetToken.created_at - timedelta(seconds=1)
        )
    )
    db.commit()
    response = client.post(link, data={"password": NEW})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    db.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_a_weak_new_password_is_refused_on_the_form(client, db, make_user, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="weak@example.test")
    db.commit()
    link = _reset_link(client, db, mailbox, "weak@example.test")
    response = client.post(link, data={"password": "short"})
    assert response.status_code == 422
    assert "Use at least 10 characters" in response.get_data(as_text=True)
    db.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)
    assert client.get(link).status_code == 200  # still usable


def test_reset_logs_out_every_session(app, db, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="everywhere@example.test")
    elsewhere = app.test_client()
    login_as(elsewhere, user)
    assert elsewhere.get("/account/profile").status_code == 200
    client = app.test_client()
    link = _reset_link(client, db, mailbox, "everywhere@example.test")
    client.post(link, data={"password": NEW})
    assert elsewhere.get("/account/profile").status_code == 302


def test_reset_links_use_the_configured_base_url(app, client, db, make_user, mailbox) -> None:  # noqa: ANN001
    make_user(email="host@example.test")
    db.commit()
    client.post(
        "/forgot", data={"email": "host@example.test"}, headers={"Host": "attacker.example"}
    )
    text = mailbox(to="host@example.test")[-1]["text"]
    assert app.config["BASE_URL"] + "/reset/" in text and "attacker.example" not in text
    assert db.scalar(select(User.email).where(User.email == "host@example.test"))
