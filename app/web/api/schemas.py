"""The public read API's query and response types: the views build their answers with them, and
the OpenAPI document (app/web/api/openapi.py) takes its schemas from them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain.events.keyset import LIMIT_DEFAULT, LIMIT_MAX
from app.domain.events.models import EventStatus, EventType
from app.domain.events.search import CITY_MAX, PRICES, QUERY_MAX, SORTS, WHEN
from app.domain.ticketing.models import TierKind
from app.domain.ticketing.seatmap_view import SeatState

ID_MAX = 2**31 - 1  # the largest id of an integer column
BIGINT_MAX = 2**63 - 1  # of a bigint one (tickets')
CURSOR = Field(None, max_length=19, pattern=r"^[0-9]+$", description="A page's `next_cursor`")


def cursor_up_to(maximum: int) -> Any:
    """A validator of a `cursor` field naming an id: one past `maximum` cannot be ours (and
    would fail in the database rather than as a bad request)."""

    def check(value: str | None) -> str | None:
        if value is not None and int(value) > maximum:
            raise ValueError("that cursor is not one of ours")
        return value

    return field_validator("cursor")(check)


def _choice(values: Iterable[str], description: str) -> Any:
    # Checked by the search itself (`parse_search_args`); the schema only lists the values.
    # Empty is "any", as the search page's form sends it.
    return Field(None, description=description, json_schema_extra={"enum": ["", *values]})


class Problem(BaseModel):
    """An error, as RFC 9457 problem details; `code` is stable, clients switch on it."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class EventSearchQuery(BaseModel):
    """The search page's filters, and a cursor instead of a page number."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    q: str | None = Field(None, max_length=QUERY_MAX, description="Words to find")
    category: str | None = Field(None, max_length=80, description="A category's slug")
    type: str | None = _choice([t.value for t in EventType], "Online, offline or hybrid")
    when: str | None = _choice(WHEN, "A quick date range")
    date_from: str | None = Field(
        None, alias="from", description="First day", json_schema_extra={"format": "date"}
    )
    date_to: str | None = Field(
        None, alias="to", description="Last day", json_schema_extra={"format": "date"}
    )
    tag: list[str] = Field(default_factory=list, max_length=5, description="All must match")
    price: str | None = _choice(PRICES, "Free or paid")
    city: str | None = Field(None, max_length=CITY_MAX)
    sort: str | None = _choice(SORTS, "Default: relevance with `q`, else soonest")
    cursor: str | None = Field(None, max_length=2000, description="A page's `next_cursor`")
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX)


class EventSummary(BaseModel):
    id: int
    title: str
    url: str = Field(description="The event's public page")
    status: EventStatus
    event_type: EventType
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue_name: str | None
    city: str | None
    category: str | None = Field(description="The category's slug")
    tags: list[str]
    min_price_minor: int | None = Field(description="The lowest tier price, in minor units")
    currency: str
    is_seated: bool


class EventPage(BaseModel):
    items: list[EventSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class EventDetail(EventSummary):
    description: str = Field(description="Markdown")
    address: str | None
    organizer: str
    cover_image_url: str | None
    cancellation_note: str | None


class SeatMapQuery(BaseModel):
    section: int | None = Field(
        None, ge=0, le=999_999, description="A part of a large venue (`paged` maps)"
    )


class TierAvailability(BaseModel):
    id: int
    name: str
    kind: TierKind
    description: str
    price_minor: int
    currency: str
    remaining: int = Field(description="Units left now")
    sold_out: bool
    on_sale: bool
    sale_note: str = Field(description="Why it is not on sale, else empty")
    sales_start: datetime | None
    sales_end: datetime | None
    min_per_order: int
    max_per_order: int
    per_user_limit: int | None


class TierList(BaseModel):
    event_id: int
    on_sale: bool
    closed_note: str = Field(description="Why the event sells nothing any more, else empty")
    has_hidden: bool = Field(description="Some tier needs an access code")
    tiers: list[TierAvailability]


class SeatZone(BaseModel):
    tier_id: int
    name: str
    price_minor: int
    currency: str
    on_sale: bool


class Seat(BaseModel):
    id: int
    number: str
    name: str
    state: SeatState
    accessible: bool
    tier_id: int | None
    gap: int = Field(description="Empty places (aisles) before this seat in its row")


class SeatRow(BaseModel):
    label: str
    name: str
    seats: list[Seat]


class SeatSection(BaseModel):
    index: int
    name: str | None
    seats: int
    free: int
    rows: list[SeatRow] = Field(description="Empty for parts not shown")


class SeatMap(BaseModel):
    event_id: int
    paged: bool = Field(description="Shown one part at a time: pass `section`")
    shown: int | None
    zones: list[SeatZone]
    sections: list[SeatSection]
