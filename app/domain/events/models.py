"""Event tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.accounts.models import User
from app.domain.base import Base, str_enum, utcnow


class EventType(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    HYBRID = "hybrid"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


PUBLISHED = "status = 'published'"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
        Index("ix_events_search", "search_vector", postgresql_using="gin"),
        Index("ix_events_tags", "tags", postgresql_using="gin"),
        # Public listings read only published events: partial indexes per filter and sort.
        Index(
            "ix_events_published_category",
            "category_id",
            "starts_at",
            postgresql_where=text(PUBLISHED),
        ),
        Index(
            "ix_events_published_city",
            text("lower(city)"),
            "starts_at",
            postgresql_where=text(PUBLISHED),
        ),
        Index(
            "ix_events_published_price",
            "min_price_minor",
            "starts_at",
            postgresql_where=text(PUBLISHED),
        ),
        Index(
            "ix_events_published_popular",
            text("sold_count DESC"),
            "starts_at",
            postgresql_where=text(PUBLISHED),
        ),
        Index(
            "ix_events_published_newest",
            text("published_at DESC"),
            postgresql_where=text(PUBLISHED),
        ),
        Index(
            "ix_events_featured",
            text("featured_at DESC"),
            postgresql_where=text("featured_at IS NOT NULL AND status = 'published'"),
        ),
        Index(
            "ix_events_moderation_queue",
            "submitted_at",
            postgresql_where=text("status = 'submitted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    event_type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    venue_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    online_url: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    cover_image: Mapped[str | None] = mapped_column(String(300))  # storage key
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.DRAFT
    )
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # The organizer's message to ticket holders when the event was cancelled.
    cancellation_note: Mapped[str | None] = mapped_column(Text)
    # Counts every saved change of the event's content: a moderation decision names the
    # version the admin saw, so an edit made meanwhile is never approved unseen.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    is_seated: Mapped[bool] = mapped_column(default=False)
    # The payment providers buyers may pay with (None: every provider the site has set up).
    payment_providers: Mapped[list[str] | None] = mapped_column(ARRAY(String(20)))
    # Kept current by the ticketing services, for listing filters and sorts.
    min_price_minor: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    sold_count: Mapped[int] = mapped_column(default=0)
    # Weighted title (A) > tags (B) > description (C); maintained by a trigger.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    # Set while its organizer is suspended: a published event off the public pages.
    hidden_at: Mapped[datetime | None]
    # Featured on the home page by an admin; it lapses when the event is published again.
    featured_at: Mapped[datetime | None]
    featured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organizer: Mapped[User] = relationship(foreign_keys=[organizer_id])

    category: Mapped[Category | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event", order_by="Speaker.position", cascade="all, delete-orphan"
    )

    @property
    def is_featured(self) -> bool:
        """On the home page's featured list: featured since it was last published."""
        return (
            self.status == EventStatus.PUBLISHED
            and self.featured_at is not None
            and (self.published_at is None or self.featured_at >= self.published_at)
        )


class Speaker(Base):
    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="speakers")


class RevisionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # replaced by newer changes, taken back, or the event closed


class EventRevision(Base):
    """Changes to the material fields of a published event, waiting for (or past) review.

    The event row keeps the approved version, which is what the public sees; `changes` holds
    the proposed values of every material field (see revisions.MATERIAL_FIELDS).
    """

    __tablename__ = "event_revisions"
    __table_args__ = (
        Index(
            "uq_event_revisions_pending",
            "event_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_event_revisions_queue", "created_at", postgresql_where=text("status = 'pending'")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[RevisionStatus] = mapped_column(
        str_enum(RevisionStatus, "revision_status"), default=RevisionStatus.PENDING
    )
    changes: Mapped[dict] = mapped_column(JSONB)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    event: Mapped[Event] = relationship()


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


class EventReport(Base):
    __tablename__ = "event_reports"
    __table_args__ = (
        Index("ix_event_reports_open", "created_at", postgresql_where=text("status = 'open'")),
        # One open report per reporter and event.
        Index(
            "uq_event_reports_open_reporter",
            "event_id",
            "reporter_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(
        str_enum(ReportStatus, "report_status"), default=ReportStatus.OPEN
    )
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
