"""Indexes for the admin's payment search and jobs page: a payment or a refund found by the
provider's id alone (the unique index of payments leads with the provider, so a lookup by id
could not use it), and an outbox topic's latest messages (reconciliation runs).

The buyer's email is found through `uq_users_email_lower` and the reference through its
unique index, both there already.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payments_provider_ref_alone",
        "payments",
        ["provider_ref"],
        postgresql_where=sa.text("provider_ref IS NOT NULL"),
    )
    op.create_index(
        "ix_refunds_provider_refund_ref",
        "refunds",
        ["provider_refund_ref"],
        postgresql_where=sa.text("provider_refund_ref IS NOT NULL"),
    )
    op.create_index("ix_outbox_topic", "outbox", ["topic", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_topic", table_name="outbox")
    op.drop_index("ix_refunds_provider_refund_ref", table_name="refunds")
    op.drop_index("ix_payments_provider_ref_alone", table_name="payments")
