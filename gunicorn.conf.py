"""gunicorn settings for the Procfile's web process (override with the WEB_* variables).

Worker class: gevent. Live availability keeps a server-sent-event stream open per browser
(`/events/<id>/live`). Under gthread every open stream holds one of the workers' threads for as
long as the page stays open. Measured here (3 workers, 300 browsers opening a seat map's stream,
then 200 ordinary seat-map page requests, 10 at a time, on this shared 2-core machine):
- gthread, 8 threads: 24 streams took every thread, the other 276 browsers never connected, and
  0 of the 200 ordinary requests were answered within 10 s.
- gevent: all 300 streams connected within about 2 s; all 200 ordinary requests were answered,
  at about 90% of the throughput of the same run without streams; a committed change reached
  all 300 streams within about 200 ms, through one LISTEN connection per worker process.
A waiting stream is a parked greenlet holding no database connection (app/live.py,
app/web/public/live.py); psycopg 3.3 notices gevent's monkey patching and waits cooperatively.
tests/http/test_live_gevent.py keeps this true: 120 open streams on one worker, pages still fast.

`WEB_WORKER_CLASS=gthread` still works, but then open streams can starve it.
"""

import gc
import os
import shutil
import tempfile

# Metrics in multiprocess mode: each worker process writes its values to files in this
# directory and /metrics adds them up. It must be set before prometheus_client is imported
# (the app's import below does). A directory given by the operator is emptied at start (it
# belongs to this server); otherwise each start gets a fresh one.
_METRICS_DIR_GIVEN = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if not _METRICS_DIR_GIVEN:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="eventhall-metrics-")

from prometheus_client import multiprocess  # noqa: E402

from app.config import load_config  # noqa: E402
from app.serving import check_bind  # noqa: E402

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# One gevent worker per core (at least two): each already serves many requests at once, and
# more processes than cores only contend. `make bench-rush` here (2 cores), two runs each:
# 2 workers 604 and 609 holds/s (p99 450 and 403 ms), 3 workers 526 and 529 (p99 680, 712 ms).
workers = int(os.environ.get("WEB_WORKERS", str(max(2, os.cpu_count() or 1))))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gevent")
# gevent: concurrent connections per worker (open SSE streams included).
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "1000"))
# gthread only.
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 60
# Open streams are cut at shutdown; browsers reconnect on their own (EventSource `retry`).
graceful_timeout = 5
accesslog = os.environ.get("ACCESS_LOG") or None


def post_worker_init(worker: object) -> None:
    """Garbage collection tuned for request work: the app's long-lived objects (loaded once per
    worker) are frozen out of every collection, and the young generation is collected every
    50,000 allocations instead of 700, so a request rarely pays for a collection. `make
    bench-rush`, two runs each: 629 and 580 holds/s with this, 513 and 596 without (noisy, but
    the web workers' CPU per hold fell with it: 2.3-2.5 ms against 2.5-2.9 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def on_starting(server: object) -> None:
    """Refuse development mode on a network address (app/serving.py) before binding: checked
    against what gunicorn will really bind (`-b` and GUNICORN_CMD_ARGS included). A
    RuntimeError ends gunicorn with its message; a production misconfiguration (SECRET_KEY)
    fails here too, once, rather than in every worker."""
    check_bind(server.cfg.address, load_config())  # type: ignore[attr-defined]
    if _METRICS_DIR_GIVEN:
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)


def on_exit(server: object) -> None:
    if not _METRICS_DIR_GIVEN:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    """A worker process ended: its live gauges (open streams) stop counting; its counters
    stay in the sums."""
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
