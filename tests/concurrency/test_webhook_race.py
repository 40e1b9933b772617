"""Two workers, each on its own connection, take the one due webhook delivery at once.

The invariant: the receiver gets it once. The claim is one locked update (`FOR UPDATE SKIP
LOCKED`) that also pushes the row's next try past the lease, so the second worker finds
nothing. The control claims by a plain read, as a naive worker would: both read the row due,
and both send it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import text

from app.domain.accounts.models import Role
from app.domain.webhooks import delivery, endpoints
from app.domain.webhooks.models import DeliveryStatus, WebhookDelivery, message_id_of
from jobs.webhooks import deliver_due


def _queue(db, now, make_user, receiver) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    created = endpoints.create(
        db, owner, url=receiver.url, events=["booking.confirmed"], allow_private=True, now=now
    )
    endpoints.send_test(db, owner, created.endpoint.id, now=now)
    db.commit()


def _config(app) -> dict[str, Any]:  # noqa: ANN001
    return {**app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS": True}


def test_two_workers_deliver_once(app, db, now, make_user, receiver, parallel):  # noqa: ANN001
    _queue(db, now, make_user, receiver)
    config = _config(app)
    results = parallel.run(2, lambda _i, _s: deliver_due(parallel.sessions, config, now=now))
    assert sorted(results) == [0, 1], results
    assert len(receiver.received) == 1
    db.expire_all()
    assert db.query(WebhookDelivery).one().status == DeliveryStatus.DELIVERED


def test_control_a_claim_by_plain_read_sends_twice(  # noqa: ANN001
    app, db, now, make_user, receiver, parallel, monkeypatch
):
    _queue(db, now, make_user, receiver)
    both_read = threading.Barrier(2)

    def read_due(session, *, now):  # noqa: ANN001, ANN202
        row = session.execute(
            text(
                "SELECT d.id, d.attempts, d.key, d.payload, e.id AS endpoint_id, e.url, e.secret,"
                " e.active FROM webhook_deliveries d JOIN webhook_endpoints e"
                " ON e.id = d.endpoint_id WHERE d.status = 'pending' AND d.next_try_at <= :now"
            ),
            {"now": now},
        ).first()
        both_read.wait(timeout=10)
        if row is None:
            return None
        return delivery.Claim(
            id=row.id, attempt=row.attempts, endpoint_id=row.endpoint_id,
            message_id=message_id_of(row.key), payload=row.payload, url=row.url,
            secret=row.secret, active=row.active,
        )  # fmt: skip

    monkeypatch.setattr(delivery, "claim_next", read_due)
    config = _config(app)
    results = parallel.run(2, lambda _i, _s: deliver_due(parallel.sessions, config, now=now))
    assert len(receiver.received) == 2, results
