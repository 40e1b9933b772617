"""The organizer's API over HTTP on real PostgreSQL: events, tiers, attendees and sales to
read; drafts, changes, tiers and submitting through the pages' domain services and rules; the
teams policy (another organizer's event is not found, team roles as on the pages), the 2FA rule
for organizer tokens, refusals that change nothing, and `Idempotency-Key` on creates (a
parallel retry makes one event)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.api_tokens import personal
from app.domain.api_tokens.errors import PersonalTokenError
from app.domain.events.models import Event, EventRevision, EventStatus
from app.domain.teams.models import TeamRole
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.models import TicketTier

PROBLEM = "application/problem+json"
PARALLEL = 6
BOTH = ("organizer:read", "organizer:write")


def _problem(response, status: int, code: str) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


@pytest.fixture
def token_for(db: Session, now: datetime) -> Callable[..., dict[str, str]]:
    """`token_for(user, scopes=[...])` -> the Authorization header of a new personal token."""

    def create(user: User, scopes: tuple[str, ...] = BOTH) -> dict[str, str]:
        user.authenticated_at = now
        _token, raw = personal.create_token(
            db, user, name="tool", scopes=scopes, lifetime=None, now=now
        )
        db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return create


def _state(db: Session) -> str:
    """A digest of the tables an organizer call may change."""
    db.rollback()
    tables = ("events", "speakers", "ticket_tiers", "units", "event_revisions", "audit_log")
    return "|".join(
        db.execute(
            text(f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} t")  # noqa: S608
        ).scalar_one()
        for t in tables
    )


def _new_event(now: datetime, **fields: Any) -> dict[str, Any]:
    starts = (now + timedelta(days=40)).replace(hour=19, minute=0, second=0, microsecond=0)
    return {
        "title": "Spring concert",
        "description": "Strings and **brass**.",
        "event_type": "offline",
        "venue_name": "Hall",
        "address": "Street 1",
        "city": "Berlin",
        "starts_at": starts.replace(tzinfo=None).isoformat(),
        "ends_at": (starts + timedelta(hours=2)).replace(tzinfo=None).isoformat(),
        "timezone": "Europe/Berlin",
        "tags": ["Music", "live"],
        **fields,
    }


def test_create_read_change_and_submit_an_event(client, db, make_user, token_for, now):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    auth = token_for(organizer)

    made = client.post("/api/v1/organizer/events", json=_new_event(now), headers=auth)
    assert made.status_code == 201, made.get_data(as_text=True)
    event = made.get_json()
    assert made.headers["Location"] == f"/api/v1/organizer/events/{event['id']}"
    assert event["status"] == "draft" and event["tags"] == ["music", "live"]
    assert event["permissions"] == ["check_in", "manage", "view_sales"]
    # The wall-clock time is Berlin's, stored in UTC.
    starts = datetime.fromisoformat(event["starts_at"])
    assert starts.utcoffset() == timedelta(0) and starts.hour in (17, 18)

    url = f"/api/v1/organizer/events/{event['id']}"
    read = client.get(url, headers=auth)
    assert read.status_code == 200 and read.get_json() == event
    etag = read.headers["ETag"]
    assert client.get(url, headers={**auth, "If-None-Match": etag}).status_code == 304

    changed = client.patch(
        url,
        json={
            "title": "Spring gala",
            "starts_at": "2099-05-01T10:00:00+00:00",
            "ends_at": "2099-05-01T12:00:00+00:00",
        },
        headers=auth,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    assert body["title"] == "Spring gala" and body["city"] == "Berlin"
    assert body["starts_at"].startswith("2099-05-01T10:00:00")
    assert body["version"] == event["version"] + 1
    assert client.get(url, headers={**auth, "If-None-Match": etag}).status_code == 200

    submitted = client.post(f"{url}/submit", headers=auth)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    _problem(client.post(f"{url}/submit", headers=auth), 409, "event_error")


def test_a_published_events_material_changes_wait_for_review(
    client, db, make_user, make_event, token_for
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, title="Live title")
    db.commit()
    auth = token_for(organizer)
    url = f"/api/v1/organizer/events/{event.id}"

    first = client.patch(url, json={"title": "Proposed title"}, headers=auth)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["title"] == "Live title" and first.get_json()["pending_review"]
    # A later change of another field keeps the proposal (the form's base is the proposal).
    second = client.patch(url, json={"city": "Hamburg"}, headers=auth)
    assert second.status_code == 200
    db.expire_all()
    pending = db.scalars(
        select(EventRevision)
        .where(EventRevision.event_id == event.id)
        .order_by(EventRevision.id.desc())
    ).first()
    assert pending is not None and pending.changes["title"] == "Proposed title"
    assert pending.changes["city"] == "Hamburg"


def test_bad_event_inputs_are_refused_and_change_nothing(
    client, db, make_user, make_event, token_for, now
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, status=EventStatus.DRAFT)
    db.commit()
    auth = token_for(organizer)
    url = f"/api/v1/organizer/events/{event.id}"
    before = _state(db)
    for body in (
        {"title": 5},
        {"title": None},
        {"starts_at": "tomorrow"},
        {"starts_at": "1999-01-01T10:00:00"},
        {"unknown": 1},
        {"tags": "jazz"},
        {"category_id": "3"},
        {"title": "a\x00b"},  # text PostgreSQL cannot store
        {"description": "\ud800"},
    ):
        _problem(client.patch(url, json=body, headers=auth), 422, "invalid_request")
    missing = {k: v for k, v in _new_event(now).items() if k != "starts_at"}
    _problem(
        client.post("/api/v1/organizer/events", json=missing, headers=auth), 422, "invalid_request"
    )
    # The domain's rules, every field at once, as the form shows them.
    rules = client.patch(
        url,
        json={"title": " ", "timezone": "Mars/Base", "event_type": "online", "online_url": ""},
        headers=auth,
    )
    body = _problem(rules, 422, "invalid")
    assert "`title`" in body["detail"] and "`timezone`" in body["detail"]
    assert "`online_url`" in body["detail"]
    ends_first = _new_event(now, ends_at=_new_event(now)["starts_at"])
    _problem(client.post("/api/v1/organizer/events", json=ends_first, headers=auth), 422, "invalid")
    _problem(client.patch(url, json={"category_id": 999_999}, headers=auth), 422, "invalid")
    not_json = client.patch(url, data="title=x", headers=auth)
    _problem(not_json, 422, "invalid_request")
    assert _state(db) == before


def test_tiers_with_sold_held_and_available_and_their_rules(
    client, db, make_user, make_event, make_tier, token_for, now
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, currency="EUR")
    early = make_tier(event=event, name="Early", capacity=4, price_minor=1000, currency="EUR")
    hold_units(db, user=make_user(), event=event, tier=early, quantity=1, now=now, hold_minutes=10)
    sold = hold_units(
        db, user=make_user(), event=event, tier=early, quantity=2, now=now, hold_minutes=10
    )
    confirm_booking(db, sold, now=now)
    db.commit()
    auth = token_for(organizer)
    base = f"/api/v1/organizer/events/{event.id}/tiers"

    made = client.post(
        base,
        json={
            "name": "Late",
            "kind": "paid",
            "price_minor": 1500,
            "capacity": 3,
            "sales_end": "2099-01-01T00:00:00",
        },  # fmt: skip
        headers=auth,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    tier = made.get_json()
    assert tier["currency"] == "EUR" and tier["available"] == 3 and tier["per_user_limit"] == 10
    # A wall-clock time in Berlin (UTC+1 in January).
    assert tier["sales_end"].startswith("2098-12-31T23:00:00")

    listed = client.get(base, headers=auth).get_json()
    assert sorted((t["name"], t["sold"], t["held"], t["available"]) for t in listed["tiers"]) == [
        ("Early", 2, 1, 1),
        ("Late", 0, 0, 3),
    ]
    changed = client.patch(f"{base}/{tier['id']}", json={"capacity": 5}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["available"] == 5

    before = _state(db)
    for body, code in (
        ({"name": "Free", "price_minor": 100}, "invalid_tier_settings"),  # free with a price
        ({"name": "X", "currency": "USD"}, "invalid_tier_settings"),  # one currency an event
        ({"name": "X", "currency": "ÄÖÜ"}, "invalid_tier_settings"),
        ({"name": "X\x00"}, "invalid_request"),
        ({"name": "X", "hidden": True}, "invalid_tier_settings"),  # hidden without a code
        ({"name": "X", "access_code": "short"}, "invalid_tier_settings"),
        ({"name": "X", "min_per_order": 5, "max_per_order": 2}, "invalid_tier_settings"),
        ({"name": "X", "capacity": -1}, "invalid_request"),
        ({"name": "X", "position": 1001}, "invalid_request"),
        ({"name": "X", "price_minor": "10"}, "invalid_request"),
        ({"capacity": 3}, "invalid_request"),  # no name
    ):
        _problem(client.post(base, json=body, headers=auth), 422, code)
    _problem(
        client.patch(f"{base}/{tier['id']}", json={"name": None}, headers=auth),
        422,
        "invalid_request",
    )
    assert _state(db) == before


def test_another_organizers_event_and_tier_are_not_found_and_stay(
    client, db, make_user, make_event, make_tier, token_for
):  # noqa: ANN001
    mine = make_event(organizer=make_user(role=Role.ORGANIZER))
    theirs = make_event(organizer=make_user(role=Role.ORGANIZER), status=EventStatus.DRAFT)
    their_tier = make_tier(event=theirs, capacity=2)
    db.commit()
    auth = token_for(mine.organizer)
    before = _state(db)
    url = f"/api/v1/organizer/events/{theirs.id}"
    for method, path, body in (
        ("GET", url, None),
        ("GET", f"{url}/tiers", None),
        ("GET", f"{url}/attendees", None),
        ("GET", f"{url}/sales", None),
        ("PATCH", url, {"title": "Mine now"}),
        ("POST", f"{url}/submit", None),
        ("POST", f"{url}/tiers", {"name": "Extra"}),
        ("PATCH", f"{url}/tiers/{their_tier.id}", {"capacity": 0}),
        # Their tier under my own event is not found either.
        ("PATCH", f"/api/v1/organizer/events/{mine.id}/tiers/{their_tier.id}", {"capacity": 0}),
        ("GET", "/api/v1/organizer/events/2147483648", None),
    ):
        _problem(client.open(path, method=method, json=body, headers=auth), 404, "not_found")
    listed = client.get("/api/v1/organizer/events", headers=auth).get_json()
    assert [item["id"] for item in listed["items"]] == [mine.id]
    assert _state(db) == before


def test_team_roles_reach_what_the_pages_let_them(
    client, db, make_user, make_event, make_member, token_for
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=owner)
    members = {role: make_member(owner, role=role).user for role in TeamRole}
    db.commit()
    url = f"/api/v1/organizer/events/{event.id}"
    expected = {
        # (detail and tiers, attendees and sales, change)
        TeamRole.MANAGE: (200, 200, 200),
        TeamRole.SALES: (404, 200, 404),
        TeamRole.CHECKIN: (404, 404, 404),
    }
    for role, user in members.items():
        auth = token_for(user)
        manage, sales, change = expected[role]
        assert client.get(url, headers=auth).status_code == manage, role
        assert client.get(f"{url}/tiers", headers=auth).status_code == manage, role
        assert client.get(f"{url}/attendees", headers=auth).status_code == sales, role
        assert client.get(f"{url}/sales", headers=auth).status_code == sales, role
        patched = client.patch(url, json={"city": f"City {role}"}, headers=auth)
        assert patched.status_code == change, role
        listed = client.get("/api/v1/organizer/events", headers=auth).get_json()
        assert [item["id"] for item in listed["items"]] == [event.id]
        # Members have no events of their own to create.
        _problem(
            client.post("/api/v1/organizer/events", json={}, headers=auth), 403, "not_organizer"
        )


def test_scopes_attendees_and_anonymous_are_refused(client, db, make_user, make_event, token_for):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    db.commit()
    url = f"/api/v1/organizer/events/{event.id}"
    _problem(client.get(url), 401, "missing_token")
    reader = token_for(organizer, ("organizer:read",))
    assert client.get(url, headers=reader).status_code == 200
    _problem(client.patch(url, json={"city": "Bonn"}, headers=reader), 403, "insufficient_scope")
    events_only = token_for(organizer, ("events:read",))
    _problem(client.get(url, headers=events_only), 403, "insufficient_scope")
    attendee = token_for(make_user())
    _problem(client.get("/api/v1/organizer/events", headers=attendee), 403, "not_organizer")
    _problem(client.get(url, headers=attendee), 403, "not_organizer")


def test_organizer_tokens_follow_the_back_office_2fa_rule(
    client, db, make_user, make_event, make_member, token_for, now
):  # noqa: ANN001
    """A token with organizer scopes is made only for an account that meets the rule, and an
    account that stops meeting it (2FA reset) is refused until it turns 2FA on again."""
    no_2fa = make_user(role=Role.ORGANIZER, with_2fa=False)
    no_2fa.authenticated_at = now
    with pytest.raises(PersonalTokenError) as refused:
        personal.create_token(
            db, no_2fa, name="t", scopes=["organizer:read"], lifetime=None, now=now
        )
    assert refused.value.code == "two_factor_required"
    # Other scopes need no 2FA; nor does a check-in only member.
    personal.create_token(db, no_2fa, name="t", scopes=["events:read"], lifetime=None, now=now)
    owner = make_user(role=Role.ORGANIZER)
    door = make_member(owner, role=TeamRole.CHECKIN, user=make_user(with_2fa=False)).user
    door_auth = token_for(door, ("organizer:read",))
    assert client.get("/api/v1/organizer/events", headers=door_auth).status_code == 200

    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    sales = make_member(organizer, role=TeamRole.SALES).user
    auth, sales_auth = token_for(organizer), token_for(sales)
    url = f"/api/v1/organizer/events/{event.id}"
    assert client.get(url, headers=auth).status_code == 200
    for user in (organizer, sales):
        user.totp_enabled_at = None
        user.totp_secret = None
    db.commit()
    _problem(client.get(url, headers=auth), 403, "two_factor_required")
    _problem(client.get(f"{url}/sales", headers=sales_auth), 403, "two_factor_required")
    before = _state(db)
    _problem(client.patch(url, json={"city": "Bonn"}, headers=auth), 403, "two_factor_required")
    assert _state(db) == before


def test_attendees_in_cursor_pages_with_the_pages_filters(
    client, db, make_user, make_tier, token_for, now
):  # noqa: ANN001
    tier = make_tier(capacity=10)
    other = make_tier(capacity=2)
    buyers = [make_user(name=f"Buyer {n}") for n in range(3)]
    for buyer in buyers:
        confirm_booking(
            db,
            hold_units(
                db, user=buyer, event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
            ),  # fmt: skip
            now=now,
        )
    db.commit()
    auth = token_for(tier.event.organizer)
    url = f"/api/v1/organizer/events/{tier.event_id}/attendees"

    seen, cursor = [], None
    while True:
        page = client.get(url, query_string={"limit": 4, **({"cursor": cursor} if cursor else {})},
                          headers=auth).get_json()  # fmt: skip
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and [r["ticket_id"] for r in seen] == sorted(r["ticket_id"] for r in seen)
    found = client.get(url, query_string={"q": "Buyer 1"}, headers=auth).get_json()["items"]
    assert {r["buyer_name"] for r in found} == {"Buyer 1"} and len(found) == 2
    assert (
        client.get(url, query_string={"checked_in": "yes"}, headers=auth).get_json()["items"] == []
    )
    _problem(client.get(url, query_string={"tier": other.id}, headers=auth), 400, "bad_filter")
    _problem(client.get(url, query_string={"checked_in": "maybe"}, headers=auth), 400, "bad_filter")
    _problem(client.get(url, query_string={"limit": "x"}, headers=auth), 400, "bad_query")
    _problem(client.get(url, query_string={"cursor": "-1"}, headers=auth), 400, "bad_query")
    _problem(client.get(url, query_string={"cursor": "9" * 19}, headers=auth), 400, "bad_query")
    _problem(client.get(url, query_string={"q": "a\x00"}, headers=auth), 400, "bad_query")


def test_sales_per_day_tier_and_currency(client, db, sales_scenario, token_for):  # noqa: ANN001
    scenario = sales_scenario()
    db.commit()
    auth = token_for(scenario.organizer)
    sales = client.get(f"/api/v1/organizer/events/{scenario.event.id}/sales", headers=auth)
    assert sales.status_code == 200, sales.get_data(as_text=True)
    body = sales.get_json()
    assert body["days"][0] == scenario.first_day.isoformat()
    by_name = {tier["name"]: tier for tier in body["tiers"]}
    assert by_name["VIP"]["sold"] == 3 and by_name["VIP"]["sold_by_day"][0] == 3
    assert by_name["General"]["sold"] == 3 and by_name["General"]["sold_by_day"][2] == 3
    assert body["revenue"] == [
        {"currency": "USD", "gross": 7250, "discounts": 250, "refunds": 2500, "net": 4750}
    ]


def test_the_event_list_in_cursor_pages_every_status(client, db, make_user, make_event, token_for):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    made = [make_event(organizer=organizer, status=status) for status in EventStatus]
    make_event()  # someone else's
    db.commit()
    auth = token_for(organizer)
    seen, cursor = [], None
    while True:
        args = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/organizer/events", query_string=args, headers=auth)
        assert page.status_code == 200
        seen += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in seen] == sorted((e.id for e in made), reverse=True)
    drafts = client.get("/api/v1/organizer/events?status=draft", headers=auth).get_json()
    assert [item["status"] for item in drafts["items"]] == ["draft"]
    _problem(client.get("/api/v1/organizer/events?status=lost", headers=auth), 400, "bad_query")
    past_ids = client.get("/api/v1/organizer/events?cursor=2147483648", headers=auth)
    _problem(past_ids, 400, "bad_query")


def _race(app: Flask, auth: dict[str, str], body: dict, key: str | None) -> list[Any]:
    """PARALLEL clients post `body` at once, each request on its own connection."""
    start = threading.Barrier(PARALLEL)
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}

    def one(_: int) -> Any:
        client: FlaskClient = app.test_client()
        start.wait(timeout=30)
        response = client.post("/api/v1/organizer/events", json=body, headers=headers)
        return (
            response.status_code,
            response.get_data(),
            response.headers.get("Idempotent-Replayed"),
        )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def _events_of(db: Session, organizer: User) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).where(Event.organizer_id == organizer.id))


def test_an_idempotent_create_retried_in_parallel_makes_one_event(
    app, db, make_user, token_for, now
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    auth = token_for(organizer)
    answers = _race(app, auth, _new_event(now), key="spring-concert")
    assert {status for status, _, _ in answers} == {201}, answers
    assert len({data for _, data, _ in answers}) == 1
    assert sum(replayed == "true" for _, _, replayed in answers) == PARALLEL - 1
    assert _events_of(db, organizer) == 1


def test_control_the_same_parallel_creates_without_a_key_make_many(
    app, db, make_user, token_for, now
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    answers = _race(app, token_for(organizer), _new_event(now), key=None)
    assert [status for status, _, _ in answers] == [201] * PARALLEL, answers
    assert _events_of(db, organizer) == PARALLEL


def test_an_idempotent_tier_create_is_replayed_and_a_refused_one_keeps_no_key(
    client, db, make_user, make_event, token_for
):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    db.commit()
    auth = {**token_for(organizer), "Idempotency-Key": "tier-1"}
    url = f"/api/v1/organizer/events/{event.id}/tiers"
    refused = client.post(url, json={"name": "A", "price_minor": 5}, headers=auth)
    _problem(refused, 422, "invalid_tier_settings")
    made = client.post(url, json={"name": "A"}, headers=auth)
    again = client.post(url, json={"name": "A"}, headers=auth)
    assert made.status_code == again.status_code == 201
    assert again.get_data() == made.get_data() and again.headers["Idempotent-Replayed"] == "true"
    _problem(client.post(url, json={"name": "B"}, headers=auth), 422, "idempotency_key_reused")
    db.expire_all()
    assert db.scalar(select(func.count()).where(TicketTier.event_id == event.id)) == 1


def test_naive_and_aware_times_mean_the_same_moment(client, db, make_user, token_for, now):  # noqa: ANN001
    auth = token_for(make_user(role=Role.ORGANIZER))
    aware = _new_event(now, starts_at="2098-07-01T18:00:00+00:00", ends_at="2098-07-01T20:00:00Z")
    naive = _new_event(now, starts_at="2098-07-01T20:00:00", ends_at="2098-07-01T22:00:00")
    one = client.post("/api/v1/organizer/events", json=aware, headers=auth).get_json()
    two = client.post("/api/v1/organizer/events", json=naive, headers=auth).get_json()
    assert one["starts_at"] == two["starts_at"]
    assert datetime.fromisoformat(one["starts_at"]) == datetime(2098, 7, 1, 18, tzinfo=UTC)


def test_the_token_page_refuses_organizer_scopes_without_2fa(client, db, make_user, login_as):  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER, with_2fa=False)
    login_as(client, organizer)
    data = {"name": "bot", "scopes": ["organizer:read"], "expires": "30"}
    refused = client.post("/account/tokens", data=data)
    assert refused.status_code == 422
    assert "Turn on two-factor authentication first" in refused.get_data(as_text=True)
    db.expire_all()
    assert personal.user_tokens(db, organizer.id) == []
    made = client.post("/account/tokens", data={**data, "scopes": ["events:read"]})
    assert made.status_code == 201
