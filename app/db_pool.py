"""A connection pool that serves waiting requests in the order they arrived.

SQLAlchemy's QueuePool lets a newcomer take a connection that was just returned ahead of a
request already waiting for one; the woken waiter then finds the pool empty and queues
again, at the back. Under a ticket rush (every worker busy, many requests per process) some
requests lost that race over and over: `make bench-rush` measured a p99 of about 12 s against
a median of 0.2 s. `FairQueuePool` puts a first-come, first-served gate in front of the pool:
a returned connection is handed to the longest waiter, and a newcomer waits behind everyone
already waiting (p99 about 1.3 s, same throughput). The pool never opens connections beyond
`pool_size`: a connection opened for a burst and closed right after costs the database a
process start each time.

Page views go first: a request that only shows a page (a GET, marked by `pages_first` for the
current request) is handed the next returned connection ahead of waiting form posts. Pages are
short and a buyer is looking at a blank screen meanwhile; a post waits behind at most
`PAGE_STREAK` pages in a row, so pages never starve the posts. Measured by `make
bench-seated`, whose buyers load the seat map between holds: see the README.

The gate uses `threading` primitives, which gevent's monkey patching makes cooperative.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextvars import ContextVar
from typing import Any

from sqlalchemy import exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

from app.observability.metrics import POOL_WAITS

PAGE_STREAK = 4  # pages handed a connection in a row while a post is waiting

# True while the current request (or job) only shows a page: set by the web layer per request.
pages_first: ContextVar[bool] = ContextVar("pages_first", default=False)


class FairGate:
    """A counting semaphore that hands a released permit straight to its longest waiter,
    page views before posts (at most `PAGE_STREAK` in a row while a post waits)."""

    def __init__(self, permits: int) -> None:
        self._free = permits
        self._pages: deque[threading.Event] = deque()
        self._posts: deque[threading.Event] = deque()
        self._streak = 0
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None = None, *, page: bool = False) -> bool:
        """Take a permit, waiting behind earlier callers of its kind; False when `timeout`
        ran out."""
        with self._lock:
            if self._free and not self._pages and not self._posts:
                self._free -= 1
                return True
            handed = threading.Event()
            (self._pages if page else self._posts).append(handed)
        started = time.perf_counter()
        try:
            if handed.wait(timeout):
                return True
            with self._lock:
                if handed.is_set():  # handed over between the timeout and taking the lock
                    return True
                (self._pages if page else self._posts).remove(handed)
                return False
        finally:
            POOL_WAITS.observe(time.perf_counter() - started)

    def release(self) -> None:
        with self._lock:
            if self._pages and (not self._posts or self._streak < PAGE_STREAK):
                self._streak += 1
                self._pages.popleft().set()
            elif self._posts:
                self._streak = 0
                self._posts.popleft().set()
            else:
                self._free += 1


class FairQueuePool(QueuePool):
    """QueuePool of exactly `pool_size` connections, handed out first come, first served."""

    def __init__(self, creator: Any, pool_size: int = 5, **kw: Any) -> None:
        kw["max_overflow"] = 0
        super().__init__(creator, pool_size=pool_size, **kw)
        self._gate = FairGate(pool_size)

    def connect(self) -> PoolProxiedConnection:
        # The gate is taken here, once per checkout, not in `_do_get`, which QueuePool also
        # calls recursively. Holding a permit, a connection is free or may be opened.
        if not self._gate.acquire(self._timeout, page=pages_first.get()):
            raise exc.TimeoutError(
                f"All {self.size()} database connections stayed busy for {self._timeout:.0f} s",
                code="3o7r",
            )
        try:
            return super().connect()
        except BaseException:
            self._gate.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        """Every checkout ends here, the connection returned (or closed if invalidated)."""
        try:
            super()._do_return_conn(record)
        finally:
            self._gate.release()
