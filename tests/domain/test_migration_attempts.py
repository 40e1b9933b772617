"""Migration 0008: the recent failed logins move into `attempts` with their source network,
so nobody's count starts over; the migration goes down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from app.db import make_engine
from app.migrate import alembic_config, upgrade

LOGINS = [
    ("a@example.test", "203.0.113.9", False),
    ("a@example.test", "2001:db8:1:2:aaaa::1", False),
    ("b@example.test", None, True),
]


def test_recent_logins_move_into_attempts_and_back(blank_url: str) -> None:
    upgrade(blank_url, "0007")
    engine = make_engine(blank_url, pool_size=1)
    try:
        with engine.begin() as conn:
            for email, ip, success in LOGINS:
                conn.execute(
                    text(
                        "INSERT INTO login_attempts (email, ip, success, created_at) "
                        "VALUES (:email, :ip, :success, now())"
                    ),
                    {"email": email, "ip": ip, "success": success},
                )
        upgrade(blank_url)
        moved = (
            "SELECT action, subject, host(network) || '/' || masklen(network), outcome"
            " FROM attempts ORDER BY id"
        )
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(text(moved))] == [
                ("login", "a@example.test", "203.0.113.9/32", "failed"),
                ("login", "a@example.test", "2001:db8:1:2::/64", "failed"),
                ("login", "b@example.test", None, "succeeded"),
            ]
            columns = conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'user_sessions' AND column_name LIKE 'reauth%'"
                    " ORDER BY column_name"
                )
            ).scalars()
            assert list(columns) == [
                "reauth_code_expires_at",
                "reauth_code_hash",
                "reauthenticated_at",
            ]
        command.downgrade(alembic_config(blank_url), "0007")
        back = "SELECT email, host(ip), success FROM login_attempts ORDER BY id"
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(text(back))] == [
                ("a@example.test", "203.0.113.9", False),
                ("a@example.test", "2001:db8:1:2::", False),
                ("b@example.test", None, True),
            ]
        upgrade(blank_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM attempts")).scalar() == 3
    finally:
        engine.dispose()
