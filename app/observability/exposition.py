"""What a scrape of `/metrics` (or of the worker's metrics port) answers.

Every process's counters, added up (multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set),
plus gauges read at scrape time: the queues' depth and oldest due item from the database
(bounded, index-only look-ups) and the embedded database's disk. One scrape costs three small
queries; nothing polls in between.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from app.observability.metrics import PREFIX

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEPTH_CAP = 10_000  # a backlog past this shows as this: counting further costs a scan

# One row per queue: pending items (capped) and the age of the oldest one due, each answered
# from the queue's partial index on pending rows.
_QUEUES = text(
    """
    SELECT 'outbox', (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE processed_at IS NULL
                      LIMIT :cap) AS o),
           EXTRACT(EPOCH FROM now() - (SELECT min(available_at) FROM outbox
                   WHERE processed_at IS NULL AND available_at <= now()))
    UNION ALL
    SELECT 'notifications', (SELECT count(*) FROM (SELECT 1 FROM notifications
                             WHERE status = 'pending' LIMIT :cap) AS n),
           EXTRACT(EPOCH FROM now() - (SELECT min(due_at) FROM notifications
                   WHERE status = 'pending' AND due_at <= now()))
    UNION ALL
    SELECT 'webhooks', (SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries
                        WHERE status = 'pending' LIMIT :cap) AS w),
           EXTRACT(EPOCH FROM now() - (SELECT min(next_try_at) FROM webhook_deliveries
                   WHERE status = 'pending' AND next_try_at <= now()))
    """
)


class DatabaseCollector(Collector):
    """Queue depth and age from the database; the embedded database's disk when it runs here."""

    def __init__(self, engine: Engine, data_dir: str | None) -> None:
        self.engine = engine
        self.data_dir = data_dir

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "Pending items (capped at 10000).", labels=["queue"]
        )
        age = GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_age_seconds",
            "How long the oldest due item has waited (0: none due).",
            labels=["queue"],
        )
        with self.engine.connect() as conn:
            for queue, pending, oldest in conn.execute(_QUEUES, {"cap": DEPTH_CAP}):
                depth.add_metric([queue], pending)
                age.add_metric([queue], max(0.0, float(oldest or 0)))
        yield depth
        yield age
        if self.data_dir and Path(self.data_dir).is_dir():
            used = GaugeMetricFamily(
                f"{PREFIX}_database_data_bytes", "Size of the embedded database's directory."
            )
            used.add_metric([], directory_bytes(Path(self.data_dir)))
            free = GaugeMetricFamily(
                f"{PREFIX}_database_disk_free_bytes",
                "Free space on the embedded database's filesystem.",
            )
            total = GaugeMetricFamily(
                f"{PREFIX}_database_disk_size_bytes",
                "Size of the embedded database's filesystem.",
            )
            disk = shutil.disk_usage(self.data_dir)
            free.add_metric([], disk.free)
            total.add_metric([], disk.total)
            yield from (used, free, total)


def directory_bytes(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:  # a WAL segment recycled meanwhile
                continue
    return total


class _ThisProcess(Collector):
    """The default registry's metrics (outside multiprocess mode)."""

    def collect(self) -> Iterable:
        return REGISTRY.collect()


def registry_for(engine: Engine | None, data_dir: str | None) -> CollectorRegistry:
    """All processes' metrics (multiprocess mode) or this one's, and the database gauges;
    every collector is read anew at each scrape."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if engine is not None:
        registry.register(DatabaseCollector(engine, data_dir))
    return registry


def scrape(engine: Engine | None, data_dir: str | None) -> bytes:
    """The exposition text of `registry_for`."""
    return generate_latest(registry_for(engine, data_dir))


def serve_metrics(
    engine: Engine, data_dir: str | None, *, host: str, port: int
) -> tuple[WSGIServer, threading.Thread]:
    """Serve `/metrics` on a port of its own, in a daemon thread (the worker's); returns the
    server (to `shutdown()`) and its thread."""
    return start_http_server(port, addr=host, registry=registry_for(engine, data_dir))
