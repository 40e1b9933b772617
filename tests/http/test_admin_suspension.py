"""The admin's user page: suspend (with a reason), reactivate, reset 2FA; what the user meets."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select

from app.domain.accounts.models import Role, User
from app.domain.audit import AuditEntry
from tests.factories.accounts import DEFAULT_PASSWORD


def _admin_client(app, make_user, login_as):  # noqa: ANN001, ANN202
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    client = app.test_client()
    login_as(client, admin)
    return admin, client


def _audit_count(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(AuditEntry))


def test_suspended_user_is_refused_at_the_next_request_and_at_login(
    app, db, make_user, make_event, login_as, mailbox
) -> None:  # noqa: ANN001
    admin, admin_client = _admin_client(app, make_user, login_as)
    organizer = make_user(role=Role.ORGANIZER, name="Oscar Org")
    event = make_event(organizer=organizer, title="Suspended Soiree")
    user_client = app.test_client()
    login_as(user_client, organizer)
    assert user_client.get("/account/profile").status_code == 200
    assert client_sees_event(app, event)

    page = admin_client.get(f"/admin/users/{organizer.id}")
    assert page.status_code == 200 and "Suspend Oscar Org" in page.get_data(as_text=True)
    done = admin_client.post(f"/admin/users/{organizer.id}/suspend", data={"reason": "Scam"})
    assert done.status_code == 303
    state = admin_client.get(f"/admin/users/{organizer.id}").get_data(as_text=True)
    assert "Suspended" in state and "by Ada Admin" in state and "Reason: Scam" in state

    refused = user_client.get("/account/profile")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    login_page = user_client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "This account is suspended" in login_page
    login = app.test_client().post(
        "/login", data={"email": organizer.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 403
    assert "This account is suspended" in login.get_data(as_text=True)
    assert not client_sees_event(app, event)
    mails = mailbox(organizer.email)
    assert [m["subject"] for m in mails] == ["Your account is suspended"]
    assert "Scam" in mails[0]["text"]

    again = admin_client.post(f"/admin/users/{organizer.id}/reactivate")
    assert again.status_code == 303
    assert client_sees_event(app, event)
    assert mailbox(organizer.email)[-1]["subject"] == "Your account is active again"
    assert db.scalar(select(User.suspended_at).where(User.id == organizer.id)) is None
    assert admin.id


def client_sees_event(app, event) -> bool:  # noqa: ANN001
    client = app.test_client()
    page = client.get(f"/events/{event.id}-{event.slug}")
    listed = event.title in client.get("/events?q=Soiree").get_data(as_text=True)
    in_sitemap = f"/events/{event.id}-" in client.get("/sitemap.xml").get_data(as_text=True)
    return (page.status_code, listed, in_sitemap) == (200, True, True)


def test_a_suspended_user_stopped_at_the_code_step(app, db, make_user, login_as) -> None:  # noqa: ANN001
    admin, admin_client = _admin_client(app, make_user, login_as)
    organizer = make_user(role=Role.ORGANIZER)
    db.commit()
    client = app.test_client()
    first = client.post("/login", data={"email": organizer.email, "password": DEFAULT_PASSWORD})
    assert first.headers["Location"] == "/login/2fa"
    admin_client.post(f"/admin/users/{organizer.id}/suspend", data={"reason": "Scam"})
    code = pyotp.TOTP(organizer.totp_secret).now()
    step = client.post("/login/2fa", data={"code": code})
    assert step.status_code == 302 and step.headers["Location"] == "/login"
    assert "This account is suspended" in client.get("/login").get_data(as_text=True)
    assert client.get("/account/profile").status_code == 302


def test_bad_inputs_change_nothing(app, db, make_user, login_as) -> None:  # noqa: ANN001
    admin, client = _admin_client(app, make_user, login_as)
    other_admin = make_user(role=Role.ADMIN)
    user = make_user()
    db.commit()
    before = _audit_count(db)
    missing = client.post(f"/admin/users/{user.id}/suspend", data={})
    assert missing.status_code == 422
    assert "Give a reason" in missing.get_data(as_text=True)
    too_long = client.post(f"/admin/users/{user.id}/suspend", data={"reason": "x" * 501})
    assert too_long.status_code == 422 and "under 500" in too_long.get_data(as_text=True)
    assert client.post("/admin/users/999999999/suspend", data={"reason": "x"}).status_code == 404
    assert client.get("/admin/users/999999999").status_code == 404
    assert client.post("/admin/users/999999999/reset-2fa").status_code == 404
    for target in (admin, other_admin):
        refused = client.post(f"/admin/users/{target.id}/suspend", data={"reason": "x"})
        assert refused.status_code == 303
    assert "another admin" in client.get(f"/admin/users/{other_admin.id}").get_data(as_text=True)
    not_suspended = client.post(f"/admin/users/{user.id}/reactivate")
    assert not_suspended.status_code == 303
    db.expire_all()
    assert _audit_count(db) == before
    assert not any(u.is_suspended for u in db.scalars(select(User)))
    # A replay of the same suspension: the first counts, the second is told and changes nothing.
    client.post(f"/admin/users/{user.id}/suspend", data={"reason": "once"})
    client.post(f"/admin/users/{user.id}/suspend", data={"reason": "twice"})
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "already suspended" in page and "Reason: once" in page
    assert _audit_count(db) == before + 1


def test_reset_two_factor_mails_the_user_who_enrolls_again(
    app, db, make_user, login_as, mailbox
) -> None:  # noqa: ANN001
    admin, client = _admin_client(app, make_user, login_as)
    organizer = make_user(role=Role.ORGANIZER)
    db.commit()
    assert client.post(f"/admin/users/{organizer.id}/reset-2fa").status_code == 303
    assert mailbox(organizer.email)[-1]["subject"] == "Your two-factor authentication was reset"
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.actor_id == admin.id)) == (
        "2fa.reset_by_admin"
    )
    login = app.test_client()
    done = login.post("/login", data={"email": organizer.email, "password": DEFAULT_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] != "/login/2fa"


def test_the_user_page_lists_their_bookings_and_changes_their_role(
    app, db, make_user, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    _, admin_client = _admin_client(app, make_user, login_as)
    buyer = make_user(name="Bea Buyer")
    mine = make_seated_booking(buyer=buyer, title="Harbour Concert")
    someone_elses = make_seated_booking(title="Other Gig")
    db.commit()
    page = admin_client.get(f"/admin/users/{buyer.id}").get_data(as_text=True)
    assert mine.reference in page and "Harbour Concert" in page
    assert someone_elses.reference not in page and "Other Gig" not in page
    assert f'href="/admin/bookings/{mine.reference}"' in page

    changed = admin_client.post(
        f"/admin/users/{buyer.id}/role", data={"role": "organizer", "back": "user"}
    )
    assert changed.status_code == 303
    assert changed.headers["Location"].endswith(f"/admin/users/{buyer.id}")
    db.expire_all()
    assert db.get(User, buyer.id).role == Role.ORGANIZER

    refused = admin_client.post(
        f"/admin/users/{buyer.id}/role", data={"role": "king", "back": "user"}
    )
    assert refused.headers["Location"].endswith(f"/admin/users/{buyer.id}")
    db.expire_all()
    assert db.get(User, buyer.id).role == Role.ORGANIZER


def test_an_unknown_user_page_is_not_found(app, make_user, login_as) -> None:  # noqa: ANN001
    _, admin_client = _admin_client(app, make_user, login_as)
    assert admin_client.get("/admin/users/999999").status_code == 404
