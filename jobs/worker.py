"""The background worker: `python -m jobs.worker` (the Procfile's `worker` process).

pgqueuer runs the jobs. A relay task turns committed outbox rows into jobs every second,
due notifications and webhooks are sent every second (jobs/notifications.py and
jobs/webhooks.py; several workers may run at once), hold expiry runs every second, and cron
schedules run the other periodic sweeps (see jobs/schedules.py). Stops on SIGINT/SIGTERM.

Its metrics (jobs, holds expired, offers, deliveries, queue depth) are served on
WORKER_METRICS_PORT when set: a worker usually runs in a container of its own, where the web
processes' PROMETHEUS_MULTIPROC_DIR is not shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.models import Job
from sqlalchemy.orm import Session

from app.db import Database, libpq_url, resolve_database_url
from app.domain.base import utcnow
from app.domain.ticketing import availability
from app.observability import logs, tracing
from app.observability.exposition import serve_metrics
from app.observability.metrics import JOB_FAILURES
from jobs.notifications import BATCH as NOTIFY_BATCH
from jobs.notifications import deliver_due
from jobs.relay import OUTBOX_ENTRYPOINT, relay_to_queue, run_outbox_job
from jobs.schedules import EVERY_SECOND, SCHEDULES
from jobs.webhooks import BATCH as WEBHOOK_BATCH
from jobs.webhooks import deliver_due as deliver_webhooks

log = logging.getLogger("jobs.worker")
RELAY_INTERVAL_SECONDS = 1.0
SWEEP_INTERVAL_SECONDS = 1.0
NOTIFY_INTERVAL_SECONDS = 1.0
NOTIFY_BATCHES_PER_RUN = 25


class Worker:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        availability.configure_from(config)
        # PostgreSQL itself: pgqueuer LISTENs, which a transaction pooler would deafen.
        direct = str(config.get("DATABASE_DIRECT_URL") or "")
        self.url = direct or resolve_database_url(dict(config))
        self.database = Database(
            self.url, pool_size=4, lock_timeout_ms=int(config["LOCK_TIMEOUT_MS"])
        )
        provider = tracing.start_tracing(config, "worker")
        if provider is not None:
            tracing.trace_sql(self.database.engine, provider)

    def run_outbox_message(self, message_id: int) -> None:
        with self.database.session() as session:
            run_outbox_job(session, self.config, message_id)
            session.commit()

    def run_schedule(self, name: str) -> None:
        try:
            self._run_task(name, SCHEDULES[name].task)
        except Exception:
            JOB_FAILURES.labels(name).inc()
            raise

    def run_sweeps(self) -> None:
        for name, task in EVERY_SECOND.items():
            self._run_task(name, task)

    def _run_task(self, name: str, task: Callable[[Session, datetime], int]) -> None:
        with tracing.job_span(name), self.database.session() as session:
            count = task(session, utcnow())
            session.commit()
        if count:
            log.info("%s: %s", name, count)

    def send_notifications(self) -> bool:
        """Send due notifications until none is left, or a few batches have gone (then the
        loop looks at its stop signal); each is a short transaction of its own. True when more
        may be due: the loop comes straight back instead of waiting."""
        for _ in range(NOTIFY_BATCHES_PER_RUN):
            count = deliver_due(self.database.session, self.config)
            if count:
                log.info("notifications: %s", count)
            if count < NOTIFY_BATCH:
                return False
        return True

    def send_webhooks(self) -> bool:
        """Send due webhook deliveries, as `send_notifications` does notifications."""
        for _ in range(NOTIFY_BATCHES_PER_RUN):
            count = deliver_webhooks(self.database.session, self.config)
            if count:
                log.info("webhooks: %s", count)
            if count < WEBHOOK_BATCH:
                return False
        return True

    def relay_once(self) -> int:
        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            return relay_to_queue(conn)

    async def repeat(
        self, what: str, step: Callable[[], object], interval: float, stop: asyncio.Event
    ) -> None:
        """Run `step` in a thread every `interval` seconds until `stop` is set; at once again
        when it answers True (it left work behind)."""
        while not stop.is_set():
            try:
                if await asyncio.to_thread(step) is True:
                    continue
            except Exception:  # noqa: BLE001 - keep going after a transient failure
                log.exception("%s failed", what, extra={"job": what})
                JOB_FAILURES.labels(what).inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def build_queue(self) -> PgQueuer:
        conn = await psycopg.AsyncConnection.connect(libpq_url(self.url), autocommit=True)
        pgq = PgQueuer.from_psycopg_connection(conn)

        @pgq.entrypoint(OUTBOX_ENTRYPOINT)
        async def outbox(job: Job) -> None:
            await asyncio.to_thread(self.run_outbox_message, int((job.payload or b"0").decode()))

        for name, schedule in SCHEDULES.items():
            pgq.schedule(name, schedule.cron)(self._scheduled(name))
        return pgq

    def _scheduled(self, name: str):  # noqa: ANN202 - a pgqueuer schedule handler
        async def handler(_schedule: object) -> None:
            await asyncio.to_thread(self.run_schedule, name)

        return handler

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until SIGINT/SIGTERM, or until `stop` is set (tests run the worker in a thread)."""
        pgq = await self.build_queue()
        if stop is None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, pgq.shutdown.set)
        else:
            pgq.shutdown = stop
            pgq.qm.shutdown = stop
            pgq.sm.shutdown = stop
        loops = [
            asyncio.create_task(
                self.repeat("outbox relay", self.relay_once, RELAY_INTERVAL_SECONDS, pgq.shutdown)
            ),
            asyncio.create_task(
                self.repeat("sweeps", self.run_sweeps, SWEEP_INTERVAL_SECONDS, pgq.shutdown)
            ),
            asyncio.create_task(
                self.repeat(
                    "notifications",
                    self.send_notifications,
                    NOTIFY_INTERVAL_SECONDS,
                    pgq.shutdown,
                )
            ),
            asyncio.create_task(
                self.repeat("webhooks", self.send_webhooks, NOTIFY_INTERVAL_SECONDS, pgq.shutdown)
            ),
        ]
        log.info("worker started")
        try:
            await pgq.run(dequeue_timeout=timedelta(seconds=5))
        finally:
            pgq.shutdown.set()
            await asyncio.gather(*loops)
            self.database.engine.dispose()
            log.info("worker stopped")


def main() -> None:
    from app.config import load_config

    config = load_config()
    logs.configure(config)
    tracing.start_sentry(config, flask=False)
    worker = Worker(config)
    if config["WORKER_METRICS_PORT"]:
        serve_metrics(
            worker.database.engine,
            str(config["PGDATA_DIR"]),
            host=str(config["WORKER_METRICS_HOST"]),
            port=int(config["WORKER_METRICS_PORT"]),
        )
    asyncio.run(worker.run())


if __name__ == "__main__":
    main()
