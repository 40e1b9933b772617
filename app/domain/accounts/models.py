"""Account tables: users and everything that proves who they are."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.base import Base, str_enum, utcnow


class Role(enum.StrEnum):
    ATTENDEE = "attendee"
    ORGANIZER = "organizer"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", text("lower(email)"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.ATTENDEE)
    email_verified_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    organization_name: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # Last accepted TOTP time step: a code can be used once, never replayed.
    totp_last_step: Mapped[int | None]
    # Attendee preferences: {"categories": [ids], "home_city": str, "mode": "online"|"in_person"}
    preferences: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # An admin suspended the account (app/domain/accounts/suspension.py): no login meanwhile.
    suspended_at: Mapped[datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # flask-login protocol. The cookie identifies a server-side UserSession (by its token),
    # never the user id: the loader sets this on the instance it returns, with what the
    # session knows: whether it passed the second factor, and when its user last proved who
    # they are (the login, or a later confirmation); whether they are check-in staff (or
    # in a team with the door) and in an organizer's team at all; and how many in-app
    # notifications they have not read (up to a cap: the bell's number).
    login_session_token = None
    second_factor_done = False
    authenticated_at = None
    has_staff_grant = False
    in_team = False
    unread_notifications = 0
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.login_session_token

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_2fa(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_2fa(self) -> bool:
        """Organizers and admins must have 2FA before they reach their dashboards."""
        return self.role in (Role.ORGANIZER, Role.ADMIN)


class UserSession(Base):
    """A server-side login session; the cookie holds only its random token.

    The row's id is the SHA-256 of that token, so a copy of the table cannot be replayed as
    cookies. A new row at every login rotates the session id; logout and password change
    revoke rows.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    remember: Mapped[bool] = mapped_column(default=False)
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # True once the second factor was checked in this session.
    second_factor_done: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None]
    # When the user last proved again who they are in this session (a password, a sign-in
    # provider, a code mailed to them): sensitive changes need a recent proof.
    reauthenticated_at: Mapped[datetime | None]
    # A code mailed to the account to prove it again (only its hash), and until when it works.
    reauth_code_hash: Mapped[str | None] = mapped_column(String(64))
    reauth_code_expires_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthIdentity(Base):
    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class OrganizerApplication(Base):
    __tablename__ = "organizer_applications"
    # One pending application per user at a time, enforced by the database.
    __table_args__ = (
        Index(
            "uq_organizer_applications_one_pending",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_name: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "application_status"), default=ApplicationStatus.PENDING
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AttemptOutcome(enum.StrEnum):
    FAILED = "failed"  # also every attempt still being checked: it counts until settled
    SUCCEEDED = "succeeded"  # the secret was right: earlier failures of the subject stop counting
    NEUTRAL = "neutral"  # counts towards request limits only (a mail asked for, a first factor)


class Attempt(Base):
    """One rate-limited request: a login, a secret asked again in a session, a mail asked for.

    `subject` is what the attempt is about (an email address, a user), `network` where it came
    from (app/domain/accounts/rate_limit.py explains both).
    """

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_subject", "action", "subject", "created_at"),
        Index("ix_attempts_network", "action", "network", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(254))
    network: Mapped[str | None] = mapped_column(INET)
    outcome: Mapped[AttemptOutcome] = mapped_column(
        str_enum(AttemptOutcome, "attempt_outcome"), default=AttemptOutcome.FAILED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PasswordResetToken(Base):
    """Single-use, expiring; only the token's hash is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
