"""Ticketing tables.

Every sellable unit is a row in `units`: a seat, or one place of a general-admission tier.
A unit belongs to at most one live booking (`units.booking_id`), and free units are found
through a partial index that covers only them, so claiming stays fast as an event fills.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.naming import conv

from app.domain.accounts.models import User
from app.domain.base import Base, str_enum, utcnow
from app.domain.events.models import Event


class TierKind(enum.StrEnum):
    FREE = "free"
    PAID = "paid"
    VIP = "vip"


class TicketTier(Base):
    __tablename__ = "ticket_tiers"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("min_per_order >= 1", name="min_per_order_positive"),
        CheckConstraint("max_per_order >= min_per_order", name="max_at_least_min"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[TierKind] = mapped_column(str_enum(TierKind, "tier_kind"), default=TierKind.FREE)
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    capacity: Mapped[int] = mapped_column(default=0)
    sales_start: Mapped[datetime | None]
    sales_end: Mapped[datetime | None]
    min_per_order: Mapped[int] = mapped_column(default=1)
    max_per_order: Mapped[int] = mapped_column(default=10)
    per_user_limit: Mapped[int | None]
    hidden: Mapped[bool] = mapped_column(default=False)
    access_code: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()


class CouponKind(enum.StrEnum):
    PERCENT = "percent"  # `percent_off` of the eligible tickets' price
    FIXED = "fixed"  # `amount_off_minor` off the eligible tickets' price, never below zero


class Coupon(Base):
    """A discount code of one event (`ticketing.coupons`).

    Its uses are not stored: a use is a booking that carries the coupon and is confirmed or
    still held, counted under this row's lock (so an expired hold gives its use back without a
    write). Codes are stored upper-case and compared so: buyers may type them in any case.
    """

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("code = upper(code)", name="code_upper_case"),
        CheckConstraint(
            "(kind = 'percent' AND percent_off BETWEEN 1 AND 100 AND amount_off_minor IS NULL)"
            " OR (kind = 'fixed' AND amount_off_minor > 0 AND percent_off IS NULL)",
            name="discount_of_its_kind",
        ),
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses_positive"),
        CheckConstraint(
            "max_uses_per_user IS NULL OR max_uses_per_user >= 1", name="max_per_user_positive"
        ),
        CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from",
            name="window_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[CouponKind] = mapped_column(str_enum(CouponKind, "coupon_kind"))
    percent_off: Mapped[int | None]
    amount_off_minor: Mapped[int | None]
    # The currency of `amount_off_minor` (the event's when the coupon was made).
    currency: Mapped[str] = mapped_column(String(3))
    # The tiers it takes money off (None: every tier of the event).
    tier_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    max_uses: Mapped[int | None]  # None: unlimited
    max_uses_per_user: Mapped[int | None]
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    # Tickets of the eligible tiers a booking must have for the code to apply.
    min_quantity: Mapped[int] = mapped_column(default=1, server_default="1")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class CancellationReason(enum.StrEnum):
    BUYER = "buyer"  # the buyer released a hold or cancelled a free booking
    EVENT_CANCELLED = "event_cancelled"  # paid ones among these are due a refund


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_user_event", "user_id", "event_id"),
        Index(
            "ix_bookings_pending_expiry",
            "hold_expires_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # Sales per event over time: the organizer dashboard's today and this week (0022).
        Index(
            "ix_bookings_event_confirmed",
            "event_id",
            "confirmed_at",
            postgresql_where=text("confirmed_at IS NOT NULL"),
        ),
        # A coupon's uses are counted through it (`ticketing.coupons`).
        Index(
            "ix_bookings_coupon",
            "coupon_id",
            postgresql_where=text("coupon_id IS NOT NULL"),
        ),
        # Sales by day, week and range (`backoffice.admin_dashboard`, migration 0023).
        Index(
            "ix_bookings_confirmed_at",
            "confirmed_at",
            postgresql_include=["id", "event_id", "quantity", "status"],
            postgresql_where=text("confirmed_at IS NOT NULL"),
        ),
        CheckConstraint("discount_minor >= 0", name="discount_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # Kept (anonymized) when the user deletes their account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus, "booking_status"), default=BookingStatus.PENDING
    )
    quantity: Mapped[int]
    # What the buyer pays: the lines' price less `discount_minor`.
    total_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))
    discount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    hold_expires_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[CancellationReason | None] = mapped_column(
        str_enum(CancellationReason, "cancellation_reason")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    event: Mapped[Event] = relationship()
    coupon: Mapped[Coupon | None] = relationship()
    tickets: Mapped[list[Ticket]] = relationship(back_populates="booking")
    lines: Mapped[list[BookingLine]] = relationship(
        back_populates="booking", order_by="BookingLine.id"
    )


class BookingLine(Base):
    """What a booking is for, per tier, kept after its units are released (history, re-claim)."""

    __tablename__ = "booking_lines"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id"), index=True)
    quantity: Mapped[int]
    unit_price_minor: Mapped[int]
    # The chosen seats (None for general admission, where any free unit will do).
    seat_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))

    booking: Mapped[Booking] = relationship(back_populates="lines")
    tier: Mapped[TicketTier] = relationship()


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        # The claim index: only free, unblocked units, in the order they are handed out.
        Index(
            "ix_units_free",
            "tier_id",
            "seat_order",
            postgresql_where=text("booking_id IS NULL AND NOT blocked"),
        ),
        Index("ix_units_event_seat_order", "event_id", "seat_order"),
        Index("ix_units_booking", "booking_id"),
        # A seat exists once per event (migration 0005).
        Index(
            "uq_units_seat",
            "event_id",
            text("COALESCE(section, '')"),
            "row_label",
            "seat_number",
            unique=True,
            postgresql_where=text("seat_number IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # A seat outside every price zone has no tier and cannot be sold. Deleting a tier leaves
    # its seats in the layout, outside any zone (migration 0005); its general-admission units
    # are deleted by the tier service itself.
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_tiers.id", ondelete="SET NULL"))
    seat_order: Mapped[int] = mapped_column(default=0)
    section: Mapped[str | None] = mapped_column(String(40))
    row_label: Mapped[str | None] = mapped_column(String(10))
    seat_number: Mapped[str | None] = mapped_column(String(10))
    grid_x: Mapped[int | None]
    grid_y: Mapped[int | None]
    blocked: Mapped[bool] = mapped_column(default=False)
    accessible: Mapped[bool] = mapped_column(default=False)
    booking_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("bookings.id", ondelete="SET NULL")
    )

    @property
    def is_seat(self) -> bool:
        return self.seat_number is not None


class TierRow(Base):
    """The free seats of one tier (price zone) in one row, kept current by a trigger on `units`
    (migration 0007): the grain at which best-available buyers skip each other."""

    __tablename__ = "tier_rows"
    __table_args__ = (
        # Named as migration 0007 made it (before the convention's full column list).
        UniqueConstraint("tier_id", "section", "row_label", name=conv("uq_tier_rows_tier_id")),
        Index(
            "ix_tier_rows_claim", "tier_id", "grid_y", "id", postgresql_where=text("max_run > 0")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(40), default="")  # "" outside any section
    row_label: Mapped[str] = mapped_column(String(10))
    grid_y: Mapped[int]
    # Twice the section's middle `grid_x` (an integer): best available aims there.
    centre_x2: Mapped[int] = mapped_column(default=0)
    # Sorted positions (`grid_x`) of the seats best available may hand out.
    free_x: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    free: Mapped[int] = mapped_column(Computed("cardinality(free_x)"))
    max_run: Mapped[int] = mapped_column(Computed("longest_run(free_x)"))


class TicketStatus(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    VOID = "void"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The second line of defence against selling a unit twice.
        Index(
            "uq_tickets_live_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("status <> 'void'"),
        ),
        # The tickets a door expects, counted per tier (migration 0014).
        Index("ix_tickets_tier_valid", "tier_id", postgresql_where=text("status = 'valid'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("units.id"))
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id"))
    # Opaque secret in the QR code; check-in never looks tickets up by id.
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    holder_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[TicketStatus] = mapped_column(
        str_enum(TicketStatus, "ticket_status"), default=TicketStatus.VALID
    )
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="tickets")
    unit: Mapped[Unit] = relationship()
    tier: Mapped[TicketTier] = relationship()


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CONVERTED = "converted"
    EXPIRED = "expired"
    LEFT = "left"
    CLOSED = "closed"  # the event was cancelled


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index(
            "uq_waitlist_active_user",
            "tier_id",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
        Index("ix_waitlist_tier_queue", "tier_id", "created_at"),
        Index(
            "ix_waitlist_waiting",
            "tier_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'waiting'"),
        ),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    quantity: Mapped[int]
    status: Mapped[WaitlistStatus] = mapped_column(
        str_enum(WaitlistStatus, "waitlist_status"), default=WaitlistStatus.WAITING
    )
    # The held booking made for this entry when it is offered.
    booking_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("bookings.id", ondelete="SET NULL")
    )
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tier: Mapped[TicketTier] = relationship()
    user: Mapped[User | None] = relationship()
