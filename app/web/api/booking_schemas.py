"""The bookings API's request and response types (the OpenAPI document takes its schemas from
them). The limits are the booking form's: `BookingForm` and `MAX_SEATS_PER_ORDER`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.ticketing.allocation import MAX_SEATS_PER_ORDER
from app.domain.ticketing.models import BookingStatus, TicketStatus
from app.web.api.schemas import CURSOR, ID_MAX, cursor_up_to

QUANTITY_MAX = 100  # the booking form's NumberRange
PAGE_DEFAULT = 20
PAGE_MAX = 100


class BookingCreate(BaseModel):
    """General admission (`tier_id` and `quantity`) or chosen seats (`seat_ids`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    event_id: int = Field(ge=1, le=2**31 - 1)
    tier_id: int | None = Field(None, ge=1, le=2**31 - 1)
    quantity: int | None = Field(None, ge=1, le=QUANTITY_MAX)
    seat_ids: list[int] | None = Field(None, min_length=1, max_length=MAX_SEATS_PER_ORDER)
    access_code: str | None = Field(None, min_length=1, max_length=64)
    allow_single_seats: bool = Field(
        True, description="Hold seats even if they leave a free seat alone in its row"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> BookingCreate:
        if self.seat_ids is not None:
            if self.tier_id is not None or self.quantity is not None:
                raise ValueError("send either `seat_ids` or `tier_id` and `quantity`, not both")
        elif self.tier_id is None or self.quantity is None:
            raise ValueError("send `tier_id` and `quantity` (general admission) or `seat_ids`")
        return self


class CheckoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    provider: str = Field(min_length=1, max_length=40, description="One the event accepts")


class BookingLineOut(BaseModel):
    tier_id: int
    tier_name: str
    quantity: int
    unit_price_minor: int
    seat_ids: list[int]


class BookingOut(BaseModel):
    reference: str
    event_id: int
    status: BookingStatus = Field(description="A hold that ran out shows as expired")
    quantity: int
    total_minor: int
    discount_minor: int
    currency: str
    hold_expires_at: datetime | None
    created_at: datetime
    lines: list[BookingLineOut]


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class BookingListQuery(BaseModel):
    cursor: str | None = CURSOR
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)

    _cursor = cursor_up_to(ID_MAX)


class CheckoutOut(BaseModel):
    payment_id: int
    provider: str
    checkout_url: str | None = Field(description="Where the buyer pays; null: on our page")
    booking_url: str = Field(description="The booking's page, where on-page checkouts run")


class TicketOut(BaseModel):
    id: int
    number: int
    status: TicketStatus
    tier_name: str
    seat: str | None
    attendee: str
    qr_payload: str | None = Field(description="The signed text of the ticket's QR; null: void")
    checked_in_at: datetime | None


class TicketList(BaseModel):
    reference: str
    tickets: list[TicketOut]
