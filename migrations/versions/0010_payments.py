"""Payments: checkouts through providers, refunds (each part its own row), the events providers
sent (each recorded once), and the providers an event accepts.

- `payments`: the idempotency key of its create call, the checkout's address, what was
  refunded, why it failed, when it succeeded; one payment per provider-side id.
- `refunds`: money given back on a payment, with the tickets it took back.
- `payment_events`: every provider event by the provider's id (unique), and what it did.
- `events.payment_providers`: the providers buyers may use (NULL: every one set up).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("payment_providers", postgresql.ARRAY(sa.String(20))))
    # No payment was ever written before this migration: the new required column needs no
    # backfill, but a default keeps the statement valid on any table.
    op.add_column(
        "payments",
        sa.Column(
            "idempotency_key",
            sa.String(length=80),
            nullable=False,
            server_default=sa.text("'payment-' || gen_random_uuid()::text"),
        ),
    )
    op.alter_column("payments", "idempotency_key", server_default=None)
    op.create_unique_constraint(
        op.f("uq_payments_idempotency_key"), "payments", ["idempotency_key"]
    )
    op.add_column("payments", sa.Column("checkout_url", sa.Text()))
    op.add_column(
        "payments",
        sa.Column("refunded_minor", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("payments", sa.Column("failure_reason", sa.Text()))
    op.add_column("payments", sa.Column("succeeded_at", sa.DateTime(timezone=True)))
    op.drop_index("ix_payments_provider_ref", table_name="payments")
    op.create_index(
        "uq_payments_provider_ref",
        "payments",
        ["provider", "provider_ref"],
        unique=True,
        postgresql_where=sa.text("provider_ref IS NOT NULL"),
    )
    op.create_index(
        "ix_payments_pending",
        "payments",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="refund_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("ticket_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("provider_refund_ref", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_refunds_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider",
            "provider_event_id",
            name=op.f("uq_payment_events_provider_provider_event_id"),
        ),
    )
    op.create_index(op.f("ix_payment_events_payment_id"), "payment_events", ["payment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_events_payment_id"), table_name="payment_events")
    op.drop_table("payment_events")
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_payments_pending", table_name="payments")
    op.drop_index("uq_payments_provider_ref", table_name="payments")
    op.create_index("ix_payments_provider_ref", "payments", ["provider_ref"])
    for column in (
        "succeeded_at",
        "failure_reason",
        "refunded_minor",
        "checkout_url",
    ):
        op.drop_column("payments", column)
    op.drop_constraint(op.f("uq_payments_idempotency_key"), "payments", type_="unique")
    op.drop_column("payments", "idempotency_key")
    op.drop_column("events", "payment_providers")
