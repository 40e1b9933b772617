"""The audit log's filters (actor, action, target, dates), each narrowing on its own, with a
clear refusal for a filter that cannot apply; each change shown as its before and after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from app.domain.accounts.models import Role
from app.domain.audit import record
from app.domain.events.models import Category


@pytest.fixture
def logged(app: Flask, db, make_user, login_as, now):  # noqa: ANN001, ANN201
    """An admin's client, and entries by two actors on two targets across three days."""
    admin = make_user(role=Role.ADMIN, email="root@example.test")
    other = make_user(email="other@example.test")
    category = Category(name="Jazz", slug="jazz")
    db.add(category)
    db.flush()
    record(db, "alpha.done", actor_id=admin.id, target=other, now=now - timedelta(days=3))
    record(db, "beta.done", actor_id=other.id, target=category, now=now - timedelta(days=1))
    record(
        db,
        "category.renamed",
        actor_id=admin.id,
        target=category,
        now=now,
        before={"name": "Jaz"},
        after={"name": "Jazz"},
    )
    db.commit()
    client = app.test_client()
    login_as(client, admin)
    return client, admin, other, category


def _shown(client, query: str) -> set[str]:  # noqa: ANN001
    html = client.get(f"/admin/audit?{query}").get_data(as_text=True)
    return {
        a for a in ("alpha.done", "beta.done", "category.renamed") if f"<code>{a}</code>" in html
    }


def test_each_filter_narrows(logged, now) -> None:  # noqa: ANN001
    client, admin, other, category = logged
    assert _shown(client, "") == {"alpha.done", "beta.done", "category.renamed"}
    assert _shown(client, "actor=OTHER@example.test") == {"beta.done"}
    assert _shown(client, "action=alpha.done") == {"alpha.done"}
    assert _shown(client, "target_type=categories") == {"beta.done", "category.renamed"}
    assert _shown(client, f"target_type=users&target_id={other.id}") == {"alpha.done"}
    assert _shown(client, f"target_type=users&target_id={admin.id}") == set()
    today = now.date()
    assert _shown(client, f"date_from={today - timedelta(days=1)}") == {
        "beta.done",
        "category.renamed",
    }
    assert _shown(client, f"date_to={today - timedelta(days=1)}") == {"alpha.done", "beta.done"}
    day = today - timedelta(days=1)
    assert _shown(client, f"date_from={day}&date_to={day}") == {"beta.done"}
    assert _shown(client, "actor=root@example.test&target_type=categories") == {"category.renamed"}


def test_the_filter_lists_offer_the_actions_and_targets_present(logged) -> None:  # noqa: ANN001
    client, *_ = logged
    html = client.get("/admin/audit").get_data(as_text=True)
    for value in ("alpha.done", "beta.done", "category.renamed", "users", "categories"):
        assert f"<option>{value}</option>" in html
    chosen = client.get("/admin/audit?action=beta.done").get_data(as_text=True)
    assert "<option selected>beta.done</option>" in chosen


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("actor=nobody@example.test", "No user has the email address nobody@example.test."),
        ("date_from=31-12-2026", "Give dates as YYYY-MM-DD"),
        ("date_to=2026-02-30", "Give dates as YYYY-MM-DD"),
        ("date_from=2026-03-02&date_to=2026-03-01", "The end date is before the start date."),
        ("target_type=users&target_id=abc", "A target id is a whole number"),
        ("target_id=7", "Pick the kind of target the id belongs to."),
    ],
)
def test_a_filter_that_cannot_apply_is_refused_clearly(logged, query, message) -> None:  # noqa: ANN001
    client, *_ = logged
    response = client.get(f"/admin/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400  # a query the page cannot answer, as the attendee filters
    assert message in html and 'aria-invalid="true"' in html
    assert "<code>" not in html


def test_changes_show_their_before_and_after(logged) -> None:  # noqa: ANN001
    client, *_ = logged
    html = client.get("/admin/audit?action=category.renamed").get_data(as_text=True)
    assert '<table class="audit-change">' in html
    assert '<th scope="row">name</th><td><del>Jaz</del></td><td><ins>Jazz</ins></td>' in html


def test_a_role_change_is_recorded_and_shown_as_before_and_after(
    app, db, make_user, login_as
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    user = make_user()
    client = app.test_client()
    login_as(client, admin)
    client.post(f"/admin/users/{user.id}/role", data={"role": "organizer"})
    html = client.get(f"/admin/audit?target_type=users&target_id={user.id}").get_data(as_text=True)
    assert "<del>attendee</del>" in html and "<ins>organizer</ins>" in html


def test_pages_keep_the_filters(app, db, make_user, login_as, now) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    for n in range(105):
        record(db, "bulk.done", actor_id=admin.id, now=now, n=n)
    record(db, "other.done", actor_id=admin.id, now=now)
    db.commit()
    client = app.test_client()
    login_as(client, admin)
    first = client.get("/admin/audit?action=bulk.done").get_data(as_text=True)
    assert first.count("<code>bulk.done</code>") == 100
    older = first.split('href="/admin/audit?')[-1].split('"')[0].replace("&amp;", "&")
    assert "action=bulk.done" in older and "before=" in older
    second = client.get(f"/admin/audit?{older}").get_data(as_text=True)
    assert second.count("<code>bulk.done</code>") == 5
    assert "<code>other.done</code>" not in second


def test_the_filters_use_indexes(db, make_user, now) -> None:  # noqa: ANN001
    """With a few thousand entries, the action filter and its list read the action index, and
    the target and date filters theirs, instead of scanning the log."""
    admin = make_user(role=Role.ADMIN)
    db.execute(
        text(
            "INSERT INTO audit_log (actor_id, action, target_type, target_id, data, created_at) "
            "SELECT :actor, 'bulk.' || (i % 40), 'users', i % 500, '{}', "
            "now() - (i || ' minutes')::interval FROM generate_series(1, 5000) i"
        ),
        {"actor": admin.id},
    )
    db.execute(text("ANALYZE audit_log"))

    def plan(sql: str) -> str:
        return "\n".join(db.scalars(text(f"EXPLAIN {sql}")))

    by_action = plan("SELECT * FROM audit_log WHERE action = 'bulk.7' ORDER BY id DESC LIMIT 101")
    assert "ix_audit_log_action_id" in by_action, by_action
    by_target = plan(
        "SELECT * FROM audit_log WHERE target_type = 'users' AND target_id = 7 "
        "ORDER BY id DESC LIMIT 101"
    )
    assert "ix_audit_log_target" in by_target, by_target
    from app.domain.accounts.audit_log import _ACTIONS, actions_present

    assert "ix_audit_log_action_id" in plan(str(_ACTIONS))
    assert len(actions_present(db)) == 40
