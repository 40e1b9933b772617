"""Admins see failed notifications with their error and retry them; every template previews;
a user whose address is refused is told so on their profile."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.notifications import messages
from app.domain.notifications.delivery import mark_failing
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import notify


def _failed(db, now, recipient: str = "gone@example.test") -> Notification:  # noqa: ANN001
    notify(
        db,
        key="test:failed",
        kind="booking_confirmed",
        channel=Channel.EMAIL,
        now=now,
        recipient=recipient,
        payload={"booking_id": 1},
    )
    row = db.scalars(select(Notification).where(Notification.key == "test:failed")).one()
    row.status = NotificationStatus.FAILED
    row.attempts = 6
    row.last_error = "TemporaryFailure: SMTP unreachable: ConnectionRefusedError"
    db.commit()
    return row


def test_the_failed_list_shows_the_error_and_a_retry_queues_it_again(
    app, db, now, make_user, login_as
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    row = _failed(db, now)
    client = app.test_client()
    login_as(client, admin)
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "gone@example.test" in page and "SMTP unreachable" in page
    assert f"/admin/notifications/{row.id}/retry" in page

    done = client.post(f"/admin/notifications/{row.id}/retry")
    assert done.status_code == 303
    db.expire_all()
    again = db.get(Notification, row.id)
    assert (again.status, again.attempts) == (NotificationStatus.PENDING, 0)
    (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "notification.retried"))
    assert entry.actor_id == admin.id and entry.target_id == row.id
    assert "Nothing has failed." in client.get("/admin/notifications").get_data(as_text=True)
    # A second click finds nothing to retry, and changes nothing.
    twice = client.post(f"/admin/notifications/{row.id}/retry", follow_redirects=True)
    assert "not failed any more" in twice.get_data(as_text=True)


def test_every_template_previews_with_sample_data(app, db, make_user, login_as) -> None:  # noqa: ANN001
    client = app.test_client()
    login_as(client, make_user(role=Role.ADMIN))
    index = client.get("/admin/notifications").get_data(as_text=True)
    for kind in messages.KINDS.values():
        assert f'href="/admin/notifications/templates/{kind.name}"' in index
        page = client.get(f"/admin/notifications/templates/{kind.name}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and kind.label in html and "Sample concert" in html
    assert client.get("/admin/notifications/templates/nope").status_code == 404


def test_a_refused_address_is_explained_on_its_owners_profile(
    app, db, now, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user(email="Bounced@Example.test")
    client = app.test_client()
    login_as(client, user)
    assert "is refused" not in client.get("/account/profile").get_data(as_text=True)
    mark_failing(
        db,
        Channel.EMAIL,
        "bounced@example.test",
        reason="SMTP 550: 5.1.1 No such user",
        notification_id=None,
        now=now,
    )
    db.commit()
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Our mail to Bounced@Example.test is refused." in page
    assert "5.1.1 No such user" in page
