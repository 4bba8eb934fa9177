"""One computation of a network-wide view at a time, shared by every browser asking for it.

Asia vs Europe and the leaderboard look at every school; each open tab asks again on every live
tick. Without this, ten tabs cost ten computations per tick, and a tick arriving while the last
one still runs starts a second (issue #17: one tab drove a dashboard to 11.8 GB that way). Here a
request for a view that is being computed waits for that computation and takes its result; a
result is reused for `ttl_s` (the live tick's period: nothing newer could be shown sooner); at
most `max_entries` results are kept (least recently used dropped), so memory stays bounded
whatever the number of views, languages or tabs.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    at: float = float("-inf")
    value: Any = None


class ViewCache:
    def __init__(self, max_entries: int = 32, ttl_s: float = 15.0) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many computations ran (for tests and the bench)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The view's value: fresh from the cache, from the computation already running, or
        computed now (and only by this caller while others wait)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
        with entry.lock:
            if time.monotonic() - entry.at < self.ttl_s:
                return entry.value
            value = compute()
            entry.value, entry.at = value, time.monotonic()
            with self._lock:
                self.computed += 1
            return value

    def __len__(self) -> int:
        return len(self._entries)
