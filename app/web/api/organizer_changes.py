"""The organizer API's changes (`organizer:write`): a draft, an event's changes, submitting it
for review, and tiers, each through the page's domain service with its rules and audit entry;
both creates take an `Idempotency-Key`. Access as in `organizer` (the teams policy)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app

from app.db import get_session
from app.domain.accounts.models import Role
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
from app.domain.teams.access import Permission
from app.domain.ticketing import tiers as tier_service
from app.domain.ticketing.models import TicketTier
from app.web.api import bp
from app.web.api.bookings import idempotent, json_answer, json_body
from app.web.api.openapi import ID_MAX, operation
from app.web.api.organizer import (
    PREFIX,
    TAG,
    WRITE,
    caller,
    event_detail,
    one_tier_out,
    organizer_api,
    reached_event,
)
from app.web.api.organizer_schemas import (
    EventCreate,
    EventUpdate,
    EventWrite,
    OrganizerEventDetail,
    TierCreate,
    TierOut,
    TierUpdate,
)
from app.web.api.problems import problem
from app.web.organizer.tiers import local_to_utc
from app.web.public.booking import offer_settings


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
    user = caller()
    if user.role != Role.ORGANIZER:
        raise Forbidden("Only organizers create events.", code="not_organizer")
    body = json_body(EventCreate)
    try:
        event = create_event(
            get_session(), user, _event_input(None, body, body.model_fields_set), now=utcnow()
        )
    except EventInvalid as error:
        return _invalid(error)
    response = json_answer(event_detail(event), 201)
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
    event = reached_event(event_id, Permission.MANAGE)
    body = json_body(EventUpdate)
    session = get_session()
    pending = None
    if event.status == EventStatus.PUBLISHED:
        pending = revisions.pending_revision(session, event.id)
    base = revisions.as_proposed(event, pending) if pending else event
    data = _event_input(base, body, body.model_fields_set)
    try:
        update_event(session, event, data, actor=caller(), now=utcnow())
    except EventInvalid as error:
        return _invalid(error)
    return json_answer(event_detail(event))


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
    event = reached_event(event_id, Permission.MANAGE)
    submit_event(get_session(), event, actor=caller(), now=utcnow())
    return json_answer(event_detail(event))


def _invalid(error: EventInvalid) -> Response:
    """Every field's problems at once, as the form shows them next to their fields."""
    detail = " ".join(
        f"`{field}`: {' '.join(messages)}" for field, messages in error.errors.items()
    )
    return problem(422, error.code, detail)


def _moment(value: datetime | None, event: Event) -> datetime | None:
    """A tier's sales time: one with an offset as it is; one without, a wall-clock time in
    the event's zone, as the tier form reads it."""
    if value is None or value.tzinfo is not None:
        return value
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
    event = reached_event(event_id, Permission.MANAGE)
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
        actor_id=caller().id,
        now=utcnow(),
        offers=offer_settings(),
    )
    response = json_answer(one_tier_out(tier), 201)
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
    event = reached_event(event_id, Permission.MANAGE)
    session = get_session()
    tier = session.get(TicketTier, tier_id) if tier_id <= ID_MAX else None
    if tier is None or tier.event_id != event.id:
        raise NotFound("We could not find that ticket type.")
    body = json_body(TierUpdate)
    base = tier_service.TierData.of(tier)
    tier_service.update_tier(
        session,
        tier=tier,
        data=_tier_data(event, base, body),
        actor_id=caller().id,
        now=utcnow(),
        offers=offer_settings(),
    )
    return json_answer(one_tier_out(tier))
