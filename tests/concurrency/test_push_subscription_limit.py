"""Two browsers of one user subscribing at once cannot pass the per-user limit together: the
second waits for the first's lock on the user and then counts its subscription.

The order is forced, not hoped for: the first subscribes, then waits until the second is seen
waiting for a lock in pg_stat_activity before it commits."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.notifications import push
from app.domain.notifications.push_models import PushSubscription
from tests.concurrency.test_guest_name_race import wait_for_lock_waiter
from tests.factories.push import push_subscription_json


def test_concurrent_subscriptions_respect_the_limit(
    parallel, db: Session, make_user, now: datetime
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()

    first_in = threading.Event()

    def act(index: int, session: Session) -> int:
        parsed = push.parse_subscription(
            push_subscription_json(f"https://push.example.test/{index}"), allow_local=False
        )
        if index == 1:
            assert first_in.wait(30), "the first subscription never got there"
        row = push.subscribe(session, user.id, parsed, label="A browser", limit=1, now=now)
        if index == 0:
            first_in.set()
            wait_for_lock_waiter(session)  # the other subscription now waits for this one
        return row.id

    results = parallel.run(2, act)

    assert isinstance(results[0], int)
    assert isinstance(results[1], push.PushError) and results[1].code == "too_many"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(PushSubscription)) == 1
