"""Team tables: an owner's members with their role, and emailed invitations to join."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.accounts.models import User
from app.domain.base import Base, str_enum, utcnow


class TeamRole(enum.StrEnum):
    MANAGE = "manage"  # runs the owner's events as the owner would, but not the team
    SALES = "sales"  # reads sales: attendees and their exports, payments, analytics
    CHECKIN = "checkin"  # the door of the owner's events, nothing else


class TeamMember(Base):
    """`user` works on the events of `owner` (the organizer whose team it is) as `role` says."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("owner_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(str_enum(TeamRole, "team_role"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])


class TeamInvitation(Base):
    """An emailed invitation to join `owner`'s team as `role`; only the SHA-256 of its token
    is kept. It is for the account with `email`, and is used at most once."""

    __tablename__ = "team_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[TeamRole] = mapped_column(str_enum(TeamRole, "team_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
