"""The organizer's API, /api/v1/organizer: their events, tiers, attendees and sales to read
(`organizer:read`) here; drafts, changes, tiers and submitting for review (`organizer:write`)
in organizer_changes.py.

The same policy as the back office pages, not a copy of it: who reaches an event, and with
which permission, is `teams.access.event_for` (another organizer's event is "not found"); who
must have 2FA is `teams.access.needs_two_factor`; each change is the page's domain service,
with its rules and audit entry. Every create takes an `Idempotency-Key`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response

from app.db import get_session
from app.domain.accounts.models import Role, User
from app.domain.backoffice import attendees
from app.domain.backoffice.analytics import event_analytics
from app.domain.base import Forbidden, NotFound
from app.domain.events import revisions
from app.domain.events.models import Event, EventStatus
from app.domain.teams import access as team_access
from app.domain.teams.access import Permission
from app.domain.teams.reachable import reachable_events
from app.domain.ticketing import tiers as tier_service
from app.domain.ticketing.models import TicketTier
from app.web.api import bp
from app.web.api.events import etagged_json, query_as
from app.web.api.guard import api_caller, api_user
from app.web.api.openapi import ID_MAX, operation
from app.web.api.organizer_schemas import (
    AttendeeOut,
    AttendeePage,
    AttendeeQuery,
    OrganizerEventDetail,
    OrganizerEventPage,
    OrganizerEventQuery,
    OrganizerEventSummary,
    OrganizerTierList,
    RevenueOut,
    SalesOut,
    SpeakerOut,
    TierOut,
    TierSalesOut,
)

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


def caller() -> User:
    return api_caller().user


def reached_event(event_id: int, need: Permission) -> Event:
    if event_id > ID_MAX:
        raise NotFound(NOT_FOUND)
    return team_access.event_for(get_session(), caller(), event_id, need)


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


def event_detail(event: Event) -> OrganizerEventDetail:
    session = get_session()
    pending = event.status == EventStatus.PUBLISHED and (
        revisions.pending_revision(session, event.id) is not None
    )
    return OrganizerEventDetail(
        **_summary(event, team_access.permissions_on(session, caller(), event)),  # type: ignore[arg-type]
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


def tier_out(tier: TicketTier, sales: tier_service.TierSales) -> TierOut:
    return TierOut(
        id=tier.id,
        **vars(tier_service.TierData.of(tier)),
        sold=sales.sold,
        held=sales.held,
        available=sales.free,
    )


def one_tier_out(tier: TicketTier) -> TierOut:
    sales = tier_service.tier_sales(get_session(), tier.event_id)
    return tier_out(tier, sales.get(tier.id, tier_service.TierSales()))


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
        caller(),
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
    return etagged_json(event_detail(reached_event(event_id, Permission.MANAGE)))


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
    event = reached_event(event_id, Permission.MANAGE)
    session = get_session()
    sales = tier_service.tier_sales(session, event.id)
    found = [
        tier_out(tier, sales.get(tier.id, tier_service.TierSales()))
        for tier in tier_service.event_tiers(session, event)
    ]
    return etagged_json(OrganizerTierList(event_id=event.id, tiers=found))


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
    event = reached_event(event_id, Permission.VIEW_SALES)
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
        items=[AttendeeOut.model_validate(row, from_attributes=True) for row in rows],
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
    event = reached_event(event_id, Permission.VIEW_SALES)
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
