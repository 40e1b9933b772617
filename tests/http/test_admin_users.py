"""Admin pages for users, organizer applications and the audit log; the CLI; /dev/outbox."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.accounts.models import ApplicationStatus, OrganizerApplication, Role, User
from app.domain.audit import AuditEntry


def _admin_client(app, make_user, login_as):  # noqa: ANN001, ANN202
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    client = app.test_client()
    login_as(client, admin)
    return admin, client


def test_admin_home_links_every_admin_page(app, db, make_user, login_as) -> None:  # noqa: ANN001
    _, client = _admin_client(app, make_user, login_as)
    html = client.get("/admin/").get_data(as_text=True)
    for href in (
        "/admin/users",
        "/admin/applications",
        "/admin/moderation",
        "/admin/reports",
        "/admin/audit",
    ):
        assert f'href="{href}"' in html, href


def test_user_search_answers_htmx_with_the_table_only(app, db, make_user, login_as) -> None:  # noqa: ANN001
    _, client = _admin_client(app, make_user, login_as)
    make_user(name="Findable Person", email="findme@example.test")
    make_user(name="Someone Else")
    db.commit()
    page = client.get("/admin/users?q=findme")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "Findable Person" in html and "Someone Else" not in html
    fragment = client.get("/admin/users?q=FINDABLE", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Findable Person" in fragment.get_data(as_text=True)
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/admin/users?q=x", headers=restore).get_data(as_text=True)
    assert "Findable" not in client.get("/admin/users?role=admin").get_data(as_text=True)


def test_role_change_is_saved_and_audited(app, db, make_user, login_as) -> None:  # noqa: ANN001
    admin, client = _admin_client(app, make_user, login_as)
    user = make_user()
    db.commit()
    response = client.post(f"/admin/users/{user.id}/role", data={"role": "organizer"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(User, user.id).role == Role.ORGANIZER
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "role.changed"))
    assert (entry.actor_id, entry.target_id) == (admin.id, user.id)
    assert entry.data == {"before": {"role": "attendee"}, "after": {"role": "organizer"}}


def test_bad_role_changes_change_nothing(app, db, make_user, login_as) -> None:  # noqa: ANN001
    admin, client = _admin_client(app, make_user, login_as)
    user = make_user()
    db.commit()
    bad_role = client.post(
        f"/admin/users/{user.id}/role", data={"role": "emperor"}, follow_redirects=True
    )
    assert "Pick a role from the list." in bad_role.get_data(as_text=True)
    own = client.post(
        f"/admin/users/{admin.id}/role", data={"role": "attendee"}, follow_redirects=True
    )
    assert "You cannot change your own role." in own.get_data(as_text=True)
    assert client.post("/admin/users/999999/role", data={"role": "admin"}).status_code == 404
    db.expire_all()
    assert db.get(User, user.id).role == Role.ATTENDEE
    assert db.get(User, admin.id).role == Role.ADMIN


def test_applications_are_approved_or_rejected_with_a_reason(
    app, db, make_user, login_as, mailbox
) -> None:  # noqa: ANN001
    _, client = _admin_client(app, make_user, login_as)
    first, second = make_user(email="first@example.test"), make_user(email="second@example.test")
    db.add_all(
        [
            OrganizerApplication(user_id=first.id, organization_name="First Org", details="Talks"),
            OrganizerApplication(user_id=second.id, organization_name="Second Org", details=""),
        ]
    )
    db.commit()
    html = client.get("/admin/applications").get_data(as_text=True)
    assert "First Org" in html and "Second Org" in html
    one, two = db.scalars(select(OrganizerApplication).order_by(OrganizerApplication.id)).all()

    assert client.post(f"/admin/applications/{one.id}/approve").status_code == 303
    no_reason = client.post(f"/admin/applications/{two.id}/reject", data={"reason": " "})
    assert no_reason.status_code == 422
    assert "Tell the applicant why" in no_reason.get_data(as_text=True)
    assert (
        client.post(
            f"/admin/applications/{two.id}/reject", data={"reason": "No details given."}
        ).status_code
        == 303
    )

    db.expire_all()
    assert db.get(User, first.id).role == Role.ORGANIZER
    assert db.get(User, first.id).organization_name == "First Org"
    assert db.get(User, second.id).role == Role.ATTENDEE
    assert db.get(OrganizerApplication, two.id).status == ApplicationStatus.REJECTED
    assert "approved" in mailbox(to="first@example.test")[0]["text"]
    assert "No details given." in mailbox(to="second@example.test")[0]["text"]


def test_audit_log_lists_and_filters(app, db, make_user, login_as) -> None:  # noqa: ANN001
    admin, client = _admin_client(app, make_user, login_as)
    user = make_user(email="watched@example.test")
    db.commit()
    client.post(f"/admin/users/{user.id}/role", data={"role": "organizer"})
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "role.changed" in html and admin.email in html
    filtered = client.get("/admin/audit?action=login.password").get_data(as_text=True)
    assert "<code>role.changed</code>" not in filtered


def test_non_admins_get_403_on_admin_actions(app, db, make_user, login_as) -> None:  # noqa: ANN001
    client = app.test_client()
    organizer = make_user(role=Role.ORGANIZER)
    login_as(client, organizer)
    target = make_user()
    db.commit()
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "admin"}).status_code == 403
    db.expire_all()
    assert db.get(User, target.id).role == Role.ATTENDEE


def test_create_admin_command(app, db) -> None:  # noqa: ANN001
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--email", "Boss@Example.test", "--name", "The Boss"],
        input="a sturdy passphrase\n" * 2,
    )
    assert result.exit_code == 0, result.output
    assert "admin created: Boss@example.test" in result.output
    admin = db.scalar(select(User).where(User.email == "Boss@example.test"))
    assert admin.role == Role.ADMIN and admin.email_verified_at is not None
    weak = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "b2@example.test",
            "--name",
            "B",
            "--password",
            "123",
        ]
    )
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    dup = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "boss@example.test",
            "--name",
            "B",
            "--password",
            "a sturdy passphrase",
        ]
    )
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_dev_outbox_exists_only_in_development(app, client, tmp_path) -> None:  # noqa: ANN001
    assert client.get("/dev/outbox").status_code == 404
    from app.integrations.mail import build_message, write_to_outbox

    folder = app.config["MAIL_OUTBOX_DIR"]
    path = write_to_outbox(
        folder,
        build_message(
            app.config,
            to="dev@example.test",
            subject="Hello <dev>",
            text="Open http://127.0.0.1:5000/verify/abc please",
            html=None,
        ),
    )
    app.config["APP_ENV"] = "development"
    try:
        listing = client.get("/dev/outbox").get_data(as_text=True)
        assert "Hello &lt;dev&gt;" in listing and path.name in listing
        one = client.get(f"/dev/outbox/{path.name}").get_data(as_text=True)
        assert 'href="http://127.0.0.1:5000/verify/abc"' in one
        assert client.get("/dev/outbox/..%2Fsecret_key").status_code == 404
        assert client.get("/dev/outbox/missing.eml").status_code == 404
    finally:
        app.config["APP_ENV"] = "test"
