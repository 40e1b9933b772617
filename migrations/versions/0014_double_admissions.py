"""Check-in: tickets admitted twice while gates were offline; the door's counters from indexes
(a check-in keeps its ticket's tier; valid tickets are indexed by tier).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "double_admissions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("check_in_id", sa.BigInteger(), nullable=False),
        sa.Column("gate", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_double_admissions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_double_admissions_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_ins.id"],
            name=op.f("fk_double_admissions_check_in_id_check_ins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["users.id"],
            name=op.f("fk_double_admissions_staff_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_double_admissions")),
        sa.UniqueConstraint("scan_id", name=op.f("uq_double_admissions_scan_id")),
    )
    op.create_index(op.f("ix_double_admissions_event_id"), "double_admissions", ["event_id"])

    op.add_column("check_ins", sa.Column("tier_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE check_ins SET tier_id = tickets.tier_id FROM tickets"
        " WHERE tickets.id = check_ins.ticket_id"
    )
    op.alter_column("check_ins", "tier_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_check_ins_tier_id_ticket_tiers"),
        "check_ins",
        "ticket_tiers",
        ["tier_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("ix_check_ins_event_live", table_name="check_ins")
    op.create_index(
        "ix_check_ins_event_live",
        "check_ins",
        ["event_id", "tier_id", "gate"],
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.create_index(
        "ix_tickets_tier_valid",
        "tickets",
        ["tier_id"],
        postgresql_where=sa.text("status = 'valid'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_tier_valid", table_name="tickets")
    op.drop_index("ix_check_ins_event_live", table_name="check_ins")
    op.create_index(
        "ix_check_ins_event_live",
        "check_ins",
        ["event_id"],
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.drop_constraint(op.f("fk_check_ins_tier_id_ticket_tiers"), "check_ins", type_="foreignkey")
    op.drop_column("check_ins", "tier_id")
    op.drop_table("double_admissions")
