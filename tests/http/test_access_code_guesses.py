"""Guessing hidden tiers' access codes over HTTP: every way a code is sent counts a wrong one,
for the user and for the network; past the limit no code is compared (429), and the tiers
stay hidden."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Attempt
from app.domain.accounts.rate_limit import ACCESS_CODE
from app.domain.ticketing.models import Booking, WaitlistEntry

NAT = {"REMOTE_ADDR": "198.51.100.7"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}
CODE = "CREW-2026"


@pytest.fixture(autouse=True)
def limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "ACCESS_CODE_MAX_FAILURES_PER_USER", 2)
    monkeypatch.setitem(app.config, "ACCESS_CODE_MAX_FAILURES_PER_NETWORK", 4)


@pytest.fixture
def hidden(db: Session, make_tier):  # noqa: ANN001, ANN201
    tier = make_tier(capacity=5, hidden=True, access_code=CODE, name="Crew")
    db.commit()
    return tier


def panel(client: FlaskClient, tier, code: str, environ=NAT):  # noqa: ANN001, ANN201
    return client.get(f"/events/{tier.event_id}/tickets?code={code}", environ_base=environ)


def wrong_codes(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).where(Attempt.action == ACCESS_CODE))


def test_a_users_wrong_codes_block_them_and_not_others(
    db: Session, client: FlaskClient, app: Flask, hidden, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    login_as(client, user)
    for guess in ("CREW-2025", "CREW-2024"):
        page = panel(client, hidden, guess, ELSEWHERE)
        assert page.status_code == 200 and "does not unlock" in page.text
    assert wrong_codes(db) == 2
    blocked = panel(client, hidden, CODE)  # the right code, from another network even
    assert blocked.status_code == 429 and "Too many wrong access codes" in blocked.text
    assert "Crew" not in blocked.text and "does not unlock" not in blocked.text
    someone_else = app.test_client()
    login_as(someone_else, make_user())
    assert "Crew" in panel(someone_else, hidden, CODE).text


def test_a_networks_wrong_codes_block_everyone_behind_it(
    db: Session, client: FlaskClient, hidden
) -> None:
    for n in range(4):
        assert panel(client, hidden, f"GUESS-{n:04}").status_code == 200  # anonymous
    assert panel(client, hidden, CODE).status_code == 429
    assert "Crew" in panel(client, hidden, CODE, ELSEWHERE).text


def test_wrong_codes_sent_with_a_booking_or_a_join_count(
    db: Session, client: FlaskClient, hidden, make_user, login_as
) -> None:  # noqa: ANN001
    login_as(client, make_user())
    form = {"tier_id": hidden.id, "quantity": 1, "access_code": "CREW-2025"}
    booked = client.post(f"/events/{hidden.event_id}/book", data=form, environ_base=NAT)
    assert booked.status_code == 422 and "valid access code" in booked.text
    joined = client.post(f"/events/{hidden.event_id}/waitlist", data=form, environ_base=NAT)
    assert joined.status_code == 422
    assert wrong_codes(db) == 2
    right = {**form, "access_code": CODE}
    refused = client.post(f"/events/{hidden.event_id}/book", data=right, environ_base=NAT)
    assert refused.status_code == 429 and "Too many wrong access codes" in refused.text
    assert 'name="access_code"' not in refused.text  # the panel does not unlock it either
    refused = client.post(f"/events/{hidden.event_id}/waitlist", data=right, environ_base=NAT)
    assert refused.status_code == 429
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Booking)) == 0
    assert db.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


def test_a_code_sent_with_any_post_counts_even_when_the_post_fails_otherwise(
    db: Session, client: FlaskClient, hidden, make_user, login_as
) -> None:  # noqa: ANN001
    """A refused post shows the panel with what its code unlocks: that is a guess too."""
    login_as(client, make_user())
    url = f"/events/{hidden.event_id}/book"
    for guess in ("CREW-2025", "CREW-2024"):
        page = client.post(url, data={"tier_id": 0, "quantity": 1, "access_code": guess})
        assert page.status_code == 422 and "does not unlock" in page.text
    page = client.post(url, data={"tier_id": 0, "quantity": 1, "access_code": CODE})
    assert page.status_code == 429 and "Crew" not in page.text


def test_the_right_code_counts_nothing(db: Session, client: FlaskClient, hidden) -> None:
    for _ in range(5):
        assert "Crew" in panel(client, hidden, CODE).text
    assert wrong_codes(db) == 0
