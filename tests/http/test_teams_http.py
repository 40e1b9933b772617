"""Organizer teams over HTTP: the owner's team page (invite, change a role, remove, withdraw),
the invitee's page, each role against each organizer page (what it may read and change, and
what answers "not found" changing nothing), removal and role changes effective at the next
click, and 2FA for members who see money."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.events.models import Event, EventStatus
from app.domain.invitations import INVITATION_TTL
from app.domain.teams import membership
from app.domain.teams.models import TeamInvitation, TeamMember, TeamRole
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking
from tests.factories.accounts import link_in


def _count(db: Session, model: type) -> int:
    db.rollback()  # see what the requests committed
    return db.scalar(select(func.count()).select_from(model))


def _state(db: Session) -> str:
    db.rollback()
    return db.scalar(
        text(
            "SELECT md5(concat((SELECT string_agg(e::text, '|' ORDER BY e.id) FROM events e),"
            " (SELECT string_agg(t::text, '|' ORDER BY t.id) FROM team_members t),"
            " (SELECT string_agg(r::text, '|' ORDER BY r.id) FROM refunds r),"
            " (SELECT string_agg(i::text, '|' ORDER BY i.id) FROM team_invitations i)))"
        )
    )


def test_an_owner_invites_and_the_invitee_joins_from_the_mailed_link(
    app: Flask, client: FlaskClient, db: Session, make_user, make_event, login_as, notification_mail
) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    event = make_event(organizer=owner, title="Harbour jazz night")
    login_as(client, owner)
    assert client.get("/organizer/team/").status_code == 200
    answer = client.post(
        "/organizer/team/invitations", data={"email": "Sam@Example.test", "role": "checkin"}
    )
    assert answer.status_code == 303
    page = client.get("/organizer/team/").get_data(as_text=True)
    assert "Invitation sent to Sam@example.test." in page and "Check-in" in page
    (mail,) = notification_mail(to="sam@example.test")
    path = link_in(mail["text"], "/organizer/team/invitations/")

    invitee = make_user(email="sam@example.test", name="Sam Door", with_2fa=False)
    other = app.test_client()
    login_as(other, invitee)
    shown = other.get(path)
    assert shown.status_code == 200 and "Olivia Organizer" in shown.get_data(as_text=True)
    assert other.post(path).status_code == 303
    teams = other.get("/organizer/team/memberships").get_data(as_text=True)
    assert "You are in Olivia Organizer’s team." in teams
    assert f'href="/checkin/{event.id}"' in teams
    assert f"/organizer/events/{event.id}/attendees" not in teams
    assert 'href="/organizer/team/memberships">Teams</a>' in teams  # in the navigation
    assert 'href="/checkin/">Check-in</a>' in teams
    assert other.get(f"/checkin/{event.id}").status_code == 200  # no 2FA for the door
    assert other.post(path).status_code == 410  # the link is used
    listed = client.get("/organizer/team/").get_data(as_text=True)
    assert "Sam Door" in listed


@pytest.fixture
def scene(db: Session, make_user, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """An owner's published event with one confirmed paid booking."""
    owner = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=owner, title="Harbour jazz night")
    tier = make_tier(event=event, price_minor=2500, capacity=5)
    booking = hold_units(
        db, user=make_user(), event=event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    confirm_booking(db, booking, now=now)
    db.commit()
    return owner, event, booking


# (method, path, expected for manage, sales, checkin); "ok" is any answer but a refusal.
PAGES = [
    ("GET", "/organizer/events/{e}/edit", "ok", 404, 404),
    ("POST", "/organizer/events/{e}/cancel", "ok", 404, 404),
    ("GET", "/organizer/events/{e}/tiers", "ok", 404, 404),
    ("GET", "/organizer/events/{e}/coupons", "ok", 404, 404),
    ("GET", "/organizer/events/{e}/waitlist", "ok", 404, 404),
    ("GET", "/organizer/events/{e}/attendees", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/attendees.csv", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/attendees.xlsx", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/payments", "ok", "ok", 404),
    ("POST", "/organizer/events/{e}/payments", "ok", 404, 404),
    ("GET", "/organizer/events/{e}/bookings/{b}", "ok", "ok", 404),
    ("POST", "/organizer/events/{e}/bookings/{b}/refund", "ok", 404, 404),
    ("GET", "/checkin/{e}", "ok", 404, "ok"),
    ("GET", "/organizer/team/", 403, 403, 403),
    ("POST", "/organizer/events/new", 403, 403, 403),
    ("GET", "/organizer/", "ok", "ok", "ok"),  # sent on to their teams (below)
    ("GET", "/organizer/events/{e}/analytics", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/analytics/sales.csv", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/orders.csv", "ok", "ok", 404),
    ("GET", "/organizer/events/{e}/payments.xlsx", "ok", "ok", 404),
]
ROLES = (TeamRole.MANAGE, TeamRole.SALES, TeamRole.CHECKIN)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_what_it_may_and_finds_nothing_elsewhere(
    app: Flask, db: Session, scene, make_member, login_as, role: TeamRole
) -> None:  # noqa: ANN001
    owner, event, booking = scene
    member = make_member(owner, role)
    db.commit()
    client = app.test_client()
    login_as(client, member.user)
    wrong = []
    for method, pattern, *expected in PAGES:
        want = expected[ROLES.index(role)]
        path = pattern.format(e=event.id, b=booking.reference)
        before = _state(db)
        data = {"provider": "demo", "amount": "1.00", "reason": "Sorry"}
        response = client.open(path, method=method, data=data if method == "POST" else None)
        got = response.status_code
        if want == "ok" and (got in (401, 403, 404) or got >= 500):
            wrong.append(f"{method} {path}: {got}, expected ok")
        if want != "ok":
            if got != want:
                wrong.append(f"{method} {path}: {got}, expected {want}")
            if _state(db) != before:
                wrong.append(f"{method} {path}: refused but changed the database")
    assert not wrong, wrong


def test_a_member_asking_for_the_organizer_dashboard_is_sent_to_their_teams(
    app: Flask, db: Session, scene, make_member, login_as
) -> None:  # noqa: ANN001
    owner, _, _ = scene
    member = make_member(owner, TeamRole.CHECKIN)
    db.commit()
    client = app.test_client()
    login_as(client, member.user)
    response = client.get("/organizer/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/organizer/team/memberships")


def test_revenue_stays_hidden_from_a_check_in_member_and_forms_from_a_sales_member(
    app: Flask, db: Session, scene, make_member, login_as
) -> None:  # noqa: ANN001
    owner, event, booking = scene
    seller = make_member(owner, TeamRole.SALES)
    door = make_member(owner, TeamRole.CHECKIN)
    db.commit()
    client = app.test_client()
    login_as(client, seller.user)
    page = client.get(f"/organizer/events/{event.id}/bookings/{booking.reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "25.00" in html
    assert "/refund" not in html and '<form method="post"' not in html.split("</nav>", 1)[1]
    payments = client.get(f"/organizer/events/{event.id}/payments").get_data(as_text=True)
    assert 'name="provider"' not in payments and "Buyers may pay with" in payments
    client = app.test_client()
    login_as(client, door.user)
    for path in (
        f"/organizer/events/{event.id}/payments",
        f"/organizer/events/{event.id}/bookings/{booking.reference}",
        f"/organizer/events/{event.id}/attendees.csv",
    ):
        answer = client.get(path)
        assert answer.status_code == 404 and "25.00" not in answer.get_data(as_text=True)


def test_a_manager_acts_on_the_owners_events_and_lands_on_their_teams(
    app: Flask, db: Session, make_user, make_event, make_member, login_as
) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    draft = make_event(organizer=owner, status=EventStatus.DRAFT)
    manager = make_member(owner, TeamRole.MANAGE)
    db.commit()
    client = app.test_client()
    login_as(client, manager.user)
    copied = client.post(f"/organizer/events/{draft.id}/duplicate")
    assert copied.status_code == 303
    deleted = client.post(f"/organizer/events/{draft.id}/delete")
    assert deleted.status_code == 303
    assert deleted.headers["Location"].endswith("/organizer/team/memberships")
    db.rollback()
    (copy,) = db.scalars(select(Event)).all()
    assert copy.organizer_id == owner.id and copy.id != draft.id  # the owner's, not the member's
    form = client.get(f"/organizer/events/{copy.id}/edit").get_data(as_text=True)
    assert 'href="/organizer/team/memberships">← Your events' in form
    for page in (f"/organizer/events/{copy.id}/tiers", f"/organizer/events/{copy.id}/seats"):
        html = client.get(page).get_data(as_text=True)
        assert 'href="/organizer/team/memberships">&larr; Organizer' in html, page


def test_another_owners_member_finds_nothing(
    app: Flask, db: Session, scene, make_user, make_member, login_as
) -> None:  # noqa: ANN001
    _, event, booking = scene
    stranger = make_member(make_user(role=Role.ORGANIZER), TeamRole.MANAGE)
    db.commit()
    client = app.test_client()
    login_as(client, stranger.user)
    for path in (
        f"/organizer/events/{event.id}/edit",
        f"/organizer/events/{event.id}/attendees",
        f"/organizer/events/{event.id}/bookings/{booking.reference}",
        f"/checkin/{event.id}",
    ):
        assert client.get(path).status_code == 404, path


def test_removal_and_role_changes_apply_at_the_next_click(
    app: Flask, client: FlaskClient, db: Session, scene, make_member, login_as
) -> None:  # noqa: ANN001
    owner, event, _ = scene
    member = make_member(owner, TeamRole.SALES)
    db.commit()
    login_as(client, owner)
    worker = app.test_client()
    login_as(worker, member.user)
    attendees = f"/organizer/events/{event.id}/attendees"
    assert worker.get(attendees).status_code == 200

    answer = client.post(f"/organizer/team/members/{member.id}/role", data={"role": "checkin"})
    assert answer.status_code == 303
    assert worker.get(attendees).status_code == 404
    assert worker.get(f"/checkin/{event.id}").status_code == 200

    assert client.post(f"/organizer/team/members/{member.id}/remove").status_code == 303
    assert worker.get(f"/checkin/{event.id}").status_code == 404
    assert worker.get(attendees).status_code == 403  # in no team at all now
    assert _count(db, TeamMember) == 0


def test_members_who_see_money_need_two_factor_authentication(
    app: Flask, db: Session, scene, make_user, make_member, login_as
) -> None:  # noqa: ANN001
    owner, event, _ = scene
    seller = make_member(owner, TeamRole.SALES, user=make_user(with_2fa=False))
    db.commit()
    client = app.test_client()
    login_as(client, seller.user)
    answer = client.get(f"/organizer/events/{event.id}/attendees")
    assert answer.status_code == 302 and "/2fa" in answer.headers["Location"]


def test_bad_team_requests_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, db: Session, make_user, make_member, login_as, now
) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    other = make_user(role=Role.ORGANIZER)
    theirs = make_member(other, TeamRole.SALES)
    mine = make_member(owner, TeamRole.SALES)
    invitation = membership.invite(
        db, other, "someone@example.test", TeamRole.SALES, now, accept_link=lambda t: t
    ).invitation
    db.commit()
    login_as(client, owner)
    before = _state(db)
    assert (
        client.post(
            f"/organizer/team/members/{theirs.id}/role", data={"role": "manage"}
        ).status_code
        == 404
    )
    assert client.post(f"/organizer/team/members/{theirs.id}/remove").status_code == 404
    assert client.post(f"/organizer/team/invitations/{invitation.id}/revoke").status_code == 404
    assert (
        client.post(f"/organizer/team/members/{mine.id}/role", data={"role": "owner"}).status_code
        == 422
    )
    assert client.post(f"/organizer/team/members/{mine.id}/role").status_code == 422
    bad = client.post(
        "/organizer/team/invitations", data={"email": "x@example.test", "role": "admin"}
    )
    assert bad.status_code == 422
    own = client.post("/organizer/team/invitations", data={"email": owner.email, "role": "sales"})
    assert own.status_code == 422 and "This is your own team." in own.get_data(as_text=True)
    again = client.post(
        "/organizer/team/invitations", data={"email": mine.user.email, "role": "manage"}
    )
    assert again.status_code == 409
    assert client.post("/organizer/team/invitations", data={"role": "sales"}).status_code == 422
    assert _state(db) == before


def test_invitation_links_refuse_other_accounts_expired_and_unknown_tokens(
    app: Flask, client: FlaskClient, db: Session, make_user, login_as, now
) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    make_user(email="sam@example.test")
    token = membership.invite(
        db, owner, "sam@example.test", TeamRole.SALES, now, accept_link=lambda t: t
    ).token
    old = membership.invite(
        db,
        owner,
        "late@example.test",
        TeamRole.SALES,
        now - INVITATION_TTL - timedelta(1),
        accept_link=lambda t: t,
    ).token
    late = make_user(email="late@example.test")
    db.commit()
    login_as(client, make_user(email="eve@example.test"))
    before = _state(db)
    page = client.post(f"/organizer/team/invitations/{token}")
    assert page.status_code == 403 and "s***@example.test" in page.get_data(as_text=True)
    assert client.get(f"/organizer/team/invitations/{token}x").status_code == 404
    login_as(client, late)
    assert client.post(f"/organizer/team/invitations/{old}").status_code == 410
    anonymous = app.test_client().get(f"/organizer/team/invitations/{token}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert _state(db) == before
    assert _count(db, TeamInvitation) == 2 and _count(db, TeamMember) == 0
