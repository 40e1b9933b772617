"""Check-in tables: staff grants and invitations, and one row per admission at the door."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.accounts.models import User
from app.domain.base import Base, utcnow
from app.domain.events.models import Event


class StaffGrant(Base):
    """`user` may check in tickets of one event of `organizer`'s, or of all of them
    (`event_id` NULL). Staff see nothing else of the organizer's back office."""

    __tablename__ = "staff_grants"
    __table_args__ = (
        Index(
            "uq_staff_grants_event",
            "user_id",
            "event_id",
            unique=True,
            postgresql_where=text("event_id IS NOT NULL"),
        ),
        Index(
            "uq_staff_grants_all_events",
            "user_id",
            "organizer_id",
            unique=True,
            postgresql_where=text("event_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    event: Mapped[Event | None] = relationship()


class StaffInvitation(Base):
    """An emailed invitation to become check-in staff; only the SHA-256 of its token is kept.
    It is for the account with `email`, and is used at most once."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    event: Mapped[Event | None] = relationship()


class CheckIn(Base):
    """One admission of a ticket at a gate. A ticket has at most one live (not undone)
    check-in: the partial unique index is what makes two gates' simultaneous scans give one
    green. Undoing keeps the row (who and when) for the audit."""

    __tablename__ = "check_ins"
    __table_args__ = (
        Index(
            "uq_check_ins_live_ticket",
            "ticket_id",
            unique=True,
            postgresql_where=text("undone_at IS NULL"),
        ),
        # The door's counters per tier and gate read this index alone (migration 0014).
        Index(
            "ix_check_ins_event_live",
            "event_id",
            "tier_id",
            "gate",
            postgresql_where=text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # The ticket's tier, copied at admission (a ticket's tier never changes): counted per tier.
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id", ondelete="CASCADE"))
    gate: Mapped[str] = mapped_column(String(40), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When the scan happened (a device's clock for scans queued offline) and when the server
    # recorded it.
    scanned_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The scanning device's id for this scan: a replayed request finds its first answer.
    scan_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])


class DoubleAdmission(Base):
    """A ticket admitted at a gate while offline that another check-in had already admitted:
    two people may have come in on one ticket. Kept for the organizer to look into; the first
    admission (`check_in`) stands."""

    __tablename__ = "double_admissions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"))
    check_in_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("check_ins.id", ondelete="CASCADE")
    )
    gate: Mapped[str] = mapped_column(String(40), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The offline scan's id: a sync sent again finds what it reported the first time.
    scan_id: Mapped[str] = mapped_column(String(64), unique=True)

    check_in: Mapped[CheckIn] = relationship()
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])
