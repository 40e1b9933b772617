"""Really parallel buyers: threads, each with its own connection and transaction.

Setup data must be committed (`db.commit()`) so the threads can see it; the `db` fixture
truncates every table after each test.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fasteners
import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine

RUN_LOCK = Path(tempfile.gettempdir()) / "eh-test-parallel.lock"


class Parallel:
    """Runs `fn(index, session)` in `n` threads at once (released together by a barrier);
    each call commits when it returns and rolls back when it raises."""

    def __init__(self, url: str, lock_timeout_ms: int) -> None:
        self.engine = make_engine(url, pool_size=50, lock_timeout_ms=lock_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def run(self, n: int, fn: Callable[[int, Session], Any]) -> list[Any]:
        """Return each call's result, or the exception it raised, in index order."""
        # One run at a time across test workers: fifty connections each would pass the
        # server's 100 when two runs meet.
        with fasteners.InterProcessLock(RUN_LOCK):
            try:
                return self._run(n, fn)
            finally:
                self.engine.dispose()  # close the connections before the next run may start

    def _run(self, n: int, fn: Callable[[int, Session], Any]) -> list[Any]:
        start = threading.Barrier(n)

        def one(index: int) -> Any:
            with self.sessions() as session:
                session.connection()  # connect before the barrier: start really together
                start.wait(timeout=30)
                try:
                    result = fn(index, session)
                    session.commit()
                    return result
                except Exception as exc:  # noqa: BLE001 - the test inspects it
                    session.rollback()
                    return exc

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(one, range(n)))


@pytest.fixture
def parallel(app: Flask) -> Iterator[Parallel]:
    runner = Parallel(app.extensions["db"].url, lock_timeout_ms=5000)
    yield runner
    runner.engine.dispose()
