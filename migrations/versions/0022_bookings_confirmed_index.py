"""Bookings confirmed per event by time: the organizer dashboard's "today / this week" reads
the range of each of the organizer's events instead of every booking they ever had.

Partial (confirmed bookings only), so a hold's insert adds no entry: only its confirmation.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_bookings_event_confirmed",
        "bookings",
        ["event_id", "confirmed_at"],
        postgresql_where="confirmed_at IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_event_confirmed", table_name="bookings")
