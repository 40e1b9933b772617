"""Suspended users: when, why and by whom; their published events are hidden meanwhile.

`events.hidden_at` rather than a join to the organizer on every public listing: the
listings stay single-table, and reactivation clears it.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("suspended_reason", sa.String(length=500), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "suspended_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.add_column("events", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "hidden_at")
    op.drop_column("users", "suspended_by_id")
    op.drop_column("users", "suspended_reason")
    op.drop_column("users", "suspended_at")
