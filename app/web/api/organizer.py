"""The organizer's API, /api/v1/organizer: their events, tiers, attendees and sales to read
(`organizer:read`); drafts, changes, tiers and submitting for review (`organizer:write`).

The same policy as the back office pages, not a copy of it: who reaches an event, and with
which permission, is `teams.access.event_for` (another organizer's event is "not found"); who
must have 2FA is `teams.access.needs_two_factor`; each change is the page's domain service,
with its rules and audit entry. Every create takes an `Idempotency-Key`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, current_app

from app.db import get_session
from app.domain.accounts.models import Role, User
from app.domain.backoffice import attendees
from app.domain.backoffice.analytics import event_analytics
from app.domain.base import Forbidden, NotFound, utcnow
from app.domain.events import revisions
from app.domain.events.editing import (
    EventInput,
    SpeakerInput,
    create_event,
    is_time_zone,
    update_event,
)
from app.domain.events.errors import EventInvalid
from app.domain.events.lifecycle import submit_event
from app.domain.events.models import Event, EventStatus
from app.domain.teams import access as team_access
from app.domain.teams.access import Permission
from app.domain.teams.reachable import reachable_events
from app.domain.ticketing import tiers as tier_service
from app.domain.ticketing.models import TicketTier
from app.web.api import bp
from app.web.api.bookings import idempotent, json_answer, json_body
from app.web.api.events import etagged_json, query_as
from app.web.api.guard import api_caller, api_user
from app.web.api.openapi import ID_MAX, operation
from app.web.api.organizer_schemas import (
    AttendeeOut,
    AttendeePage,
    AttendeeQuery,
    EventCreate,
    EventUpdate,
    EventWrite,
    OrganizerEventDetail,
    OrganizerEventPage,
    OrganizerEventQuery,
    OrganizerEventSummary,
    OrganizerTierList,
    RevenueOut,
    SalesOut,
    SpeakerOut,
    TierCreate,
    TierOut,
    TierSalesOut,
    TierUpdate,
)
from app.web.api.problems import problem
from app.web.organizer.tiers import local_to_utc
from app.web.public.booking import offer_settings

F = TypeVar("F", bound=Callable[..., Any])
READ = "organizer:read"
WRITE = "organizer:write"
TAG = "organizer"
PREFIX = "/organizer/events"
NOT_FOUND = "We could not find that event."


def organizer_api(scope: str) -> Callable[[F], F]:
    """Let the route run for a token with `scope` of an organizer, or of a member of an
    organizer's team, who meets the back office's 2FA rule (as `requires_organizer_or_member`
    does for the pages)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            session = get_session()
            user = api_caller().user
            if user.role != Role.ORGANIZER and not team_access.in_a_team(session, user.id):
                raise Forbidden(
                    "This is for organizers and the members of their teams.", code="not_organizer"
                )
            team_access.require_two_factor(session, user)
            return view(*args, **kwargs)

        return api_user(scope=scope)(wrapped)  # type: ignore[return-value]

    return decorator


def _user() -> User:
    return api_caller().user


def _event(event_id: int, need: Permission) -> Event:
    if event_id > ID_MAX:
        raise NotFound(NOT_FOUND)
    return team_access.event_for(get_session(), _user(), event_id, need)


def _summary(event: Event, permissions: frozenset[Permission]) -> dict[str, object]:
    return {
        "id": event.id,
        "title": event.title,
        "status": event.status,
        "event_type": event.event_type,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "city": event.city,
        "is_seated": event.is_seated,
        "currency": event.currency,
        "min_price_minor": event.min_price_minor,
        "permissions": sorted(permissions),
    }


def _detail(event: Event) -> OrganizerEventDetail:
    session = get_session()
    pending = event.status == EventStatus.PUBLISHED and (
        revisions.pending_revision(session, event.id) is not None
    )
    return OrganizerEventDetail(
        **_summary(event, team_access.permissions_on(session, _user(), event)),  # type: ignore[arg-type]
        description=event.description,
        venue_name=event.venue_name,
        address=event.address,
        online_url=event.online_url,
        category_id=event.category_id,
        tags=list(event.tags or []),
        cover_image=event.cover_image,
        speakers=[
            SpeakerOut(name=s.name, title=s.title, bio=s.bio, photo=s.photo) for s in event.speakers
        ],
        cancellation_note=event.cancellation_note,
        version=event.version,
        created_at=event.created_at,
        updated_at=event.updated_at,
        pending_review=pending,
    )


def _invalid(error: EventInvalid) -> Response:
    """Every field's problems at once, as the form shows them next to their fields."""
    detail = " ".join(
        f"`{field}`: {' '.join(messages)}" for field, messages in error.errors.items()
    )
    return problem(422, error.code, detail)


@bp.get(PREFIX)
@operation(
    summary="Your events",
    tag=TAG,
    query=OrganizerEventQuery,
    response=OrganizerEventPage,
    errors=(400, 403),
    bearer=True,
    etag=True,
)
@organizer_api(READ)
def organizer_events() -> Response:
    """Your events and your teams' owners' events, every status, newest first."""
    query = query_as(OrganizerEventQuery)
    found, next_id = reachable_events(
        get_session(),
        _user(),
        status=EventStatus(query.status) if query.status else None,
        before_id=int(query.cursor) if query.cursor else None,
        limit=query.limit,
    )
    page = OrganizerEventPage(
        items=[
            OrganizerEventSummary.model_validate(_summary(item.event, item.permissions))
            for item in found
        ],
        next_cursor=str(next_id) if next_id is not None else None,
    )
    return etagged_json(page)


@bp.get(f"{PREFIX}/<int:event_id>")
@operation(
    summary="One of your events",
    tag=TAG,
    response=OrganizerEventDetail,
    errors=(403, 404),
    bearer=True,
    etag=True,
)
@organizer_api(READ)
def organizer_event(event_id: int) -> Response:
    """The event as its form has it (the approved version while changes wait for review)."""
    return etagged_json(_detail(_event(event_id, Permission.MANAGE)))


def _wall_clock(moment: datetime, zone: str) -> datetime:
    """`moment` as a wall-clock time in `zone`, as the form takes it."""
    if moment.tzinfo is None:
        return moment
    target = ZoneInfo(zone) if is_time_zone(zone) else UTC  # a bad zone is refused anyway
    return moment.astimezone(target).replace(tzinfo=None)


def _event_input(base: Event | None, body: EventWrite, given: set[str]) -> EventInput:
    """The form's input: the fields sent, over `base`'s values (None: a new event's)."""
    data = EventInput()
    if base is not None:
        zone = ZoneInfo(base.timezone)
        data = EventInput(
            title=base.title,
            description=base.description,
            event_type=base.event_type.value,
            venue_name=base.venue_name or "",
            address=base.address or "",
            city=base.city or "",
            online_url=base.online_url or "",
            starts_local=base.starts_at.astimezone(zone).replace(tzinfo=None),
            ends_local=base.ends_at.astimezone(zone).replace(tzinfo=None),
            timezone=base.timezone,
            category_id=base.category_id,
            tags=", ".join(base.tags or []),
            cover_image=base.cover_image,
            speakers=[
                SpeakerInput(name=s.name, title=s.title or "", bio=s.bio or "", photo=s.photo)
                for s in base.speakers
            ],
        )
    for name in ("title", "description", "venue_name", "address", "city", "online_url"):
        if name in given:
            setattr(data, name, getattr(body, name))
    if "event_type" in given:
        data.event_type = body.event_type.value
    if "timezone" in given:
        data.timezone = body.timezone
    if "category_id" in given:
        data.category_id = body.category_id
    if "tags" in given:
        data.tags = ", ".join(body.tags)
    if "starts_at" in given:
        data.starts_local = _wall_clock(body.starts_at, data.timezone)
    if "ends_at" in given:
        data.ends_local = _wall_clock(body.ends_at, data.timezone)
    return data


@bp.post(PREFIX)
@operation(
    summary="Create a draft event",
    tag=TAG,
    body=EventCreate,
    response=OrganizerEventDetail,
    status=201,
    errors=(400, 403, 409, 415, 422),
    bearer=True,
    idempotent=True,
)
@organizer_api(WRITE)
@idempotent
def create_organizer_event() -> Response:
    """A new draft of yours, as the new event form makes it (team members have none)."""
    user = _user()
    if user.role != Role.ORGANIZER:
        raise Forbidden("Only organizers create events.", code="not_organizer")
    body = json_body(EventCreate)
    try:
        event = create_event(
            get_session(), user, _event_input(None, body, body.model_fields_set), now=utcnow()
        )
    except EventInvalid as error:
        return _invalid(error)
    response = json_answer(_detail(event), 201)
    response.headers["Location"] = f"{bp.url_prefix}{PREFIX}/{event.id}"
    return response


@bp.patch(f"{PREFIX}/<int:event_id>")
@operation(
    summary="Change an event",
    tag=TAG,
    body=EventUpdate,
    response=OrganizerEventDetail,
    errors=(400, 403, 404, 409, 415, 422),
    bearer=True,
)
@organizer_api(WRITE)
def update_organizer_event(event_id: int) -> Response:
    """Save changes as the event form does: a published event's material ones wait for an
    admin's review (`pending_review`)."""
    event = _event(event_id, Permission.MANAGE)
    body = json_body(EventUpdate)
    session = get_session()
    pending = None
    if event.status == EventStatus.PUBLISHED:
        pending = revisions.pending_revision(session, event.id)
    base = revisions.as_proposed(event, pending) if pending else event
    data = _event_input(base, body, body.model_fields_set)
    try:
        update_event(session, event, data, actor=_user(), now=utcnow())
    except EventInvalid as error:
        return _invalid(error)
    return json_answer(_detail(event))


@bp.post(f"{PREFIX}/<int:event_id>/submit")
@operation(
    summary="Submit an event for review",
    tag=TAG,
    response=OrganizerEventDetail,
    errors=(403, 404, 409),
    bearer=True,
)
@organizer_api(WRITE)
def submit_organizer_event(event_id: int) -> Response:
    """Send a draft (or a rejected event) to the admins' review, as the dashboard does; an
    admin's approval publishes it."""
    event = _event(event_id, Permission.MANAGE)
    submit_event(get_session(), event, actor=_user(), now=utcnow())
    return json_answer(_detail(event))


def _tier_out(tier: TicketTier, sales: tier_service.TierSales) -> TierOut:
    return TierOut(
        id=tier.id,
        name=tier.name,
        kind=tier.kind,
        description=tier.description,
        price_minor=tier.price_minor,
        currency=tier.currency,
        capacity=tier.capacity,
        sales_start=tier.sales_start,
        sales_end=tier.sales_end,
        min_per_order=tier.min_per_order,
        max_per_order=tier.max_per_order,
        per_user_limit=tier.per_user_limit,
        hidden=tier.hidden,
        access_code=tier.access_code,
        position=tier.position,
        sold=sales.sold,
        held=sales.held,
        available=sales.free,
    )


def _one_tier_out(tier: TicketTier) -> TierOut:
    sales = tier_service.tier_sales(get_session(), tier.event_id)
    return _tier_out(tier, sales.get(tier.id, tier_service.TierSales()))


@bp.get(f"{PREFIX}/<int:event_id>/tiers")
@operation(
    summary="Your event's tiers",
    tag=TAG,
    response=OrganizerTierList,
    errors=(403, 404),
    bearer=True,
    etag=True,
)
@organizer_api(READ)
def organizer_tiers(event_id: int) -> Response:
    """Every tier (hidden ones too) with its units sold, held and available, as the tiers
    page shows them."""
    event = _event(event_id, Permission.MANAGE)
    session = get_session()
    sales = tier_service.tier_sales(session, event.id)
    found = [
        _tier_out(tier, sales.get(tier.id, tier_service.TierSales()))
        for tier in tier_service.event_tiers(session, event)
    ]
    return etagged_json(OrganizerTierList(event_id=event.id, tiers=found))


def _moment(value: datetime | None, event: Event) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value.astimezone(UTC) if value is not None else None
    return local_to_utc(value, event.timezone)


def _tier_data(
    event: Event, base: tier_service.TierData, body: TierCreate | TierUpdate
) -> tier_service.TierData:
    """`base` with the fields sent."""
    values = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("sales_start", "sales_end"):
        if name in values:
            values[name] = _moment(values[name], event)
    if "currency" in values:
        values["currency"] = values["currency"].upper()
    return tier_service.TierData(**{**vars(base), **values})


@bp.post(f"{PREFIX}/<int:event_id>/tiers")
@operation(
    summary="Create a tier",
    tag=TAG,
    body=TierCreate,
    response=TierOut,
    status=201,
    errors=(400, 403, 404, 409, 415, 422),
    bearer=True,
    idempotent=True,
)
@organizer_api(WRITE)
@idempotent
def create_organizer_tier(event_id: int) -> Response:
    """A new tier (and its units), with the tier form's defaults and rules."""
    event = _event(event_id, Permission.MANAGE)
    body = json_body(TierCreate)
    limit = int(current_app.config["TIER_DEFAULT_PER_USER_LIMIT"]) or None
    base = tier_service.TierData(
        name="",
        currency=event.currency,
        per_user_limit=limit,
        capacity=TierCreate.model_fields["capacity"].default,
    )
    tier = tier_service.create_tier(
        get_session(),
        event=event,
        data=_tier_data(event, base, body),
        actor_id=_user().id,
        now=utcnow(),
        offers=offer_settings(),
    )
    response = json_answer(_one_tier_out(tier), 201)
    response.headers["Location"] = f"{bp.url_prefix}{PREFIX}/{event.id}/tiers"
    return response


@bp.patch(f"{PREFIX}/<int:event_id>/tiers/<int:tier_id>")
@operation(
    summary="Change a tier",
    tag=TAG,
    body=TierUpdate,
    response=TierOut,
    errors=(400, 403, 404, 409, 415, 422),
    bearer=True,
)
@organizer_api(WRITE)
def update_organizer_tier(event_id: int, tier_id: int) -> Response:
    """Save a tier's settings as the tier form does; capacity goes down only to what is sold
    or held."""
    event = _event(event_id, Permission.MANAGE)
    session = get_session()
    tier = session.get(TicketTier, tier_id) if tier_id <= ID_MAX else None
    if tier is None or tier.event_id != event.id:
        raise NotFound("We could not find that ticket type.")
    body = json_body(TierUpdate)
    base = tier_service.TierData(
        name=tier.name,
        kind=tier.kind,
        description=tier.description,
        price_minor=tier.price_minor,
        currency=tier.currency,
        capacity=tier.capacity,
        sales_start=tier.sales_start,
        sales_end=tier.sales_end,
        min_per_order=tier.min_per_order,
        max_per_order=tier.max_per_order,
        per_user_limit=tier.per_user_limit,
        hidden=tier.hidden,
        access_code=tier.access_code,
        position=tier.position,
    )
    tier_service.update_tier(
        session,
        tier=tier,
        data=_tier_data(event, base, body),
        actor_id=_user().id,
        now=utcnow(),
        offers=offer_settings(),
    )
    return json_answer(_one_tier_out(tier))


@bp.get(f"{PREFIX}/<int:event_id>/attendees")
@operation(
    summary="Your event's attendees",
    tag=TAG,
    query=AttendeeQuery,
    response=AttendeePage,
    errors=(400, 403, 404),
    bearer=True,
    etag=True,
)
@organizer_api(READ)
def organizer_attendees(event_id: int) -> Response:
    """One row per ticket with its buyer, booking and check-in, filtered as on the attendee
    page, in ticket order, a page at a time."""
    event = _event(event_id, Permission.VIEW_SALES)
    query = query_as(AttendeeQuery)
    args = {
        "q": query.q or "",
        "tier": str(query.tier or ""),
        "status": query.status or "",
        "checked_in": query.checked_in or "",
    }
    session = get_session()
    chosen = attendees.parse_filter(session, event.id, args)
    rows, after = attendees.attendees_after(
        session,
        event.id,
        chosen,
        after=int(query.cursor) if query.cursor else None,
        limit=query.limit,
    )
    page = AttendeePage(
        items=[
            AttendeeOut(
                ticket_id=row.ticket_id,
                buyer_name=row.buyer_name,
                buyer_email=row.buyer_email,
                holder_name=row.holder_name,
                reference=row.reference,
                tier=row.tier,
                seat=row.seat,
                status=row.status,
                checked_in_at=row.checked_in_at,
            )
            for row in rows
        ],
        next_cursor=str(after) if after is not None else None,
    )
    return etagged_json(page)


@bp.get(f"{PREFIX}/<int:event_id>/sales")
@operation(
    summary="Your event's sales",
    tag=TAG,
    response=SalesOut,
    errors=(403, 404),
    bearer=True,
    etag=True,
)
@organizer_api(READ)
def organizer_sales(event_id: int) -> Response:
    """Tickets sold per day and tier, and revenue per currency, as the analytics page has
    them."""
    event = _event(event_id, Permission.VIEW_SALES)
    figures = event_analytics(get_session(), event)
    answer = SalesOut(
        event_id=event.id,
        timezone=figures.timezone,
        days=figures.days,
        days_cut=figures.days_cut,
        sold=figures.sold,
        tiers=[
            TierSalesOut(
                id=tier_id,
                name=name,
                sold=sum(figures.sold_by_day.get(tier_id, [])),
                sold_by_day=figures.sold_by_day.get(tier_id, [0] * len(figures.days)),
            )
            for tier_id, name in figures.tiers
        ],
        revenue=[
            RevenueOut(
                currency=money.currency,
                gross=money.gross,
                discounts=money.discounts,
                refunds=money.refunds,
                net=money.net,
            )
            for money in figures.money
        ],
    )
    return etagged_json(answer)
