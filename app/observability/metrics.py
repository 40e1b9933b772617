"""The application's Prometheus metrics, defined once, counted at the domain's choke points.

Counters of business events (holds, bookings, payments, ...) count a change only once the
transaction that made it has committed (`count`): a hold rolled back by a failing request was
never a hold. Under gunicorn, prometheus_client's multiprocess mode keeps each process's
values in files under PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py); `/metrics` adds them up
(app/observability/exposition.py). No Flask here: the domain and the worker import this.
"""

from __future__ import annotations

from functools import partial

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

PREFIX = "eventhall"
# No `_created` series beside every counter: multiprocess mode has none, and they double the
# series a scrape stores.
disable_created_metrics()

REQUEST_SECONDS = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a request, by route (the URL rule, not the path), method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HOLDS = Counter(f"{PREFIX}_holds_total", "Holds placed (pending bookings, offers included).")
BOOKINGS = Counter(
    f"{PREFIX}_bookings_confirmed_total", "Bookings confirmed (paid, or free on the spot)."
)
HOLD_EXPIRIES = Counter(f"{PREFIX}_hold_expiries_total", "Holds that ran out unpaid.")
WAITLIST_OFFERS = Counter(f"{PREFIX}_waitlist_offers_total", "Waitlist offers made.")
PAYMENTS = Counter(
    f"{PREFIX}_payment_events_total",
    "Provider payment events applied, by outcome (confirmed, failed, refunded, ...).",
    ["provider", "outcome"],
)
WEBHOOK_SIGNATURE_FAILURES = Counter(
    f"{PREFIX}_webhook_signature_failures_total",
    "Incoming provider webhooks refused: bad, missing or stale signature.",
    ["provider"],
)
WEBHOOK_DELIVERIES = Counter(
    f"{PREFIX}_webhook_deliveries_total",
    "Outgoing webhook delivery attempts, by outcome (delivered, retry, failed).",
    ["outcome"],
)
CHECKINS = Counter(
    f"{PREFIX}_checkin_scans_total", "Scans at the door, by outcome (admitted, ...).", ["outcome"]
)
JOB_FAILURES = Counter(
    f"{PREFIX}_job_failures_total", "Jobs that raised (retried later), by job.", ["job"]
)
LIVE_STREAMS = Gauge(
    f"{PREFIX}_live_streams", "Server-sent-event streams open now.", multiprocess_mode="livesum"
)
POOL_WAITS = Histogram(
    f"{PREFIX}_db_pool_wait_seconds",
    "Time a checkout waited for a free database connection (only checkouts that waited).",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)

_PENDING = "metrics_on_commit"


def count(session: Session, counter: Counter, amount: int = 1) -> None:
    """Add `amount` to `counter` (e.g. `HOLDS`, or `PAYMENTS.labels(...)`) once `session`'s
    transaction commits; never when the transaction, or the savepoint it was counted in,
    rolls back."""
    at = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((at, partial(counter.inc, amount)))


@event.listens_for(Session, "after_commit")
def _counted(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint released, not the commit
        return
    for _at, counter in session.info.pop(_PENDING, ()):
        counter()


@event.listens_for(Session, "after_soft_rollback")
def _dropped(session: Session, rolled_back: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [(at, c) for at, c in pending if not _inside(at, rolled_back)]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    if transaction is None:  # counted before the transaction began: gone with any rollback of it
        return outer.parent is None
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
