"""Ticketing additions to the schema: booking lines (what a booking is for, per tier).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("seat_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_booking_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_lines_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"], ["ticket_tiers.id"], name=op.f("fk_booking_lines_tier_id_ticket_tiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_lines")),
    )
    op.create_index(op.f("ix_booking_lines_booking_id"), "booking_lines", ["booking_id"])
    op.create_index(op.f("ix_booking_lines_tier_id"), "booking_lines", ["tier_id"])
    # The waitlist queue of a tier, in order, for the entries still waiting.
    op.create_index(
        "ix_waitlist_waiting",
        "waitlist_entries",
        ["tier_id", "created_at", "id"],
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index("ix_waitlist_waiting", table_name="waitlist_entries")
    op.drop_index(op.f("ix_booking_lines_tier_id"), table_name="booking_lines")
    op.drop_index(op.f("ix_booking_lines_booking_id"), table_name="booking_lines")
    op.drop_table("booking_lines")
