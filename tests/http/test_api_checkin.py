"""Check-in through the API over HTTP on real PostgreSQL: green and red scans with the door's
reasons as stable codes, replays by scan id, undo (audited), counters with ETags, the void
tickets page by page, refusals as problem details that change nothing (strangers get a 404),
and two parallel scans of one ticket on their own connections: exactly one green."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.api_tokens import personal
from app.domain.audit import AuditEntry
from app.domain.checkin.door import offline_bundle
from app.domain.checkin.models import CheckIn
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking

PROBLEM = "application/problem+json"
PARALLEL = 2


def _problem(response, status: int, code: str) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["code"] == code and body["detail"]
    return body


def _live(db: Session) -> list[tuple[int, str]]:
    db.expire_all()
    rows = db.execute(
        select(CheckIn.ticket_id, CheckIn.gate)
        .where(CheckIn.undone_at.is_(None))
        .order_by(CheckIn.id)
    )
    return [(row.ticket_id, row.gate) for row in rows]


@pytest.fixture
def token_for(db: Session, now) -> Callable[..., dict[str, str]]:  # noqa: ANN001
    """`token_for(user, scopes=("checkin",))` -> the Authorization header of a new token."""

    def create(user: User, scopes: tuple[str, ...] = ("checkin",)) -> dict[str, str]:
        user.authenticated_at = now
        _token, raw = personal.create_token(
            db, user, name="door app", scopes=scopes, lifetime=None, now=now
        )
        db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return create


@pytest.fixture
def door(db, make_tickets, make_staff, token_for, ticket_code):  # noqa: ANN001, ANN201
    """An event's two tickets and their codes, and its staff's token."""
    tickets = make_tickets(quantity=2)
    tickets[0].holder_name = "Ada Lovelace"
    event = db.get(Booking, tickets[0].booking_id).event
    staff = make_staff(event, name="Sam Staff")
    codes = [ticket_code(t) for t in tickets]
    auth = token_for(staff)  # commits
    return event, tickets, codes, auth


def test_a_scan_is_green_then_red_with_when_where_and_by_whom(client, db, door) -> None:  # noqa: ANN001
    event, (ticket, _), (code, _), auth = door
    url = f"/api/v1/checkin/events/{event.id}/scans"
    green = client.post(url, json={"code": code, "gate": "  North  "}, headers=auth)
    assert green.status_code == 200 and green.headers["Cache-Control"] == "no-store"
    body = green.get_json()
    assert (body["result"], body["reason"]) == ("green", "admitted")
    tier = ticket.tier.name
    assert body["ticket"] == {"id": ticket.id, "name": "Ada Lovelace", "tier": tier, "seat": None}
    assert body["check_in"]["gate"] == "North" and body["check_in"]["by"] == "Sam Staff"

    red = client.post(url, json={"code": code}, headers=auth).get_json()
    assert (red["result"], red["reason"]) == ("red", "already_checked_in")
    assert red["check_in"] == body["check_in"]  # the admission that stands: when, gate, by
    assert red["message"].startswith("Already checked in at ") and "gate North" in red["message"]
    assert _live(db) == [(ticket.id, "North")]


def test_red_reasons_are_the_doors(client, db, door, make_tickets, ticket_code, now) -> None:  # noqa: ANN001
    event, (ticket, _), (code, _), auth = door
    url = f"/api/v1/checkin/events/{event.id}/scans"
    (elsewhere,) = make_tickets()
    other_code = ticket_code(elsewhere)
    booking = db.get(Booking, ticket.booking_id)
    cancel_booking(db, booking, actor_id=booking.user_id, now=now)
    db.commit()

    def reason(sent: str) -> tuple[str, str]:
        body = client.post(url, json={"code": sent}, headers=auth).get_json()
        return body["result"], body["reason"]

    assert reason(code) == ("red", "cancelled")
    assert reason(other_code) == ("red", "other_event")
    assert reason("NOT-A-TICKET") == ("red", "not_a_ticket")
    assert _live(db) == []


def test_a_scan_id_makes_a_scan_idempotent(client, db, door) -> None:  # noqa: ANN001
    event, tickets, (code, second), auth = door
    url = f"/api/v1/checkin/events/{event.id}/scans"
    sent = {"code": code, "gate": "A", "scan_id": "phone-1:0001"}
    first = client.post(url, json=sent, headers=auth)
    again = client.post(url, json=sent, headers=auth)
    assert first.get_json()["result"] == again.get_json()["result"] == "green"
    assert first.get_json()["check_in"] == again.get_json()["check_in"]
    _problem(client.post(url, json={**sent, "code": second}, headers=auth), 409, "scan_id_reused")
    assert _live(db) == [(tickets[0].id, "A")]


def test_an_idempotency_key_replays_a_scan_without_scan_id(client, db, door) -> None:  # noqa: ANN001
    event, _tickets, (code, _), auth = door
    url = f"/api/v1/checkin/events/{event.id}/scans"
    keyed = {**auth, "Idempotency-Key": "scan-1"}
    first = client.post(url, json={"code": code}, headers=keyed)
    replay = client.post(url, json={"code": code}, headers=keyed)
    assert replay.get_data() == first.get_data() and replay.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["result"] == "green" and len(_live(db)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": ""},
        {"code": 12},
        {"code": "x" * 201},
        {"code": "x", "scan_id": "has space"},
        {"code": "x", "gate": "g" * 41},
        {"code": "x", "gate": "North\u0000"},
        {"code": "x", "extra": 1},
        ["code"],
    ],
)
def test_a_malformed_scan_is_refused_and_changes_nothing(client, db, door, body) -> None:  # noqa: ANN001
    event, _tickets, (code, _), auth = door
    url = f"/api/v1/checkin/events/{event.id}/scans"
    if isinstance(body, dict) and body.get("code") == "x":
        body = {**body, "code": code}  # a real ticket: only the other field is wrong
    _problem(client.post(url, json=body, headers=auth), 422, "invalid_request")
    assert _live(db) == []


def test_undo_is_audited_and_lets_the_ticket_in_again(client, db, door) -> None:  # noqa: ANN001
    event, (ticket, _), (code, _), auth = door
    scan = f"/api/v1/checkin/events/{event.id}/scans"
    check_in_id = client.post(scan, json={"code": code}, headers=auth).get_json()["check_in"]["id"]
    url = f"/api/v1/checkin/events/{event.id}/check-ins/{check_in_id}/undo"
    done = client.post(url, headers=auth)
    assert done.status_code == 200
    assert done.get_json() == {"check_in_id": check_in_id, "ticket_id": ticket.id}
    db.expire_all()
    (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "check_in.undone"))
    assert entry.target_id == check_in_id
    _problem(client.post(url, headers=auth), 409, "already_undone")
    assert client.post(scan, json={"code": code}, headers=auth).get_json()["result"] == "green"
    missing = f"/api/v1/checkin/events/{event.id}/check-ins/{2**63}/undo"
    _problem(client.post(missing, headers=auth), 404, "not_found")


def test_an_undo_with_an_idempotency_key_is_replayed(client, db, door) -> None:  # noqa: ANN001
    event, _tickets, (code, _), auth = door
    scan = f"/api/v1/checkin/events/{event.id}/scans"
    check_in_id = client.post(scan, json={"code": code}, headers=auth).get_json()["check_in"]["id"]
    url = f"/api/v1/checkin/events/{event.id}/check-ins/{check_in_id}/undo"
    keyed = {**auth, "Idempotency-Key": "undo-1"}
    done = client.post(url, headers=keyed)
    replay = client.post(url, headers=keyed)
    assert done.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_data() == done.get_data()


def test_counters_with_an_etag(client, db, door) -> None:  # noqa: ANN001
    event, (ticket, _), (code, _), auth = door
    url = f"/api/v1/checkin/events/{event.id}/counters"
    before = client.get(url, headers=auth)
    assert before.status_code == 200 and before.headers["ETag"]
    assert before.get_json() == {
        "event_id": event.id,
        "checked_in": 0,
        "expected": 2,
        "tiers": [{"name": ticket.tier.name, "checked_in": 0, "expected": 2}],
        "gates": [],
    }
    unchanged = client.get(url, headers={**auth, "If-None-Match": before.headers["ETag"]})
    assert unchanged.status_code == 304 and not unchanged.get_data()
    scan = f"/api/v1/checkin/events/{event.id}/scans"
    client.post(scan, json={"code": code, "gate": "East"}, headers=auth)
    after = client.get(url, headers={**auth, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    seen = after.get_json()
    assert (seen["checked_in"], seen["gates"]) == (1, [{"gate": "East", "checked_in": 1}])


def test_void_tickets_page_by_page(client, db, door, make_tickets, now) -> None:  # noqa: ANN001
    event, (ticket, _), _codes, auth = door
    tier = ticket.tier
    cancelled = make_tickets(tier=tier, quantity=3)
    refunded = make_tickets(tier=tier, quantity=2)
    make_tickets(tier=tier)  # valid: not listed
    booking = db.get(Booking, cancelled[0].booking_id)
    cancel_booking(db, booking, actor_id=None, now=now)
    db.get(Booking, refunded[0].booking_id).status = "refunded"
    db.commit()
    url = f"/api/v1/checkin/events/{event.id}/void-tickets"

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=query, headers=auth)
        assert page.status_code == 200 and page.headers["ETag"], page.get_data(as_text=True)
        body = page.get_json()
        seen += [(item["id"], item["reason"]) for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [(t.id, "cancelled") for t in cancelled] + [(t.id, "refunded") for t in refunded]
    # The same tickets the door's offline bundle lists as void.
    assert [ticket_id for ticket_id, _ in seen] == offline_bundle(db, event, now=now).void
    assert body["public_key"] and body["event_id"] == event.id
    _problem(client.get(url, query_string={"cursor": "x"}, headers=auth), 400, "bad_query")
    _problem(client.get(url, query_string={"limit": 0}, headers=auth), 400, "bad_query")


def _routes(event_id: int, check_in_id: int, code: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/checkin/events/{event_id}"
    return [
        ("POST", f"{base}/scans", {"code": code}),
        ("POST", f"{base}/check-ins/{check_in_id}/undo", None),
        ("GET", f"{base}/counters", None),
        ("GET", f"{base}/void-tickets", None),
    ]


def _fingerprint(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(CheckIn)),
        db.scalar(select(func.count()).where(CheckIn.undone_at.is_not(None))),
        db.scalar(select(func.count()).select_from(AuditEntry)),
    )


def test_strangers_get_404_and_the_wrong_scope_403_changing_nothing(
    client, db, door, make_user, make_event, token_for
) -> None:  # noqa: ANN001
    event, (_, second), (code, second_code), auth = door
    scan = f"/api/v1/checkin/events/{event.id}/scans"
    check_in_id = client.post(scan, json={"code": code}, headers=auth).get_json()["check_in"]["id"]
    stranger = token_for(make_user())
    other_organizer = token_for(make_event().organizer)
    no_scope = token_for(db.get(User, event.organizer_id), scopes=("events:read",))
    before = _fingerprint(db)
    for method, url, body in _routes(event.id, check_in_id, second_code):
        for who, headers, status, code_ in (
            ("a stranger", stranger, 404, "not_found"),
            ("another organizer", other_organizer, 404, "not_found"),
            ("no scope", no_scope, 403, "insufficient_scope"),
            ("no token", {}, 401, "missing_token"),
        ):
            response = client.open(url, method=method, json=body, headers=headers)
            assert response.status_code == status, (who, method, url, response.get_json())
            assert response.get_json()["code"] == code_
    assert _fingerprint(db) == before
    # The organizer, with the scope, is door staff of their own event (the door's policy).
    owner = token_for(db.get(User, event.organizer_id))
    green = client.post(scan, json={"code": second_code}, headers=owner).get_json()
    assert green["result"] == "green" and green["ticket"]["id"] == second.id


def test_two_parallel_scans_of_one_ticket_make_exactly_one_green(
    app: Flask, db, door, make_staff, token_for
) -> None:  # noqa: ANN001
    event, (ticket, _), (code, _), auth = door
    gates = [auth, token_for(make_staff(event))]
    start = threading.Barrier(PARALLEL)

    def at_gate(index: int) -> dict[str, Any]:
        client = app.test_client()  # each request on its own connection from the pool
        start.wait(timeout=30)
        response = client.post(
            f"/api/v1/checkin/events/{event.id}/scans",
            json={"code": code, "gate": f"G{index}", "scan_id": f"gate-{index}"},
            headers=gates[index],
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(at_gate, range(PARALLEL)))
    results = sorted((a["result"], a["reason"]) for a in answers)
    assert results == [("green", "admitted"), ("red", "already_checked_in")], answers
    assert answers[0]["check_in"] == answers[1]["check_in"]  # the red one names the green one
    assert len(_live(db)) == 1 and _live(db)[0][0] == ticket.id


def test_the_document_lists_the_check_in_operations(client) -> None:  # noqa: ANN001
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    base = "/api/v1/checkin/events/{event_id}"
    assert set(paths[f"{base}/scans"]) == {"post"}
    assert set(paths[f"{base}/check-ins/{{check_in_id}}/undo"]) == {"post"}
    assert "If-None-Match" in str(paths[f"{base}/counters"]["get"]["parameters"])
    assert {p["name"] for p in paths[f"{base}/void-tickets"]["get"]["parameters"]} >= {
        "cursor",
        "limit",
    }
