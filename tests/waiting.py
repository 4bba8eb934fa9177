"""How tests wait: for a condition (`wait_until`), or, where nothing can be waited for, a pause
that says why (`hold`). `tests/test_house.py` keeps every `time.sleep` of the tests in this file,
so no test waits for a broker or a subscription by guessing how long it takes."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    check: Callable[[], object], timeout: float = 20.0, what: str = "condition", every: float = 0.05
) -> float:
    """Poll `check` until it is true; the seconds it took. Deadlines are generous (the machines are
    shared); the message names what did not happen."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - started


def hold(seconds: float, why: str) -> None:
    """A pause that waits for nothing in particular: a quiet period in which nothing more may
    arrive, a fault that must last, or the pace of a load. `why` is for the reader."""
    del why
    time.sleep(seconds)
