"""Seat map additions to the schema: a seat exists once per event, and outlives its zone.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # COALESCE: seats outside any named section must collide too (NULLs never do in a unique index).
    op.execute(
        "CREATE UNIQUE INDEX uq_units_seat ON units "
        "(event_id, COALESCE(section, ''), row_label, seat_number) "
        "WHERE seat_number IS NOT NULL"
    )
    # Deleting a tier (price zone) leaves its seats in the layout, outside any zone.
    _tier_foreign_key(ondelete="SET NULL")


def downgrade() -> None:
    _tier_foreign_key(ondelete="CASCADE")
    op.execute("DROP INDEX uq_units_seat")


def _tier_foreign_key(*, ondelete: str) -> None:
    op.drop_constraint("fk_units_tier_id_ticket_tiers", "units", type_="foreignkey")
    op.create_foreign_key(
        "fk_units_tier_id_ticket_tiers",
        "units",
        "ticket_tiers",
        ["tier_id"],
        ["id"],
        ondelete=ondelete,
    )
