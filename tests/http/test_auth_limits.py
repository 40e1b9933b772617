"""Rate limits over HTTP: lock-outs by strangers, mail flooding, proxies that hide clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.domain.accounts.models import Attempt
from app.domain.outbox import OutboxMessage
from app.web.account.session_login import FORWARDING_WARNED
from tests.conftest import _test_config
from tests.factories.accounts import DEFAULT_PASSWORD

STRANGER, OWNER = "203.0.113.9", "198.51.100.20"
FORM = {"name": "Nia Okafor", "password": "a sturdy passphrase"}


def _login(client, email, password=DEFAULT_PASSWORD, ip=OWNER, **headers):  # noqa: ANN001, ANN202
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def _mails(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_stranger_cannot_lock_an_admin_out(app, client, db, make_user) -> None:  # noqa: ANN001
    admin = make_user(email="admin@example.test", with_2fa=False)
    db.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert _login(client, admin.email, "guess guess", ip=STRANGER).status_code == 422
    blocked = _login(client, admin.email, ip=STRANGER)  # even the right password, from there
    assert blocked.status_code == 429 and "Try again in" in blocked.get_data(as_text=True)
    owner = app.test_client()
    assert _login(owner, admin.email, ip=OWNER).status_code == 302


def test_failures_from_many_networks_reach_the_accounts_ceiling(
    app, client, db, make_user, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS", 3)
    target = make_user(email="target@example.test")
    db.commit()
    for n in range(3):
        assert _login(client, target.email, "guess", ip=f"192.0.2.{n}").status_code == 422
    assert _login(app.test_client(), target.email, ip=OWNER).status_code == 429
    assert _login(app.test_client(), "someone@example.test", ip=OWNER).status_code == 422


def test_behind_a_proxy_that_hides_clients_regular_users_still_log_in(
    app, client, db, make_user
) -> None:  # noqa: ANN001
    """TRUSTED_PROXIES too low: every request seems to come from the proxy. An attacker who
    fills that one network's limit must not lock out everyone."""
    proxy = "10.0.0.2"
    regular = make_user(email="regular@example.test")
    make_user(email="newcomer@example.test")
    db.commit()
    assert _login(app.test_client(), regular.email, ip=proxy).status_code == 302
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_IP"]):
        assert _login(client, f"victim{n}@example.test", "guess", ip=proxy).status_code == 422
    assert _login(app.test_client(), "newcomer@example.test", ip=proxy).status_code == 429
    assert _login(app.test_client(), regular.email, ip=proxy).status_code == 302


def test_registrations_are_limited_per_address(app, client, db) -> None:  # noqa: ANN001
    limit = app.config["ACCOUNT_MAILS_PER_ADDRESS"]
    for n in range(limit):
        ip = f"192.0.2.{n}"  # a different network each time: the address's limit holds
        response = client.post(
            "/register",
            data={**FORM, "email": "flood@example.test"},
            environ_base={"REMOTE_ADDR": ip},
        )
        assert response.status_code == 302
    assert _mails(db) == limit  # one verification link, then notes to its owner
    blocked = client.post(
        "/register",
        data={**FORM, "email": "FLOOD@example.test"},
        environ_base={"REMOTE_ADDR": OWNER},
    )
    assert blocked.status_code == 429 and "Try again in" in blocked.get_data(as_text=True)
    assert _mails(db) == limit


def test_registrations_are_limited_per_network(app, client, db, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(app.config, "ACCOUNT_MAILS_PER_NETWORK", 3)
    for n in range(3):
        response = client.post(
            "/register",
            data={**FORM, "email": f"n{n}@example.test"},
            environ_base={"REMOTE_ADDR": STRANGER},
        )
        assert response.status_code == 302
    blocked = client.post(
        "/register",
        data={**FORM, "email": "n9@example.test"},
        environ_base={"REMOTE_ADDR": STRANGER},
    )
    assert blocked.status_code == 429 and _mails(db) == 3
    other = client.post(
        "/register", data={**FORM, "email": "n9@example.test"}, environ_base={"REMOTE_ADDR": OWNER}
    )
    assert other.status_code == 302


def test_reset_requests_are_limited_per_address_whether_it_has_an_account_or_not(
    app, client, db, make_user
) -> None:  # noqa: ANN001
    make_user(email="known@example.test")
    db.commit()
    limit = app.config["ACCOUNT_MAILS_PER_ADDRESS"]
    for email in ("known@example.test", "unknown@example.test"):
        for n in range(limit):
            response = client.post(
                "/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}
            )
            assert response.status_code == 200
        blocked = client.post("/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": OWNER})
        assert blocked.status_code == 429, email
    assert _mails(db) == limit  # only the known address got mail


def test_failed_logins_do_not_count_as_mails_and_mails_do_not_lock_logins(
    app, client, db, make_user
) -> None:  # noqa: ANN001
    user = make_user(email="both@example.test")
    db.commit()
    for _ in range(app.config["ACCOUNT_MAILS_PER_ADDRESS"]):
        client.post("/forgot", data={"email": user.email})
    assert _login(client, user.email).status_code == 302
    actions = db.scalars(select(Attempt.action).order_by(Attempt.id)).all()
    assert actions == ["mail"] * app.config["ACCOUNT_MAILS_PER_ADDRESS"] + ["login"]


@pytest.fixture
def warned(app: Flask) -> Iterator[None]:
    app.extensions.pop(FORWARDING_WARNED, None)
    yield
    app.extensions.pop(FORWARDING_WARNED, None)


def test_untrusted_forwarding_is_logged_once(app, client, warned, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.WARNING)
    client.get("/login")
    assert "X-Forwarded-For" not in caplog.text
    client.get("/login", headers={"X-Forwarded-For": "198.51.100.7"})
    client.get("/login", headers={"X-Forwarded-For": "198.51.100.8"})
    warnings = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(warnings) == 1
    assert "1 forwarding hop(s)" in warnings[0].getMessage()


def test_behind_trusted_proxies_each_client_has_its_own_network(
    database_url, tmp_path, db, make_user, caplog
) -> None:  # noqa: ANN001
    """With TRUSTED_PROXIES right, clients behind the proxy are told apart; with one proxy
    too many for it, a warning names the hop it does not trust."""
    from app import create_app

    behind = create_app(_test_config(database_url, tmp_path, TRUSTED_PROXIES=1))
    try:
        make_user(email="shared@example.test")
        db.commit()
        proxy = "10.0.0.2"  # every request reaches the app from the proxy
        attacker, owner = behind.test_client(), behind.test_client()
        for _ in range(behind.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
            response = _login(
                attacker, "shared@example.test", "guess", proxy, **{"X-Forwarded-For": STRANGER}
            )
            assert response.status_code == 422
        assert (
            _login(
                attacker, "shared@example.test", ip=proxy, **{"X-Forwarded-For": STRANGER}
            ).status_code
            == 429
        )
        assert (
            _login(owner, "shared@example.test", ip=proxy, **{"X-Forwarded-For": OWNER}).status_code
            == 302
        )
        assert "forwarding hop" not in caplog.text
        caplog.set_level(logging.WARNING)
        _login(
            behind.test_client(),
            "x@example.test",
            ip=proxy,
            **{"X-Forwarded-For": f"{OWNER}, 10.0.0.9"},
        )
        assert "2 forwarding hop(s)" in caplog.text and "TRUSTED_PROXIES=1" in caplog.text
    finally:
        behind.extensions["db"].engine.dispose()
