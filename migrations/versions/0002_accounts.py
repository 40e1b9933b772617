"""Accounts additions: session expiry and remember flag, last login, one pending application.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows that exist before this migration expire at once: their owners simply log in again.
    op.add_column(
        "user_sessions",
        sa.Column(
            "expires_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.alter_column("user_sessions", "expires_at", server_default=None)
    op.add_column(
        "user_sessions",
        sa.Column("remember", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.alter_column("user_sessions", "remember", server_default=None)
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "uq_organizer_applications_one_pending",
        "organizer_applications",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_organizer_applications_one_pending", table_name="organizer_applications")
    op.drop_column("users", "last_login_at")
    op.drop_column("user_sessions", "remember")
    op.drop_column("user_sessions", "expires_at")
