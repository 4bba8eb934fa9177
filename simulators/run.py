"""How fast simulated time passes, and the loop that hands a fleet's messages to a sink.

- live: simulated time is the real clock; each station sends when its interval comes round.
- accelerated (`speed` > 1): simulated time runs `speed` times faster from a start in the past,
  and never overtakes the real clock (a reading from the future would be rejected), so a run that
  catches up with the present continues live.
- fast: no waiting at all; for backfills, dry runs and tests (the deterministic fast mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from simulators.fleet import Fleet, Send


@dataclass
class Pace:
    """Maps simulated time to the wall clock. speed None = fast (never wait)."""

    sim_start: int
    speed: float | None = 1.0
    wall_start: float = field(default_factory=time.time)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time

    def wait_until(self, sim_t: int) -> None:
        if self.speed is None:
            return
        due = max(self.wall_start + (sim_t - self.sim_start) / self.speed, float(sim_t))
        delay = due - self.now()
        if delay > 0:
            self.sleep(delay)

    def step_s(self, interval_s: int) -> int:
        """Simulated seconds handled per loop: about one wall second's worth when paced."""
        if self.speed is None:
            return 3600
        return max(1, round(self.speed))


def run(
    fleet: Fleet,
    sink: Callable[[Send], None],
    pace: Pace,
    end: int | None,
    step_s: int | None = None,
) -> int:
    """Send the fleet's birth, then its messages from fleet.start until `end` (None: until
    interrupted), then its clean stop. Returns the simulated time reached."""
    for send in fleet.begin():
        sink(send)
    step = step_s or pace.step_s(int(fleet.interval_s.min()))
    t = fleet.start
    try:
        while end is None or t < end:
            b = t + step if end is None else min(t + step, end)
            # Readings of [t, b) go out once b has come: a station sends after it measures.
            pace.wait_until(b)
            for send in fleet.window(t, b):
                sink(send)
            t = b
    finally:
        for send in fleet.end(t):
            sink(send)
    return t
