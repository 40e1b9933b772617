"""Tracing and Sentry: off (not even imported) unless configured; on, a request and its SQL
become spans, a job a span of its own, and an unhandled error a Sentry event.

Each case runs the app in a subprocess: tracer providers and Sentry's client are global to a
process, and must not leak into the other tests.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest

from app.config import ROOT

SETUP = """
import json, sys
from app import create_app
config = {
    "APP_ENV": "test", "TESTING": True, "SECRET_KEY": "test-secret",
    "DATABASE_URL": sys.argv[1], "INSTANCE_DIR": sys.argv[2],
    "MAIL_OUTBOX_DIR": sys.argv[2] + "/outbox", "WTF_CSRF_ENABLED": False,
    "SENTRY_DSN": sys.argv[3], "SERVER_NAME": None,
}
app = create_app(config)
"""


def run(script: str, database_url: str, tmp_path: Path, dsn: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", SETUP + textwrap.dedent(script), database_url, str(tmp_path), dsn],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SENTRY_"))},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_nothing_is_loaded_when_nothing_is_configured(database_url: str, tmp_path: Path) -> None:
    loaded = run(
        """
        app.test_client().get("/healthz")
        print(json.dumps(sorted(m for m in sys.modules if m.startswith(
            ("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.exporter",
             "sentry_sdk")))))
        """,
        database_url,
        tmp_path,
    )
    assert json.loads(loaded) == []


def test_spans_for_a_request_its_sql_and_a_job(database_url: str, tmp_path: Path) -> None:
    out = run(
        """
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from app.observability import tracing
        from jobs.relay import deliver_pending
        exporter = InMemorySpanExporter()
        provider = tracing.start_tracing({}, "web", exporter=exporter)
        tracing.trace_flask(app, provider)
        tracing.trace_sql(app.extensions["db"].engine, provider)
        client = app.test_client()
        assert client.get("/events").status_code == 200
        assert client.get("/healthz").status_code == 200  # probes are not traced
        with app.extensions["db"].session() as session:
            from app.domain.outbox import enqueue
            enqueue(session, "sms", {"unknown": True})
            session.commit()
            deliver_pending(session, app.config)
            session.rollback()
        print(json.dumps([
            {"name": s.name, "kind": s.kind.name, "attributes": dict(s.attributes),
             "span_id": s.context.span_id, "trace_id": s.context.trace_id,
             "parent": s.parent.span_id if s.parent else None}
            for s in exporter.get_finished_spans()
        ], default=str))
        """,
        database_url,
        tmp_path,
    )
    spans = json.loads(out)
    [request] = [s for s in spans if s["kind"] == "SERVER"]
    assert request["attributes"]["http.route"] == "/events"
    assert (
        request["attributes"]["http.status_code"] == 200
        or request["attributes"].get("http.response.status_code") == 200
    )
    sql = [s for s in spans if s["kind"] == "CLIENT" and s["trace_id"] == request["trace_id"]]
    assert sql, spans
    assert all(s["attributes"].get("db.system") == "postgresql" for s in sql)
    assert any("SELECT" in s["attributes"].get("db.statement", "") for s in sql)
    assert {s["parent"] for s in sql} == {request["span_id"]}
    [job] = [s for s in spans if s["name"] == "outbox sms"]
    assert job["attributes"]["topic"] == "sms"


class _Collector(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.bodies.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, list[bytes]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/7", _Collector.bodies
    server.shutdown()
    server.server_close()


def test_an_unhandled_error_reaches_sentry(
    database_url: str, tmp_path: Path, sentry_server: tuple[str, list[bytes]]
) -> None:
    dsn, bodies = sentry_server
    out = run(
        """
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
        def boom():
            raise ZeroDivisionError("observed")
        app.add_url_rule("/boom", view_func=boom)
        app.config["PROPAGATE_EXCEPTIONS"] = False
        status = app.test_client().get("/boom").status_code
        sentry_sdk.flush(10)
        print(json.dumps([status, sentry_sdk.get_client().get_integration(FlaskIntegration)
                          is not None]))
        """,
        database_url,
        tmp_path,
        dsn,
    )
    assert json.loads(out) == [500, True]
    assert any(b"ZeroDivisionError" in body and b"observed" in body for body in bodies)
