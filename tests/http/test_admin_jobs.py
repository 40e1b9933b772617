"""The admin's jobs page: payments pending past the reconciliation threshold, the last
reconciliation runs with their errors, failed outbox jobs of any topic. A retry brings a
failed job forward and it runs once (a replayed retry does nothing more); "reconcile now"
twice queues one request, also when two admins press it at the same moment (and its control:
without the lock, both would queue). Every action is audited."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.audit import AuditEntry
from app.domain.backoffice import outbox_jobs
from app.domain.base import utcnow
from app.domain.outbox import OutboxMessage, enqueue
from app.domain.payments import reconciliation
from app.domain.payments.models import Payment, PaymentStatus
from app.domain.payments.reconciliation import RECONCILE_TOPIC
from jobs import handlers
from jobs.relay import deliver_pending

FLAKY = "test.flaky"


@pytest.fixture
def admin_user(db: Session, make_user) -> User:  # noqa: ANN001
    user = make_user(role=Role.ADMIN)
    db.commit()
    return user


@pytest.fixture
def admin(app: Flask, admin_user: User, login_as) -> FlaskClient:  # noqa: ANN001
    client = app.test_client()
    login_as(client, admin_user)
    return client


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> list[Mapping[str, Any]]:
    """A topic whose handler fails on its first call and succeeds after; the calls it got."""
    calls: list[Mapping[str, Any]] = []

    def handle(session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise ConnectionError("mail server down")

    monkeypatch.setitem(handlers.HANDLERS, FLAKY, handle)
    return calls


def _failed_job(db: Session, app: Flask, now) -> OutboxMessage:  # noqa: ANN001
    message = enqueue(db, FLAKY, {"n": 1}, available_at=now - timedelta(seconds=1))
    db.flush()
    assert deliver_pending(db, app.config, now=now) == 0
    db.commit()
    assert message.last_error == "ConnectionError: mail server down"
    assert message.available_at > now  # waits for its retry
    return message


def test_a_retried_job_runs_once_and_a_replayed_retry_changes_nothing(
    app: Flask, db: Session, admin: FlaskClient, admin_user: User, flaky: list, now
) -> None:  # noqa: ANN001
    message = _failed_job(db, app, now)
    page = admin.get("/admin/jobs").text
    assert FLAKY in page and "mail server down" in page
    url = f"/admin/jobs/{message.id}/retry"
    assert url in page
    answer = admin.post(url, follow_redirects=True)
    assert "runs again shortly" in answer.text
    db.expire_all()
    retried = db.get(OutboxMessage, message.id)
    due = retried.available_at
    assert due <= utcnow() and retried.relayed_at is None
    # The replay, before the worker took it: nothing changes.
    replay = admin.post(url, follow_redirects=True)
    assert "not waiting for a retry" in replay.text
    db.expire_all()
    assert db.get(OutboxMessage, message.id).available_at == due
    assert deliver_pending(db, app.config) == 1
    db.commit()
    assert len(flaky) == 2  # the failed try, and the retry's one run
    # After delivery: the job is gone from the list, and a retry does nothing.
    assert admin.post(url, follow_redirects=True).status_code == 200
    assert deliver_pending(db, app.config) == 0
    assert len(flaky) == 2
    assert "Nothing has failed." in admin.get("/admin/jobs").text
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "job.retried")).all()
    assert [(e.actor_id, e.target_type, e.target_id) for e in entries] == [
        (admin_user.id, "outbox", message.id)
    ]
    assert entries[0].data["topic"] == FLAKY


def test_a_job_handed_to_the_queue_is_not_retried_again(
    app: Flask, db: Session, admin: FlaskClient, flaky: list, now
) -> None:  # noqa: ANN001
    message = _failed_job(db, app, now)
    message.relayed_at = now  # the relay took it meanwhile
    db.commit()
    page = admin.get("/admin/jobs").text
    assert "Queued for another try." in page
    answer = admin.post(f"/admin/jobs/{message.id}/retry", follow_redirects=True)
    assert "not waiting for a retry" in answer.text
    db.expire_all()
    assert db.get(OutboxMessage, message.id).relayed_at is not None


def test_retrying_a_job_that_does_not_exist_is_404(admin: FlaskClient) -> None:
    assert admin.post("/admin/jobs/99999999/retry").status_code == 404


def test_reconcile_now_twice_queues_one_and_is_audited(
    db: Session, admin: FlaskClient, admin_user: User
) -> None:
    first = admin.post("/admin/jobs/reconcile", follow_redirects=True)
    assert "Reconciliation queued" in first.text
    second = admin.post("/admin/jobs/reconcile", follow_redirects=True)
    assert "already waiting" in second.text
    db.expire_all()
    queued = db.scalars(select(OutboxMessage).where(OutboxMessage.topic == RECONCILE_TOPIC)).all()
    assert len(queued) == 1
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "payments.reconcile_requested")
    ).all()
    assert [(e.actor_id, e.target_id) for e in entries] == [(admin_user.id, queued[0].id)]
    assert "Waiting" in second.text


def _press_together(app: Flask, times: int = 2) -> None:
    """`times` transactions request a reconciliation at once, each committing after all read."""
    database = app.extensions["db"]
    barrier = threading.Barrier(times)
    errors: list[BaseException] = []

    def press() -> None:
        try:
            with database.session() as session:
                barrier.wait(timeout=10)
                reconciliation.request_reconciliation(session, now=utcnow())
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=press) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def _queued(db: Session) -> int:
    db.rollback()
    return db.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.topic == RECONCILE_TOPIC)
    )


def test_two_requests_at_once_queue_one(app: Flask, db: Session) -> None:
    for _ in range(5):
        _press_together(app, times=4)
    assert _queued(db) == 1


def test_control_without_the_lock_two_requests_at_once_queue_two(
    app: Flask, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the lock closes: each reads "none waiting" before either writes."""
    both_read = threading.Barrier(2)
    real_enqueue = reconciliation.enqueue

    def enqueue_once_both_read(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        both_read.wait(timeout=10)
        return real_enqueue(*args, **kwargs)

    monkeypatch.setattr(reconciliation, "lock_named", lambda *_: None)
    monkeypatch.setattr(reconciliation, "enqueue", enqueue_once_both_read)
    _press_together(app, times=2)
    assert _queued(db) == 2


def test_the_page_lists_stale_payments_and_the_runs_with_their_errors(
    app: Flask, db: Session, admin: FlaskClient, make_tickets, make_tier, now
) -> None:  # noqa: ANN001
    after = timedelta(seconds=app.config["PAYMENT_RECONCILE_AFTER_SECONDS"])
    booking = make_tickets(tier=make_tier(price_minor=1500))[0].booking

    def pending(ref: str, age: timedelta) -> None:
        db.add(
            Payment(
                booking_id=booking.id,
                provider="stripe",
                provider_ref=ref,
                amount_minor=1500,
                currency="USD",
                status=PaymentStatus.PENDING,
                idempotency_key=f"k-{ref}",
                created_at=now - age,
            )
        )

    pending("cs_old", after + timedelta(minutes=1))
    pending("cs_fresh", after - timedelta(minutes=1))
    done = enqueue(db, RECONCILE_TOPIC, {}, available_at=now - timedelta(hours=1))
    done.processed_at = now - timedelta(minutes=59)
    broken = enqueue(db, RECONCILE_TOPIC, {}, available_at=now + timedelta(minutes=5))
    broken.last_error = "ProviderError: stripe is down"
    broken.attempts = 1
    db.commit()
    page = admin.get("/admin/jobs").text
    assert "1 payment pending for more than" in page
    assert "cs_old" in page and "cs_fresh" not in page and booking.reference in page
    assert "stripe is down" in page and "Done" in page and "Failed" in page
    total, stale = outbox_jobs.stale_payments(db, now=now, after=after)
    assert total == 1 and [s.payment.provider_ref for s in stale] == ["cs_old"]
    # A failed run waits: "reconcile now" queues no second one.
    answer = admin.post("/admin/jobs/reconcile", follow_redirects=True)
    assert "already waiting" in answer.text
