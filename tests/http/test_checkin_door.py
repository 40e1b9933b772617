"""The door over HTTP: JSON, htmx and plain-form answers to a scan, undo, search, the offline
bundle and sync; staff of one event reach nothing of another's; CSRF applies."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.checkin.models import CheckIn, DoubleAdmission
from app.domain.ticketing.models import Booking
from app.domain.tickets.signing import public_key
from tests.conftest import csrf_token_from

JSON = {"Accept": "application/json"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def door(db, make_tickets, make_staff, login_as, client):  # noqa: ANN001, ANN201
    """Two tickets of one event, and the client signed in as its staff."""
    tickets = make_tickets(quantity=2)
    tickets[0].holder_name = "Ada Lovelace"
    event = db.get(Booking, tickets[0].booking_id).event
    staff = make_staff(event, name="Sam Staff")
    login_as(client, staff)  # commits
    return event, tickets, staff


def check_ins(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(CheckIn))


def test_a_json_scan_is_green_then_red(client, db, door, ticket_code):  # noqa: ANN001
    event, (ticket, _), _staff = door
    code = ticket_code(ticket)
    db.commit()
    url = f"/checkin/{event.id}/scan"
    first = client.post(url, data={"code": code, "gate": "North", "scan_id": "p1:1"}, headers=JSON)
    assert first.status_code == 200
    body = first.get_json()
    assert body["result"] == "admitted" and body["conflict"] is False
    assert body["ticket"] == {
        "id": ticket.id,
        "name": "Ada Lovelace",
        "tier": body["ticket"]["tier"],
        "seat": None,
    }
    assert body["check_in"]["gate"] == "North" and body["check_in"]["by"] == "Sam Staff"
    replay = client.post(url, data={"code": code, "gate": "North", "scan_id": "p1:1"}, headers=JSON)
    assert replay.get_json()["result"] == "admitted"
    assert replay.get_json()["check_in"]["id"] == body["check_in"]["id"]
    again = client.post(url, data={"code": code, "gate": "South"}, headers=JSON)
    assert again.status_code == 200
    assert again.get_json()["result"] == "already_checked_in"
    assert again.get_json()["check_in"]["gate"] == "North"
    assert "already checked in" in again.get_json()["message"].lower()
    assert check_ins(db) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"code": ""},
        {"code": "x" * 201},
        {"code": "ABC", "ticket_id": "1"},
        {"ticket_id": "not a number"},
        {"code": "ABC", "scan_id": "spaces are not allowed"},
        {"code": "ABC", "gate": "g" * 41},
    ],
)
def test_malformed_scans_are_refused(client, db, door, fields) -> None:  # noqa: ANN001
    event, _tickets, _staff = door
    response = client.post(f"/checkin/{event.id}/scan", data=fields, headers=JSON)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"
    assert client.post(f"/checkin/{event.id}/scan", data=fields).status_code == 422
    assert check_ins(db) == 0


def test_red_answers_are_answers(client, db, door, ticket_code, make_tickets):  # noqa: ANN001
    event, _tickets, _staff = door
    (elsewhere,) = make_tickets()
    code = ticket_code(elsewhere)
    db.commit()
    url = f"/checkin/{event.id}/scan"
    answers = [
        client.post(url, data={"code": code}, headers=JSON),
        client.post(url, data={"code": "NOTATICKET"}, headers=JSON),
        client.post(url, data={"ticket_id": str(elsewhere.id)}, headers=JSON),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["result"] for a in answers] == [
        "other_event",
        "not_a_ticket",
        "not_a_ticket",
    ]
    assert all(a.get_json()["ticket"] is None for a in answers)
    assert check_ins(db) == 0


def test_the_page_works_without_javascript(client, db, door, ticket_code):  # noqa: ANN001
    event, (ticket, _), _staff = door
    code = ticket_code(ticket)
    db.commit()
    page = client.get(f"/checkin/{event.id}?gate=East")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for part in ('id="scan-form"', 'id="scan-result"', 'id="counters"', 'id="scanner"'):
        assert part in html
    assert 'data-gate="East"' in html and "0</strong> / 2" in html
    assert "checkin_gate=East" in page.headers["Set-Cookie"]
    green = client.post(f"/checkin/{event.id}/scan", data={"code": code, "gate": "East"})
    html = green.get_data(as_text=True)
    assert green.status_code == 200 and "verdict-ok" in html and "Ada Lovelace" in html
    assert "1</strong> / 2" in html  # the page's counters include it
    red = client.post(f"/checkin/{event.id}/scan", data={"code": code, "gate": "East"})
    assert "verdict-bad" in red.get_data(as_text=True)
    assert "Already checked in" in red.get_data(as_text=True)
    # The gate is remembered by the phone for the next page.
    assert 'data-gate="East"' in client.get(f"/checkin/{event.id}").get_data(as_text=True)


def test_htmx_gets_the_result_fragment_and_undo(client, db, door, ticket_code):  # noqa: ANN001
    event, (ticket, _), _staff = door
    code = ticket_code(ticket)
    db.commit()
    fragment = client.post(f"/checkin/{event.id}/scan", data={"code": code}, headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "verdict-ok" in html
    check_in_id = db.scalar(select(CheckIn.id))
    assert f'name="check_in_id" value="{check_in_id}"' in html
    undone = client.post(
        f"/checkin/{event.id}/undo", data={"check_in_id": str(check_in_id)}, headers=HTMX
    )
    assert undone.status_code == 200 and "Check-in undone" in undone.get_data(as_text=True)
    twice = client.post(
        f"/checkin/{event.id}/undo", data={"check_in_id": str(check_in_id)}, headers=JSON
    )
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_undone"
    again = client.post(f"/checkin/{event.id}/scan", data={"code": code}, headers=JSON)
    assert again.get_json()["result"] == "admitted"


def test_search_by_name_and_reference_then_check_in(client, db, door):  # noqa: ANN001
    event, (ticket, other), _staff = door
    reference = db.get(Booking, ticket.booking_id).reference
    db.commit()
    client.get(f"/checkin/{event.id}?gate=West")  # the phone's gate
    by_name = client.get(f"/checkin/{event.id}/search?q=lovel", headers=HTMX)
    html = by_name.get_data(as_text=True)
    assert "Ada Lovelace" in html and f'name="ticket_id" value="{ticket.id}"' in html
    assert 'name="gate" value="West"' in html  # checked in by hand at this phone's gate
    assert f'value="{other.id}"' not in html
    by_reference = client.get(f"/checkin/{event.id}/search?q={reference.lower()}")
    html = by_reference.get_data(as_text=True)
    assert "<html" in html and f'value="{ticket.id}"' in html and f'value="{other.id}"' in html
    nothing_asked = client.get(f"/checkin/{event.id}/search?q=+", headers=HTMX)
    assert nothing_asked.status_code == 200 and not nothing_asked.get_data(as_text=True).strip()
    wildcard = client.get(f"/checkin/{event.id}/search?q=%25%25", headers=HTMX)
    assert "No ticket found" in wildcard.get_data(as_text=True)
    checked = client.post(
        f"/checkin/{event.id}/scan", data={"ticket_id": str(ticket.id)}, headers=JSON
    )
    assert checked.get_json()["result"] == "admitted"


def test_the_offline_bundle(client, db, door, now):  # noqa: ANN001
    event, (ticket, other), _staff = door
    db.commit()
    client.post(f"/checkin/{event.id}/scan", data={"ticket_id": str(ticket.id)}, headers=JSON)
    response = client.get(f"/checkin/{event.id}/offline.json")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    bundle = response.get_json()
    key = base64.urlsafe_b64decode(bundle["public_key"] + "=")
    assert key == public_key(db, event.id, now=now)
    assert bundle["event_id"] == event.id and bundle["void"] == []
    assert bundle["checked_in"] == [ticket.id]
    assert bundle["tickets"][str(other.id)]["tier"]
    assert bundle["tickets"][str(ticket.id)]["name"] == "Ada Lovelace"


def test_sync_reports_tickets_admitted_twice(client, db, door, ticket_code, now):  # noqa: ANN001
    event, (ticket, other), _staff = door
    codes = ticket_code(ticket), ticket_code(other)
    db.commit()
    client.post(f"/checkin/{event.id}/scan", data={"code": codes[0], "gate": "A"}, headers=JSON)
    at = (now - timedelta(minutes=3)).isoformat()
    payload = {
        "scans": [
            {"scan_id": "off-1", "code": codes[0], "gate": "B", "scanned_at": at},
            {"scan_id": "off-2", "code": codes[1], "gate": "B", "scanned_at": at},
        ]
    }
    first = client.post(f"/checkin/{event.id}/sync", json=payload)
    assert first.status_code == 200
    results = first.get_json()["results"]
    assert [(r["scan_id"], r["result"], r["conflict"]) for r in results] == [
        ("off-1", "already_checked_in", True),
        ("off-2", "admitted", False),
    ]
    assert results[0]["check_in"]["gate"] == "A"
    again = client.post(f"/checkin/{event.id}/sync", json=payload).get_json()["results"]
    assert [(r["result"], r["conflict"]) for r in again] == [
        (r["result"], r["conflict"]) for r in results
    ]
    assert check_ins(db) == 2
    assert db.scalar(select(func.count()).select_from(DoubleAdmission)) == 1
    listing = client.get(f"/checkin/{event.id}/conflicts").get_data(as_text=True)
    assert "Ada Lovelace" in listing and "gate B" in listing and "gate A" in listing


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"scans": "no"},
        {"scans": [{"scan_id": "x", "code": "A", "gate": "B"}]},  # no time
        {"scans": [{"scan_id": "x", "code": "A", "scanned_at": "2026-01-01T10:00:00"}]},  # naive
        {"scans": [{"scan_id": "x" * 65, "code": "A", "scanned_at": "2026-01-01T10:00:00Z"}]},
        {"scans": [{"scan_id": "x", "scanned_at": "2026-01-01T10:00:00Z"}]},
        {"scans": [{"scan_id": "x", "ticket_id": True, "scanned_at": "2026-01-01T10:00:00Z"}]},
        {"scans": [{"scan_id": "x", "code": 5, "scanned_at": "2026-01-01T10:00:00Z"}]},
        {
            "scans": [
                {"scan_id": f"s{i}", "code": "A", "scanned_at": "2026-01-01T10:00:00Z"}
                for i in range(201)
            ]
        },
    ],
)
def test_malformed_syncs_change_nothing(client, db, door, payload) -> None:  # noqa: ANN001
    event, _tickets, _staff = door
    response = client.post(f"/checkin/{event.id}/sync", json=payload)
    assert response.status_code == 422
    assert check_ins(db) == 0


def test_staff_of_one_event_reach_nothing_of_another(
    client,
    db,
    door,
    make_tickets,
    ticket_code,  # noqa: ANN001
) -> None:
    _event, _tickets, _staff = door
    (theirs,) = make_tickets()
    other_event = db.get(Booking, theirs.booking_id).event
    code = ticket_code(theirs)
    db.commit()
    base = f"/checkin/{other_event.id}"
    at = "2026-01-01T10:00:00+00:00"
    answers = [
        client.get(base),
        client.get(f"{base}/search?q=User"),
        client.get(f"{base}/counters"),
        client.get(f"{base}/counters/stream"),
        client.get(f"{base}/offline.json"),
        client.get(f"{base}/conflicts"),
        client.post(f"{base}/scan", data={"code": code}, headers=JSON),
        client.post(f"{base}/scan", data={"ticket_id": str(theirs.id)}),
        client.post(f"{base}/undo", data={"check_in_id": "1"}),
        client.post(
            f"{base}/sync",
            json={"scans": [{"scan_id": "z", "code": code, "scanned_at": at}]},
        ),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert answers[6].get_json()["error"] == "not_found"
    assert check_ins(db) == 0


def test_visitors_are_sent_to_log_in(app, db, door) -> None:  # noqa: ANN001
    event, _tickets, _staff = door
    visitor = app.test_client()
    page = visitor.get(f"/checkin/{event.id}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    scanned = visitor.post(f"/checkin/{event.id}/scan", data={"code": "A"}, headers=JSON)
    assert scanned.status_code == 401 and scanned.get_json()["error"] == "login_required"
    assert visitor.get(f"/checkin/{event.id}/offline.json").status_code == 401
    assert visitor.post(f"/checkin/{event.id}/sync", json={"scans": []}).status_code == 401
    assert check_ins(db) == 0


def test_scans_need_the_csrf_token(csrf_app, db, make_tickets, make_staff, login_as, ticket_code):  # noqa: ANN001
    (ticket,) = make_tickets()
    event = db.get(Booking, ticket.booking_id).event
    staff = make_staff(event)
    client = csrf_app.test_client()
    login_as(client, staff)
    code = ticket_code(ticket)
    db.commit()
    url = f"/checkin/{event.id}/scan"
    assert client.post(url, data={"code": code}, headers=JSON).status_code == 400
    token = csrf_token_from(client.get(f"/checkin/{event.id}").get_data(as_text=True))
    headers = {**JSON, "X-CSRFToken": token}
    assert client.post(url, data={"code": code}, headers=headers).get_json()["result"] == "admitted"
    sync = client.post(f"/checkin/{event.id}/sync", json={"scans": []})
    assert sync.status_code == 400
    assert (
        client.post(f"/checkin/{event.id}/sync", json={"scans": []}, headers=headers).status_code
        == 200
    )
    assert check_ins(db) == 1


def test_an_oversized_sync_is_refused_unread(client, db, door) -> None:  # noqa: ANN001
    event, _tickets, _staff = door
    body = '{"scans": [' + ",".join(['{"scan_id": "x", "code": "' + "A" * 190 + '"}'] * 1400)
    response = client.post(
        f"/checkin/{event.id}/sync", data=body + "]}", content_type="application/json"
    )
    assert response.status_code == 413 and "smaller batches" in response.get_json()["message"]
