"""Events an admin features on the home page; an index for the audit log's action filter.

`featured_at` counts only while it is later than `published_at`: an event unpublished and
published again is no longer featured, without a write on every unpublish path.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("featured_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "events",
        sa.Column(
            "featured_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_events_featured",
        "events",
        [sa.text("featured_at DESC")],
        postgresql_where=sa.text("featured_at IS NOT NULL AND status = 'published'"),
    )
    op.create_index("ix_audit_log_action_id", "audit_log", ["action", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action_id", table_name="audit_log")
    op.drop_index("ix_events_featured", table_name="events")
    op.drop_column("events", "featured_by_id")
    op.drop_column("events", "featured_at")
