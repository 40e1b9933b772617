"""Account hardening: one table of rate-limited attempts (logins, secrets asked again in a
session, mails asked for), counted per subject and per source network; sessions remember when
their user last proved who they are, and a code mailed to prove it.

The recent rows of `login_attempts` move into `attempts`, so nobody's count starts over.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The source network of an address, as app/domain/accounts/rate_limit.network_of computes it.
_NETWORK = (
    "CASE WHEN family(ip) = 6 THEN network(set_masklen(ip, 64))::inet ELSE host(ip)::inet END"
)


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=254), nullable=False),
        sa.Column("network", postgresql.INET(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "failed",
                "succeeded",
                "neutral",
                name="attempt_outcome",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
    )
    op.create_index("ix_attempts_subject", "attempts", ["action", "subject", "created_at"])
    op.create_index("ix_attempts_network", "attempts", ["action", "network", "created_at"])
    op.execute(
        "INSERT INTO attempts (action, subject, network, outcome, created_at) "  # noqa: S608
        f"SELECT 'login', email, {_NETWORK}, "
        "CASE WHEN success THEN 'succeeded' ELSE 'failed' END, created_at "
        "FROM login_attempts ORDER BY id"
    )
    op.drop_index("ix_login_attempts_ip_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_email_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    for column in (
        sa.Column("reauthenticated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reauth_code_hash", sa.String(length=64), nullable=True),
        sa.Column("reauth_code_expires_at", sa.DateTime(timezone=True), nullable=True),
    ):
        op.add_column("user_sessions", column)


def downgrade() -> None:
    for name in ("reauth_code_expires_at", "reauth_code_hash", "reauthenticated_at"):
        op.drop_column("user_sessions", name)
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_email_at", "login_attempts", ["email", "created_at"], unique=False
    )
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "created_at"], unique=False)
    op.execute(
        "INSERT INTO login_attempts (email, ip, success, created_at) "
        "SELECT subject, network, outcome = 'succeeded', created_at FROM attempts "
        "WHERE action = 'login' AND outcome <> 'neutral' ORDER BY id"
    )
    op.drop_index("ix_attempts_network", table_name="attempts")
    op.drop_index("ix_attempts_subject", table_name="attempts")
    op.drop_table("attempts")
