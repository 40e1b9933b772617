"""A refused address comes off the failing list once a check link mailed to it is opened."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.accounts.models import User
from app.domain.audit import AuditEntry
from app.domain.base import utcnow
from app.domain.notifications import address_check, delivery
from app.domain.notifications.models import Channel, FailingAddress
from tests.factories.accounts import link_in


def _refused(db, user) -> None:  # noqa: ANN001
    delivery.mark_failing(db, Channel.EMAIL, user.email, reason="550 no such user",
                          notification_id=None, now=utcnow())  # fmt: skip
    db.commit()


def _failing(db) -> list[str]:  # noqa: ANN001
    db.expire_all()
    return list(db.scalars(select(FailingAddress.address)))


def test_the_check_link_puts_the_address_back(client, db, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    user = make_user(email="Refused@Example.test")
    _refused(db, user)
    login_as(client, user)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "is refused" in page and "Check this address again" in page

    response = client.post("/account/email/check", follow_redirects=True)
    assert "We sent a link to Refused@Example.test" in response.get_data(as_text=True)
    (mail,) = mailbox(to="refused@example.test")
    assert mail["subject"] == "Does our mail reach you?"
    link = link_in(mail["text"], "/account/email/works/")
    assert _failing(db) == ["refused@example.test"]  # asking changes nothing yet

    done = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Our mail reaches Refused@Example.test" in done and "is refused" not in done
    assert _failing(db) == []
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.action.like("notification.%")))
    assert client.get(link).status_code == 302  # again: fine, nothing left to clear


def test_without_a_refusal_nothing_is_mailed(client, db, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    assert "Check this address again" not in client.get("/account/profile").get_data(as_text=True)
    assert client.post("/account/email/check").status_code == 302
    assert mailbox() == []


def test_check_mails_are_rate_limited(client, db, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    user = make_user()
    _refused(db, user)
    login_as(client, user)
    answers = [client.post("/account/email/check", follow_redirects=True) for _ in range(12)]
    assert len(mailbox()) < 12
    assert "Too many" in answers[-1].get_data(as_text=True)


def test_a_bad_stale_or_other_address_link_changes_nothing(
    app, client, db, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user(email="old@example.test")
    _refused(db, user)
    login_as(client, user)
    secret = app.config["SECRET_KEY"]
    token = address_check.check_token(secret, user, now=utcnow())
    expired = address_check.check_token(secret, user, now=utcnow() - timedelta(days=30))
    forged = address_check.check_token("another-secret-of-32-bytes-or-more!", user, now=utcnow())
    for bad in (forged, expired, token[:-3] + "abc", "x"):
        assert client.get(f"/account/email/works/{bad}").status_code == 400
    db.get(User, user.id).email = "new@example.test"  # the account's address changed since
    db.commit()
    assert client.get(f"/account/email/works/{token}").status_code == 400
    assert _failing(db) == ["old@example.test"]
