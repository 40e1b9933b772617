"""A gate's name with control characters is refused with a clear error wherever it is sent
(the door's scan form, an offline sync, the API), never passed to PostgreSQL, which refuses a
NUL in text (that was a 500)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.domain.checkin.models import CheckIn
from app.domain.ticketing.models import Booking
from app.web.checkin.forms import clean_gate

JSON = {"Accept": "application/json"}


@pytest.fixture
def door(db, make_tickets, make_staff, login_as, client, ticket_code):  # noqa: ANN001, ANN201
    (ticket,) = make_tickets()
    event = db.get(Booking, ticket.booking_id).event
    code = ticket_code(ticket)
    login_as(client, make_staff(event))  # commits
    return event, ticket, code


def _check_ins(db) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(CheckIn))


@pytest.mark.parametrize("gate", ["North\x00", "A\x7fB", "\x1b[31m"])
def test_a_scan_at_a_gate_with_control_characters_is_refused(client, db, door, gate) -> None:  # noqa: ANN001
    event, ticket, code = door
    response = client.post(
        f"/checkin/{event.id}/scan", data={"code": code, "gate": gate}, headers=JSON
    )
    assert response.status_code == 422
    assert "control characters" in str(response.get_json()["fields"]["gate"])
    sync = client.post(
        f"/checkin/{event.id}/sync",
        json={
            "scans": [
                {
                    "scan_id": "s-1",
                    "ticket_id": ticket.id,
                    "gate": gate,
                    "scanned_at": datetime.now(UTC).isoformat(),
                }
            ]
        },
    )
    assert sync.status_code == 422 and "gate" in sync.get_json()["message"]
    assert _check_ins(db) == 0


def test_clean_gate_keeps_plain_names_and_folds_spaces() -> None:
    assert clean_gate("  North \t Hall ") == "North Hall"
    assert clean_gate("Nord\x00") is None
    assert clean_gate("   ") is None
