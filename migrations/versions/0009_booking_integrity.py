"""Booking integrity: cancelling an event, and moderated changes to published events.

- `bookings.cancellation_reason`: why a booking was cancelled (the buyer, or the event was
  cancelled: paid ones of those are due a refund). Bookings cancelled before this migration
  were all cancelled by their buyers.
- `events.cancellation_note`: the organizer's message to ticket holders.
- `events.version`: counts saved changes, so a moderation decision names what the admin saw.
- `waitlist_entries.status` may be `closed` (the event was cancelled).
- `event_revisions`: material changes to a published event, waiting for an admin's review.

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITLIST_BEFORE = ("waiting", "offered", "converted", "expired", "left")
_WAITLIST_AFTER = (*_WAITLIST_BEFORE, "closed")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _waitlist_statuses(values: Sequence[str]) -> None:
    name = op.f("ck_waitlist_entries_waitlist_status")
    op.drop_constraint(name, "waitlist_entries", type_="check")
    op.create_check_constraint(name, "waitlist_entries", _in("status", values))


def upgrade() -> None:
    op.add_column("bookings", sa.Column("cancellation_reason", sa.String(20), nullable=True))
    op.create_check_constraint(
        op.f("ck_bookings_cancellation_reason"),
        "bookings",
        _in("cancellation_reason", ("buyer", "event_cancelled")),
    )
    op.execute("UPDATE bookings SET cancellation_reason = 'buyer' WHERE status = 'cancelled'")
    op.add_column("events", sa.Column("cancellation_note", sa.Text(), nullable=True))
    op.add_column("events", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    _waitlist_statuses(_WAITLIST_AFTER)
    op.create_table(
        "event_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "superseded",
                name="revision_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_revisions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_event_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_event_revisions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_revisions")),
    )
    op.create_index(op.f("ix_event_revisions_event_id"), "event_revisions", ["event_id"])
    # At most one revision of an event waits for review at a time.
    op.create_index(
        "uq_event_revisions_pending",
        "event_revisions",
        ["event_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_event_revisions_queue",
        "event_revisions",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("event_revisions")
    # Closed waitlist places read as left: their owners are no longer waiting either way.
    op.execute("UPDATE waitlist_entries SET status = 'left' WHERE status = 'closed'")
    _waitlist_statuses(_WAITLIST_BEFORE)
    op.drop_column("events", "version")
    op.drop_column("events", "cancellation_note")
    op.drop_column("bookings", "cancellation_reason")
