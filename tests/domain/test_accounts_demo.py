"""The demo accounts that `make run` loads and prints."""

from __future__ import annotations

import pyotp

from app.demo import accounts
from app.domain.accounts.login import authenticate
from app.domain.accounts.models import Role
from app.domain.accounts.two_factor import check_code


def test_demo_users_can_log_in_with_what_the_console_prints(db, now) -> None:  # noqa: ANN001
    users, lines = accounts.load(db)
    assert sorted(users) == ["admin", "att1", "att2", "att3", "org1", "org2"]
    assert users["admin"].role == Role.ADMIN
    assert {users[k].role for k in ("org1", "org2")} == {Role.ORGANIZER}
    assert all(users[k].organization_name for k in ("org1", "org2"))
    printed = "\n".join(lines)
    for _key, _name, email, password, _role, _org, secret in accounts.DEMO_USERS:
        assert email in printed and password in printed
        assert secret is None or secret in printed
    admin = users["admin"]
    assert authenticate(db, email=admin.email, password="admin-demo-pass") is admin
    # The admin's printed secret gives a working second factor.
    assert check_code(db, admin, pyotp.TOTP(admin.totp_secret).at(now), now=now) == "totp"
    assert not users["att1"].has_2fa
