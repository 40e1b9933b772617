"""The connection pool serves waiting requests first come, first served, never beyond its size."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import exc, text

from app.db import make_engine
from app.db_pool import PAGE_STREAK, FairGate
from tests.waiting import WAIT, wait_until


def test_a_released_permit_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    gate = FairGate(1)
    assert gate.acquire()
    served: list[str] = []

    def wait_then_record(name: str) -> None:
        assert gate.acquire(timeout=WAIT)
        served.append(name)
        gate.release()

    def queued(count: int) -> None:
        wait_until(lambda: len(gate._posts) >= count, what=f"{count} waiters in the queue")

    first = threading.Thread(target=wait_then_record, args=("first",))
    second = threading.Thread(target=wait_then_record, args=("second",))
    first.start()
    queued(1)
    second.start()
    queued(2)
    gate.release()
    # A newcomer arriving right after the release queues behind both waiters.
    wait_then_record("newcomer")
    first.join(WAIT)
    second.join(WAIT)
    assert served == ["first", "second", "newcomer"]


def test_page_views_go_first_but_never_starve_a_waiting_post() -> None:
    gate = FairGate(1)
    assert gate.acquire()
    served: list[str] = []

    def wait_then_record(name: str, page: bool) -> None:
        assert gate.acquire(timeout=WAIT, page=page)
        served.append(name)
        gate.release()

    def start(name: str, page: bool, queue: str, count: int) -> threading.Thread:
        thread = threading.Thread(target=wait_then_record, args=(name, page))
        thread.start()
        wait_until(lambda: len(getattr(gate, queue)) >= count, what=f"{name} to queue")
        return thread

    threads = [start("post", False, "_posts", 1)]
    threads += [start(f"page {n}", True, "_pages", n) for n in range(1, PAGE_STREAK + 3)]
    gate.release()
    for thread in threads:
        thread.join(WAIT)
    # Pages first, but the post gets its turn after PAGE_STREAK pages in a row.
    pages = [f"page {n}" for n in range(1, PAGE_STREAK + 3)]
    assert served == pages[:PAGE_STREAK] + ["post"] + pages[PAGE_STREAK:]


def test_a_waiter_gives_up_after_its_timeout_and_leaves_the_queue() -> None:
    gate = FairGate(1)
    assert gate.acquire()
    started = time.monotonic()
    assert gate.acquire(timeout=0.2) is False
    assert time.monotonic() - started >= 0.2
    gate.release()
    assert gate.acquire(timeout=0)  # the permit is free again: nobody stale holds the queue


def test_many_threads_share_the_pool_without_ever_exceeding_it(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=3)
    busy, most = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal busy, most
        with engine.connect() as conn:
            with lock:
                busy += 1
                most = max(most, busy)
            conn.execute(text("SELECT pg_sleep(0.02)"))
            with lock:
                busy -= 1

    threads = [threading.Thread(target=work) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    try:
        assert most == 3
        assert engine.pool.checkedout() == 0
        with engine.connect() as conn:  # one of the pool's own
            opened = conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            )
        assert opened <= 3
        # No permit leaked in the warm-up races: all three can still be had at once.
        engine.pool._timeout = 1
        with engine.connect(), engine.connect(), engine.connect():
            pass
    finally:
        engine.dispose()


def test_a_pool_that_stays_busy_times_out_with_a_clear_error(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    engine.pool._timeout = 0.2
    try:
        with engine.connect(), pytest.raises(exc.TimeoutError, match="stayed busy"):
            engine.connect()
    finally:
        engine.dispose()
