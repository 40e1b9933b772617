"""The pgqueuer job queue tables, installed with pgqueuer's own DDL.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(QueryBuilderEnvironment().build_install_query())


def downgrade() -> None:
    op.execute(QueryBuilderEnvironment().build_uninstall_query())
