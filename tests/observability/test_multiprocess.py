"""Metrics of several processes add up (gunicorn's workers, multiprocess mode), and the worker
serves its own on a port."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app.config import ROOT
from app.observability.exposition import serve_metrics

COUNT = """
import sys
from app.observability import metrics
metrics.HOLDS.inc(int(sys.argv[1]))
metrics.LIVE_STREAMS.inc()
metrics.REQUEST_SECONDS.labels("/events", "GET", "200").observe(0.2)
print("ready", flush=True)
sys.stdin.readline()  # stay alive until told
"""

SCRAPE = """
import runpy, sys, types
from app.observability.exposition import scrape
if len(sys.argv) > 1:  # gunicorn's hook for a worker that exited
    hooks = runpy.run_path("gunicorn.conf.py")
    hooks["child_exit"](None, types.SimpleNamespace(pid=int(sys.argv[1])))
sys.stdout.write(scrape(None, None).decode())
"""


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_two_processes_add_up_and_a_dead_ones_live_gauge_leaves(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def start(holds: int) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", COUNT, str(holds)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        return process

    def scrape(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", SCRAPE, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return samples(done.stdout)

    first, second = start(2), start(3)
    try:
        both = scrape()
        assert both[("eventhall_holds_total", ())] == 5
        assert both[("eventhall_live_streams", ())] == 2
        route = (("method", "GET"), ("route", "/events"), ("status", "200"))
        assert both[("eventhall_http_request_duration_seconds_count", route)] == 2
        second.communicate("\n", timeout=30)
        after = scrape(str(second.pid))
        assert after[("eventhall_holds_total", ())] == 5  # counters outlive their process
        assert after[("eventhall_live_streams", ())] == 1  # its open streams closed with it
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.communicate("\n", timeout=30)


def test_the_worker_serves_its_metrics_on_a_port(app: Flask, db, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "segment").write_bytes(b"x" * 4096)
    server, thread = serve_metrics(
        app.extensions["db"].engine, str(tmp_path), host="127.0.0.1", port=0
    )
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics") as answer:
            found = samples(answer.read().decode())
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert found[("eventhall_queue_depth", (("queue", "outbox"),))] == 0
    assert found[("eventhall_database_data_bytes", ())] == 4096
    assert found[("eventhall_database_disk_free_bytes", ())] > 0
    assert ("eventhall_holds_total", ()) in found
