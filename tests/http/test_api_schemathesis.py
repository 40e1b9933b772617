"""Schemathesis against the API's own OpenAPI document, in process (WSGI) on real data: for
every operation, a bounded number of generated requests (the same ones each run) get no server
error and no answer that breaks the document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.api_tokens import personal
from app.domain.checkin.models import StaffGrant
from app.domain.checkin.scans import scan, undo
from app.domain.events.models import Event, EventStatus, EventType
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking, Ticket
from tests.conftest import _test_config

EXAMPLES = 25
# Left out: "a request the schema allows is accepted". A cursor is opaque and a category is
# one of the site's slugs; the schema cannot list either, and a made-up one is rightly a 400.


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with room for the generated requests in the API's rate limits."""
    from app import create_app

    config = _test_config(
        database_url,
        tmp_path_factory.mktemp("instance"),
        API_NETWORK_BURST=100_000,
        API_TOKEN_BURST=100_000,
    )
    application = create_app(config)
    yield application
    application.extensions["db"].engine.dispose()


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@dataclass
class World:
    event_ids: list[int]
    references: list[str]  # the token's user's bookings
    check_in_ids: list[int]  # check-ins at the door of the first event, which the user staffs
    token: str  # a personal token with every scope, for the routes that need one
    # The organizer API's: an organizer's events (published with a tier and its sales, a
    # draft), their tiers, and their token with every scope.
    organizer_event_ids: list[int]
    tier_ids: list[int]
    organizer_token: str


@pytest.fixture
def world(
    db: Session,
    make_event: Callable[..., Event],
    make_tier: Callable[..., object],
    make_seated_booking: Callable[..., object],
    make_category: Callable[..., object],
    make_user: Callable[..., User],
    make_tickets: Callable[..., list[Ticket]],
    ticket_code: Callable[..., str],
    now: datetime,
) -> World:
    """A few published events with tiers, one of them seated, and a draft; a buyer with a
    token, a held booking and a confirmed one, who is also door staff of the first event
    (tickets, two of them in, one undone, and a cancelled booking's void ticket)."""
    music = make_category(name="Music", slug="music")
    events = [
        make_event(title="Jazz night", category_id=music.id, tags=["jazz"]),
        make_event(title="Rust meetup", event_type=EventType.ONLINE, city="Paris"),
    ]
    for event in events:
        make_tier(event=event, capacity=5, price_minor=900)
    free = make_tier(event=events[0], name="Free", capacity=10, price_minor=0)
    buyer = make_user()
    db.add(StaffGrant(organizer_id=events[0].organizer_id, user_id=buyer.id, event_id=events[0].id))
    door = make_tickets(tier=free, quantity=3)
    check_ins = [
        scan(db, events[0], code=ticket_code(t), gate="Main", staff=buyer, scan_id=None, now=now)
        for t in door[:2]
    ]
    undo(db, events[0], check_ins[1].check_in.id, staff=buyer, now=now)
    void = db.get(Booking, make_tickets(tier=free)[0].booking_id)
    cancel_booking(db, void, actor_id=None, now=now)
    held = make_seated_booking(buyer=buyer, quantity=2, price_minor=1000)
    confirmed = make_seated_booking(buyer=buyer, quantity=1)
    draft = make_event(title="Draft", status=EventStatus.DRAFT)
    buyer.authenticated_at = now
    _token, raw = personal.create_token(
        db, buyer, name="schemathesis", scopes=list(personal.SCOPES), lifetime=None, now=now
    )
    organizer = make_user(role=Role.ORGANIZER)
    sold = make_seated_booking(buyer=buyer, quantity=2, organizer=organizer)
    on_sale = make_event(organizer=organizer, title="Organizer's own")
    tiers = [make_tier(event=on_sale, capacity=5, price_minor=900) for _ in range(2)]
    own_draft = make_event(organizer=organizer, title="Organizer's draft", status=EventStatus.DRAFT)
    organizer.authenticated_at = now
    _token, organizer_raw = personal.create_token(
        db, organizer, name="schemathesis", scopes=list(personal.SCOPES), lifetime=None, now=now
    )
    db.commit()
    return World(
        [*(event.id for event in events), held.event_id, draft.id],
        [held.reference, confirmed.reference],
        [result.check_in.id for result in check_ins if result.check_in],
        raw,
        [sold.event_id, on_sale.id, own_draft.id],
        [tier.id for tier in tiers],  # type: ignore[attr-defined]
        organizer_raw,
    )


def _pointed_at_world(case: Case, world: World) -> dict[str, str] | None:
    """Half of the generated ids point at the data, so answers with bodies are checked; a
    generated token is swapped for a real one (the headers to send). A part generated to break
    the schema is sent as it is, to be refused: swapped, it would be a valid request."""
    organizer = case.operation.path.startswith("/api/v1/organizer/")
    path = case.path_parameters or {}
    if path and not case.meta.is_negative_at(ParameterLocation.PATH):
        event_id, check_in_id = path.get("event_id"), path.get("check_in_id")
        if isinstance(event_id, int) and event_id % 2 == 0:
            ids = world.organizer_event_ids if organizer else world.event_ids
            path["event_id"] = ids[event_id // 2 % len(ids)]
        tier_id = path.get("tier_id")
        if isinstance(tier_id, int) and tier_id % 2 == 0:
            path["event_id"] = world.organizer_event_ids[1]
            path["tier_id"] = world.tier_ids[tier_id // 2 % 2]
        if isinstance(check_in_id, int) and check_in_id % 2 == 0:
            path["check_in_id"] = world.check_in_ids[check_in_id // 2 % len(world.check_in_ids)]
        reference = path.get("reference")
        if isinstance(reference, str) and len(reference) % 2 == 0:
            path["reference"] = world.references[len(reference) // 2 % 2]
    if "Authorization" in (case.headers or {}) and not case.meta.is_negative_at(
        ParameterLocation.HEADER
    ):
        token = world.organizer_token if organizer else world.token
        return {"Authorization": f"Bearer {token}"}
    return None


def test_api_conforms_to_its_document(api_schema: BaseSchema, world: World) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Case) -> None:
            headers = _pointed_at_world(case, world)
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
