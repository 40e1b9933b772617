"""The organizer API's request and response types (the OpenAPI document takes its schemas from
them). The limits are the domain's own constants (`events.editing`, `ticketing.tiers`), the
rules behind them the services' (`validate_event_input`, `tiers.validate`): a value these types
let through can still be refused, with the message the organizer's pages show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.backoffice.attendees import CHECKED_IN_CHOICES, MAX_QUERY
from app.domain.events.editing import DESCRIPTION_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX
from app.domain.events.models import EventStatus, EventType
from app.domain.teams.access import Permission
from app.domain.ticketing import tiers
from app.domain.ticketing.models import BookingStatus, TierKind
from app.web.api.booking_schemas import PAGE_DEFAULT, PAGE_MAX
from app.web.api.schemas import BIGINT_MAX, CURSOR, ID_MAX, cursor_up_to

YEARS = (2000, 2100)  # the event form's range of dates
TEXT_MAX = 500  # venue, address, city, join link: the domain's limits are below this


class Text(BaseModel):
    """Refuses text PostgreSQL cannot store (a NUL, or half of a surrogate pair that JSON's
    `\\ud800` escapes can carry), as a bad request rather than a failed statement."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        values = data.values() if isinstance(data, dict) else ()
        for value in values:
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and not _storable(text):
                    raise ValueError("text with a NUL or a lone surrogate cannot be stored")
        return data


def _storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _left_out(schema: dict[str, Any]) -> None:
    """A field a client may leave out, whose null default only means "not sent"."""
    schema.pop("default", None)


def _in_years(value: datetime | None) -> datetime | None:
    if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"use a date between the years {YEARS[0]} and {YEARS[1]}")
    return value


class OrganizerEventQuery(Text):
    status: str | None = Field(
        None,
        description="Only events in this state",
        json_schema_extra={"enum": [status.value for status in EventStatus]},
    )
    cursor: str | None = CURSOR
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)

    _cursor = cursor_up_to(ID_MAX)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and value not in {status.value for status in EventStatus}:
            raise ValueError("choose a status from the list")
        return value


class OrganizerEventSummary(BaseModel):
    id: int
    title: str
    status: EventStatus
    event_type: EventType
    starts_at: datetime
    ends_at: datetime
    timezone: str
    city: str | None
    is_seated: bool
    currency: str
    min_price_minor: int | None
    permissions: list[Permission] = Field(description="What you may do on it (owner: all)")


class OrganizerEventPage(BaseModel):
    items: list[OrganizerEventSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class SpeakerOut(BaseModel):
    name: str
    title: str | None
    bio: str | None
    photo: str | None = Field(description="The stored image's key")


class OrganizerEventDetail(OrganizerEventSummary):
    description: str = Field(description="Markdown")
    venue_name: str | None
    address: str | None
    online_url: str | None
    category_id: int | None
    tags: list[str]
    cover_image: str | None = Field(description="The stored image's key")
    speakers: list[SpeakerOut]
    cancellation_note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    pending_review: bool = Field(
        description="Changes to this published event wait for an admin's review"
    )


class EventWrite(Text):
    """An event's fields as the organizer's event form has them. Times without an offset are
    wall-clock times in `timezone`; with one, they are converted to it. Images and speakers
    are kept as they are (the pages upload them)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(max_length=TITLE_MAX * 2)
    description: str = Field("", max_length=DESCRIPTION_MAX * 2)
    event_type: EventType = Field(EventType.OFFLINE, strict=False)
    venue_name: str = Field("", max_length=TEXT_MAX)
    address: str = Field("", max_length=TEXT_MAX)
    city: str = Field("", max_length=TEXT_MAX)
    online_url: str = Field("", max_length=TEXT_MAX * 2)
    starts_at: datetime = Field(strict=False)
    ends_at: datetime = Field(strict=False)
    timezone: str = Field(max_length=64, description="An IANA zone, such as Europe/Berlin")
    category_id: int | None = Field(None, ge=1, le=ID_MAX)
    tags: list[str] = Field(default_factory=list, max_length=TAGS_MAX * 2)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _years(cls, value: datetime) -> datetime | None:
        return _in_years(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any("," in tag or len(tag) > TAG_MAX for tag in value):
            raise ValueError(f"a tag has no comma and at most {TAG_MAX} characters")
        return value


class EventCreate(EventWrite):
    """A new draft."""


class EventUpdate(EventWrite):
    """Changes: the fields sent replace the event's (or, for a published event, go to review
    when they are material, as on the form); the others stay as they are."""

    title: str = Field(None, max_length=TITLE_MAX * 2, json_schema_extra=_left_out)  # type: ignore[assignment]
    starts_at: datetime = Field(None, strict=False, json_schema_extra=_left_out)  # type: ignore[assignment]
    ends_at: datetime = Field(None, strict=False, json_schema_extra=_left_out)  # type: ignore[assignment]
    timezone: str = Field(None, max_length=64, json_schema_extra=_left_out)  # type: ignore[assignment]


class TierOut(BaseModel):
    id: int
    name: str
    kind: TierKind
    description: str
    price_minor: int
    currency: str
    capacity: int
    sales_start: datetime | None
    sales_end: datetime | None
    min_per_order: int
    max_per_order: int
    per_user_limit: int | None
    hidden: bool
    access_code: str | None
    position: int
    sold: int = Field(description="Units of confirmed bookings")
    held: int = Field(description="Units of holds waiting for payment")
    available: int = Field(description="Units free to sell now")


class OrganizerTierList(BaseModel):
    event_id: int
    tiers: list[TierOut]


class TierWrite(Text):
    """A tier's settings as the tier form has them; times without an offset are wall-clock
    times in the event's time zone."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=tiers.NAME_MAX * 2)
    kind: TierKind = Field(TierKind.FREE, strict=False)
    description: str = Field("", max_length=tiers.DESCRIPTION_MAX * 2)
    price_minor: int = Field(0, ge=0, le=tiers.MAX_PRICE_MINOR)
    currency: str = Field(  # type: ignore[assignment]
        None,
        min_length=3,
        max_length=3,
        description="Default: the event's",
        json_schema_extra=_left_out,
    )
    capacity: int = Field(100, ge=0, le=tiers.MAX_CAPACITY)
    sales_start: datetime | None = Field(None, strict=False)
    sales_end: datetime | None = Field(None, strict=False)
    min_per_order: int = Field(1, ge=1, le=tiers.MAX_PER_ORDER)
    max_per_order: int = Field(10, ge=1, le=tiers.MAX_PER_ORDER)
    per_user_limit: int | None = Field(
        None, ge=1, le=tiers.MAX_PER_USER, description="Default on create: the site's"
    )
    hidden: bool = False
    access_code: str | None = Field(None, max_length=tiers.MAX_ACCESS_CODE)
    position: int = Field(0, ge=0, le=tiers.MAX_POSITION)

    @field_validator("sales_start", "sales_end")
    @classmethod
    def _years(cls, value: datetime | None) -> datetime | None:
        return _in_years(value)


class TierCreate(TierWrite):
    """A new tier (and its units)."""


class TierUpdate(TierWrite):
    """Changes: the fields sent replace the tier's; capacity goes up freely and down to what
    is sold or held."""

    name: str = Field(None, max_length=tiers.NAME_MAX * 2, json_schema_extra=_left_out)  # type: ignore[assignment]


class AttendeeQuery(Text):
    """The attendee page's filters, and a cursor instead of a page number."""

    q: str | None = Field(None, max_length=MAX_QUERY, description="Name, email or reference")
    tier: int | None = Field(None, ge=1, le=ID_MAX, description="One of the event's tiers")
    status: str | None = Field(
        None, json_schema_extra={"enum": [status.value for status in BookingStatus]}
    )
    checked_in: str | None = Field(None, json_schema_extra={"enum": list(CHECKED_IN_CHOICES)})
    cursor: str | None = CURSOR
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)

    _cursor = cursor_up_to(BIGINT_MAX)


class AttendeeOut(BaseModel):
    ticket_id: int
    buyer_name: str
    buyer_email: str
    holder_name: str
    reference: str
    tier: str
    seat: str
    status: BookingStatus
    checked_in_at: datetime | None


class AttendeePage(BaseModel):
    items: list[AttendeeOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class TierSalesOut(BaseModel):
    id: int
    name: str
    sold: int
    sold_by_day: list[int] = Field(description="Tickets sold each day of `days`")


class RevenueOut(BaseModel):
    currency: str
    gross: int = Field(description="Charged, after discounts, in minor units")
    discounts: int
    refunds: int
    net: int


class SalesOut(BaseModel):
    """The analytics page's sales figures (see app/domain/backoffice/analytics.py)."""

    event_id: int
    timezone: str
    days: list[date] = Field(description="Days in the event's time zone")
    days_cut: bool = Field(description="The sale is longer: its first days are left out")
    sold: int
    tiers: list[TierSalesOut]
    revenue: list[RevenueOut]
