"""Public reads of /api/v1 (no token needed): the event search, an event, its tiers with what is
left of them, and its seat map. Each answer carries a strong ETag of its body and
`Cache-Control: no-cache`: a client may keep it but must ask again before using it, so
availability is never served stale, and a matching If-None-Match gets a bodiless 304."""

from __future__ import annotations

from typing import TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError

from app.db import get_session
from app.domain.base import NotFound, utcnow
from app.domain.events.keyset import BadSearch, search_page
from app.domain.events.models import Event
from app.domain.events.search import parse_search_args
from app.domain.events.visibility import visible_event
from app.domain.ticketing.catalog import ticket_panel
from app.domain.ticketing.seatmap_view import SeatMapView, seat_map_view
from app.web.api import bp
from app.web.api.openapi import ID_MAX, operation
from app.web.api.schemas import (
    EventDetail,
    EventPage,
    EventSearchQuery,
    EventSummary,
    Seat,
    SeatMap,
    SeatMapQuery,
    SeatRow,
    SeatSection,
    SeatZone,
    TierAvailability,
    TierList,
)
from app.web.public.events import event_url, media_url
from app.web.public.seats import seated_event_or_404

M = TypeVar("M", bound=BaseModel)
NOT_FOUND = "We could not find that event."


def query_as(model: type[M]) -> M:
    """The query string as `model`; a value of the wrong type or size is a 400."""
    args = {
        name: request.args.getlist(name)
        if name in model.model_fields and model.model_fields[name].annotation == list[str]
        else value
        for name, value in request.args.items()
    }
    try:
        return model.model_validate(args)
    except ValidationError as error:
        problems = "; ".join(
            f"`{'.'.join(str(part) for part in e['loc'])}`: {e['msg']}" for e in error.errors()
        )
        raise BadSearch(f"Check the query: {problems}.", code="bad_query") from None


def etagged_json(model: BaseModel) -> Response:
    response = current_app.response_class(model.model_dump_json(), mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _public_event(event_id: int) -> Event:
    """The event as its public page shows it to anyone; else 404."""
    if event_id > ID_MAX:
        raise NotFound(NOT_FOUND)
    return visible_event(get_session(), event_id, None)


def _summary_fields(event: Event) -> dict[str, object]:
    return {
        "id": event.id,
        "title": event.title,
        "url": event_url(event, external=True),
        "status": event.status,
        "event_type": event.event_type,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "venue_name": event.venue_name,
        "city": event.city,
        "category": event.category.slug if event.category else None,
        "tags": list(event.tags or []),
        "min_price_minor": event.min_price_minor,
        "currency": event.currency,
        "is_seated": event.is_seated,
    }


@bp.get("/events")
@operation(
    summary="Search events",
    tag="events",
    query=EventSearchQuery,
    response=EventPage,
    errors=(400,),
    etag=True,
)
def events() -> Response:
    """Published, not yet ended events with the search page's filters, a page at a time."""
    query = query_as(EventSearchQuery)
    args = query.model_dump(by_alias=True, exclude={"tag", "cursor", "limit"}, exclude_none=True)
    params, notices = parse_search_args(args, tags=query.tag)
    if notices:
        raise BadSearch(" ".join(notices))
    page = search_page(
        get_session(),
        params,
        secret=current_app.config["SECRET_KEY"],
        cursor=query.cursor,
        limit=query.limit,
        now=utcnow(),
        zone=current_app.config["EVENTS_DISPLAY_TZ"],
    )
    items = [EventSummary.model_validate(_summary_fields(event)) for event in page.events]
    return etagged_json(EventPage(items=items, next_cursor=page.cursor))


@bp.get("/events/<int:event_id>")
@operation(summary="An event", tag="events", response=EventDetail, errors=(404,), etag=True)
def event(event_id: int) -> Response:
    """What the event's public page shows."""
    found = _public_event(event_id)
    detail = {
        **_summary_fields(found),
        "description": found.description,
        "address": found.address,
        "organizer": found.organizer.name,
        "cover_image_url": media_url(found.cover_image, external=True),
        "cancellation_note": found.cancellation_note,
    }
    return etagged_json(EventDetail.model_validate(detail))


@bp.get("/events/<int:event_id>/tiers")
@operation(
    summary="An event's tiers and availability",
    tag="events",
    response=TierList,
    errors=(404,),
    etag=True,
)
def tiers(event_id: int) -> Response:
    """The tiers the event page offers (hidden ones left out), with the units left now."""
    found = _public_event(event_id)
    panel = ticket_panel(get_session(), found, now=utcnow())
    offers = [
        TierAvailability(
            id=offer.tier.id,
            name=offer.tier.name,
            kind=offer.tier.kind,
            description=offer.tier.description,
            price_minor=offer.tier.price_minor,
            currency=offer.tier.currency,
            remaining=offer.remaining,
            sold_out=offer.sold_out,
            on_sale=offer.on_sale and panel.on_sale and not panel.closed_note,
            sale_note=offer.sale_note or panel.closed_note,
            sales_start=offer.tier.sales_start,
            sales_end=offer.tier.sales_end,
            min_per_order=offer.tier.min_per_order,
            max_per_order=offer.tier.max_per_order,
            per_user_limit=offer.tier.per_user_limit,
        )
        for offer in panel.offers
    ]
    answer = TierList(
        event_id=found.id,
        on_sale=panel.on_sale and not panel.closed_note,
        closed_note=panel.closed_note,
        has_hidden=panel.has_hidden,
        tiers=offers,
    )
    return etagged_json(answer)


@bp.get("/events/<int:event_id>/seatmap")
@operation(
    summary="An event's seat map",
    tag="events",
    query=SeatMapQuery,
    response=SeatMap,
    errors=(400, 404),
    etag=True,
)
def seatmap(event_id: int) -> Response:
    """The seat picker's map of a seated event, each seat free, held, sold or blocked now."""
    query = query_as(SeatMapQuery)
    if event_id > ID_MAX:
        raise NotFound(NOT_FOUND)
    found = seated_event_or_404(event_id)
    view = seat_map_view(get_session(), found, now=utcnow(), section=query.section)
    return etagged_json(_seat_map(view))


def _seat_map(view: SeatMapView) -> SeatMap:
    zones = [
        SeatZone(
            tier_id=zone.tier_id,
            name=zone.name,
            price_minor=zone.price_minor,
            currency=zone.currency,
            on_sale=zone.on_sale,
        )
        for zone in view.zones
    ]
    sections = [
        SeatSection(
            index=section.index,
            name=section.name,
            seats=section.seats,
            free=section.free,
            rows=[
                SeatRow(
                    label=row.label,
                    name=row.name,
                    seats=[
                        Seat(
                            id=cell.id,
                            number=cell.number,
                            name=cell.name,
                            state=cell.state,
                            accessible=cell.accessible,
                            tier_id=cell.zone.tier_id if cell.zone else None,
                            gap=cell.gap,
                        )
                        for cell in row.cells
                    ],
                )
                for row in section.rows
            ],
        )
        for section in view.sections
    ]
    return SeatMap(
        event_id=view.event_id, paged=view.paged, shown=view.shown, zones=zones, sections=sections
    )
