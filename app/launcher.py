"""`make run`: database, migrations, demo data, then the Procfile's processes.

    python -m app.launcher run

Without DATABASE_URL an embedded PostgreSQL is started on instance/pgdata and handed to the
web and worker processes through DATABASE_URL; when honcho exits (Ctrl-C), this process exits
and the embedded server stops with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from app.config import ROOT, load_config
from app.db import resolve_database_url
from app.serving import UnsafeBind, check_bind


def prepare_database() -> str:
    """Start or join the database, migrate it to head, load demo data once; return its URL."""
    config = load_config()
    url = resolve_database_url(config)
    from app import migrate

    migrate.upgrade(url)
    from app.db import Database
    from app.demo import load_demo_once

    database = Database(url, pool_size=1)
    with database.session() as session:
        lines = load_demo_once(session)
        session.commit()
    database.engine.dispose()
    for line in lines:
        print(line, flush=True)
    return url


def run() -> int:
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    try:  # before starting anything; gunicorn checks again what it really binds
        check_bind([(host, int(port))], load_config())
    except UnsafeBind as refusal:
        print(f"not starting: {refusal}", file=sys.stderr)
        return 2
    url = prepare_database()
    # The Procfile names `gunicorn` and `python`: take them from this virtual environment.
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    env["PORT"] = port
    print(f"serving on http://{host}:{port} (Ctrl-C stops everything)", flush=True)
    # Not `release`: this process has just migrated, and honcho stops all when one exits.
    procfile = str(ROOT / "Procfile")
    honcho = [sys.executable, "-m", "honcho", "start", "-f", procfile, "web", "worker"]
    process = subprocess.Popen(honcho, cwd=ROOT, env=env)  # noqa: S603 (fixed argv)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to honcho too; give it time to stop its children.
        process.send_signal(signal.SIGINT)
        return process.wait()


def main(argv: list[str]) -> int:
    if argv[1:] == ["run"]:
        return run()
    if argv[1:] == ["prepare"]:
        prepare_database()
        return 0
    print("usage: python -m app.launcher run|prepare", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
