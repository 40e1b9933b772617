"""Streams arriving together never take more places than there are (app/web/public/
stream_gate.py): the check and the count happen under one lock. The control takes the lock away
and shows the race it prevents."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.web.public.stream_gate import StreamGate, TooManyStreams

THREADS = 20
PLACES = 5


class ReadsMeet(dict):
    """The gate's counts, where every reader waits for the others before going on: the
    moment between reading a count and writing it back that a race needs. Under the gate's
    lock only one reader at a time gets there, so the meeting never happens (the wait ends
    at its timeout and the readers go on one by one)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.meeting = threading.Barrier(THREADS, timeout=timeout)

    def get(self, key, default=None):  # noqa: ANN001, ANN201
        value = super().get(key, default)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.meeting.wait()
        return value


def rush(gate: StreamGate, *, per_client: int, per_process: int) -> int:
    """THREADS streams from one client at once; how many were let in."""
    start = threading.Barrier(THREADS)

    def one(_: int) -> bool:
        start.wait(timeout=30)
        try:
            gate.enter("198.51.100.1", per_client=per_client, per_process=per_process)
        except TooManyStreams:
            return False
        return True

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return sum(pool.map(one, range(THREADS)))


@pytest.mark.parametrize("cap", ["per_client", "per_process"])
def test_streams_arriving_together_never_pass_the_cap(cap: str) -> None:
    gate = StreamGate()
    gate._open = ReadsMeet(timeout=0.2)  # the meeting cannot happen: the lock holds readers
    limits = {"per_client": 1000, "per_process": 1000, cap: PLACES}
    assert rush(gate, **limits) == PLACES
    assert gate.open_streams() == gate.open_streams("198.51.100.1") == PLACES


def test_control_without_the_lock_streams_pass_the_cap() -> None:
    gate = StreamGate()
    gate._lock = contextlib.nullcontext()  # type: ignore[assignment]
    gate._open = ReadsMeet(timeout=30)  # every reader reads before anyone writes
    assert rush(gate, per_client=PLACES, per_process=1000) > PLACES
