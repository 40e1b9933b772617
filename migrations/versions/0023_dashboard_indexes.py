"""Time-range indexes for the admin dashboard: sales by confirmation, money by when it moved.

Each covers the columns its aggregates read (INCLUDE), so a day, a week or a month of sales is
summed from the index alone, without visiting the tables.

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_bookings_confirmed_at",
        "bookings",
        ["confirmed_at"],
        postgresql_include=["id", "event_id", "quantity", "status"],
        postgresql_where=sa.text("confirmed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_payments_succeeded_at",
        "payments",
        ["succeeded_at"],
        postgresql_include=["booking_id", "amount_minor", "currency"],
        postgresql_where=sa.text("succeeded_at IS NOT NULL"),
    )
    op.create_index(
        "ix_refunds_succeeded",
        "refunds",
        ["completed_at"],
        postgresql_include=["payment_id", "amount_minor", "currency"],
        postgresql_where=sa.text("status = 'succeeded'"),
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_succeeded", table_name="refunds")
    op.drop_index("ix_payments_succeeded_at", table_name="payments")
    op.drop_index("ix_bookings_confirmed_at", table_name="bookings")
