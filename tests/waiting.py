"""Waiting in tests: for a condition, never for a length of time.

A wait that succeeds returns as soon as its condition holds, so its limit costs nothing on a
good day; the limit only bounds how long a broken test hangs. It is generous because the
machine running the suite may be busy with other work (two test workers, other people's runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# The longest any single wait in the suite takes before the test fails.
WAIT = 60.0


def wait_until(condition: Callable[[], T], *, timeout: float = WAIT, what: str = "") -> T:
    """Poll `condition` until it returns something true, and return that; fail the test when
    it is still false after `timeout` seconds. For conditions nothing announces (a row
    appearing, a count reaching a value): where an event or a notification exists, wait on it."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:g} s for {what or condition}")
        time.sleep(0.01)
    return result
