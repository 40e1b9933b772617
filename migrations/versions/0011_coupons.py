"""Coupons: discount codes of an event, and the coupon a booking carries.

- `coupons`: a code (upper-case, unique per event), percent or a fixed amount off, for the
  whole event or chosen tiers, total uses and uses per person, a validity window, a minimum
  number of tickets, and whether it is active. Uses are not stored: they are the bookings
  that carry the coupon and are confirmed or still held (`ticketing.coupons`).
- `bookings.coupon_id` and `bookings.discount_minor`: the code applied and the money it took
  off; `total_minor` stays what the buyer pays. Existing bookings have neither.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "percent",
                "fixed",
                name="coupon_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tier_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_user", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("min_quantity", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("code = upper(code)", name=op.f("ck_coupons_code_upper_case")),
        sa.CheckConstraint(
            "(kind = 'percent' AND percent_off BETWEEN 1 AND 100 AND amount_off_minor IS NULL)"
            " OR (kind = 'fixed' AND amount_off_minor > 0 AND percent_off IS NULL)",
            name=op.f("ck_coupons_discount_of_its_kind"),
        ),
        sa.CheckConstraint(
            "max_uses IS NULL OR max_uses >= 1", name=op.f("ck_coupons_max_uses_positive")
        ),
        sa.CheckConstraint(
            "max_uses_per_user IS NULL OR max_uses_per_user >= 1",
            name=op.f("ck_coupons_max_per_user_positive"),
        ),
        sa.CheckConstraint("min_quantity >= 1", name=op.f("ck_coupons_min_quantity_positive")),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from",
            name=op.f("ck_coupons_window_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_coupons_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("event_id", "code", name=op.f("uq_coupons_event_id_code")),
    )
    op.add_column("bookings", sa.Column("coupon_id", sa.Integer(), nullable=True))
    op.add_column(
        "bookings",
        sa.Column("discount_minor", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_foreign_key(
        op.f("fk_bookings_coupon_id_coupons"),
        "bookings",
        "coupons",
        ["coupon_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_bookings_discount_not_negative"), "bookings", "discount_minor >= 0"
    )
    op.create_index(
        "ix_bookings_coupon",
        "bookings",
        ["coupon_id"],
        postgresql_where=sa.text("coupon_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_coupon", table_name="bookings")
    op.drop_constraint(op.f("ck_bookings_discount_not_negative"), "bookings", type_="check")
    op.drop_constraint(op.f("fk_bookings_coupon_id_coupons"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "discount_minor")
    op.drop_column("bookings", "coupon_id")
    op.drop_table("coupons")
