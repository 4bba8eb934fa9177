"""Network-wide views: one computation at a time, shared, bounded."""

from __future__ import annotations

import threading
import time

from dashboard.viewcache import ViewCache


def test_concurrent_requests_for_one_view_share_one_computation() -> None:
    cache = ViewCache(ttl_s=60)
    running = threading.Event()
    release = threading.Event()
    overlapping = []

    def compute() -> dict[str, int]:
        overlapping.append(running.is_set())
        running.set()
        release.wait(10)
        return {"n": len(overlapping)}

    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("regions", compute)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    assert running.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == [{"n": 1}] * 5
    assert cache.computed == 1 and overlapping == [False]


def test_results_expire_after_the_tick_and_the_cache_stays_bounded() -> None:
    cache = ViewCache(max_entries=3, ttl_s=0.05)
    calls = []
    assert cache.get("a", lambda: calls.append("a") or 1) == 1
    assert cache.get("a", lambda: calls.append("a") or 2) == 1  # within the tick
    deadline = time.monotonic() + 5
    while cache.get("a", lambda: calls.append("a") or 3) != 3:
        assert time.monotonic() < deadline
    for key in range(10):
        cache.get(key, lambda: "x" * 1000)
    assert len(cache) == 3
