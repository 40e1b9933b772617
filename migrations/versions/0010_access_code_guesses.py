"""Wrong access codes of hidden tiers, kept briefly to limit guessing per user and network.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wrong_access_codes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("network", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wrong_access_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrong_access_codes")),
    )
    op.create_index(
        "ix_wrong_access_codes_user_at", "wrong_access_codes", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_wrong_access_codes_network_at", "wrong_access_codes", ["network", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_wrong_access_codes_network_at", table_name="wrong_access_codes")
    op.drop_index("ix_wrong_access_codes_user_at", table_name="wrong_access_codes")
    op.drop_table("wrong_access_codes")
