"""Log lines for rejected messages, bounded per station: the first reject of a station in a
minute is logged in full, the rest only counted, then summed up in one line ("N more rejects
from STATION in the last minute"). A station flooding bad messages (one reported 20,000 in 3 s)
would otherwise grow the log by a line each."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

WINDOW_S = 60.0


class RejectLog:
    def __init__(
        self,
        logger: logging.Logger,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._opened: dict[str, float] = {}  # station -> when its window opened
        self._more: dict[str, int] = {}  # station -> rejects not logged in that window

    def reject(self, station: str, message: str, *args: object) -> None:
        """Log `message % args` unless `station` already had a line in this window."""
        now = self.clock()
        self.flush(now)
        with self._lock:
            if station in self._opened:
                self._more[station] += 1
                return
            self._opened[station] = now
            self._more[station] = 0
        self.logger.warning(message, *args)

    def flush(self, now: float | None = None) -> None:
        """Sum up the windows that are over (the gateway calls this as time passes)."""
        now = self.clock() if now is None else now
        done: list[tuple[str, int]] = []
        with self._lock:
            for station, opened in list(self._opened.items()):
                if now - opened >= self.window_s:
                    del self._opened[station]
                    done.append((station, self._more.pop(station)))
        for station, more in done:
            if more:
                self.logger.warning("%d more rejects from %s in the last minute", more, station)


REJECTS = RejectLog(logging.getLogger("classnet.gateway"))
