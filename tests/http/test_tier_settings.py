"""The organizer's tier form and the limits it sets: a new ticket type starts with the default
limit per person (TIER_DEFAULT_PER_USER_LIMIT), which the organizer may raise or remove."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.domain.accounts.models import Role
from app.domain.ticketing.models import TicketTier
from tests.http.test_tiers import FORM


@pytest.fixture
def organizer(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user(role=Role.ORGANIZER)
    login_as(client, user)
    return user


@pytest.fixture
def event(db, organizer, make_event):  # noqa: ANN001, ANN201
    event = make_event(organizer=organizer, currency="EUR")
    db.commit()
    return event


def limit_field(html: str) -> str:
    field = re.search(r'<input[^>]*name="per_user_limit"[^>]*>', html)
    assert field, html
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1) if value else ""


def test_a_new_tier_starts_with_the_default_limit(client, event, app: Flask, monkeypatch):  # noqa: ANN001
    url = f"/organizer/events/{event.id}/tiers/new"
    assert limit_field(client.get(url).get_data(as_text=True)) == "10"
    monkeypatch.setitem(app.config, "TIER_DEFAULT_PER_USER_LIMIT", 25)
    assert limit_field(client.get(url).get_data(as_text=True)) == "25"
    monkeypatch.setitem(app.config, "TIER_DEFAULT_PER_USER_LIMIT", 0)
    assert limit_field(client.get(url).get_data(as_text=True)) == ""


@pytest.mark.parametrize(("sent", "kept"), [("", None), ("50", 50), ("2", 2)])
def test_the_organizer_removes_raises_or_lowers_the_limit(db, client, event, sent, kept):  # noqa: ANN001
    url = f"/organizer/events/{event.id}/tiers/new"
    assert client.post(url, data={**FORM, "per_user_limit": sent}).status_code == 303
    assert db.scalars(select(TicketTier)).one().per_user_limit == kept


@pytest.mark.parametrize("sent", ["ten", "0", "-3", "10001"])
def test_a_bad_limit_is_refused(db, client, event, sent):  # noqa: ANN001
    url = f"/organizer/events/{event.id}/tiers/new"
    response = client.post(url, data={**FORM, "per_user_limit": sent})
    assert response.status_code == 422 and 'id="per_user_limit-error"' in response.text
    assert db.scalar(select(func.count()).select_from(TicketTier)) == 0


def test_a_hidden_tier_needs_a_code_of_at_least_8_characters(db, client, event):  # noqa: ANN001
    url = f"/organizer/events/{event.id}/tiers/new"
    short = client.post(url, data={**FORM, "hidden": "y", "access_code": "CREW-01"})
    assert short.status_code == 422 and 'id="access_code-error"' in short.text
    assert "at least 8 characters" in short.text
    assert db.scalar(select(func.count()).select_from(TicketTier)) == 0
    long_enough = client.post(url, data={**FORM, "hidden": "y", "access_code": "CREW-2026"})
    assert long_enough.status_code == 303
    assert db.scalars(select(TicketTier)).one().access_code == "CREW-2026"


def test_a_short_code_set_before_the_minimum_keeps_working_until_changed(
    db, client, event, make_tier
):  # noqa: ANN001
    tier = make_tier(event=event, capacity=5, currency="EUR", hidden=True, access_code="PRESS")
    db.commit()
    edit = f"/organizer/events/{event.id}/tiers/{tier.id}/edit"
    page = client.get(edit).text
    assert "shorter: it keeps working until you change it" in page
    form = {**FORM, "hidden": "y", "access_code": "PRESS", "capacity": "5"}
    assert client.post(edit, data=form).status_code == 303  # saved with its code unchanged
    other_short = client.post(edit, data={**form, "access_code": "PRESS2"})
    assert other_short.status_code == 422 and "at least 8 characters" in other_short.text
    db.expire_all()
    assert db.get(TicketTier, tier.id).access_code == "PRESS"
    # Buyers who have the old code still get in.
    unlocked = client.get(f"/events/{event.id}/tickets?code=PRESS").text
    assert 'name="access_code" value="PRESS"' in unlocked
