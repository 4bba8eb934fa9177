"""When to try a failed write again: bounded exponential backoff with full jitter, and the
server's own Retry-After when it sent one (after influxdb-client's write/retry.py).

With base 0.5 s, factor 2 and cap 60 s the ceilings of the first attempts are
0.5, 1, 2, 4, 8, 16, 32, 60, 60 ... s; each actual delay is drawn uniformly below its ceiling so
several gateways that lost the same store do not retry in step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


@dataclass
class Backoff:
    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 60.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def ceiling(self) -> float:
        return min(self.cap_s, self.base_s * self.factor ** max(0, self.failures - 1))

    def next_delay(self, retry_after: float | None = None) -> float:
        """Record a failure; the seconds to wait before the next attempt. A server's Retry-After
        is honoured as a floor (it knows when it will be ready), within the cap."""
        self.failures += 1
        delay = self.rng.uniform(0, self.ceiling())
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap_s))
        return delay

    def reset(self) -> None:
        self.failures = 0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3).

    >>> parse_retry_after("7", 0), parse_retry_after("soon", 0)
    (7.0, None)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)
