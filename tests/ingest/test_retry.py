"""Backoff arithmetic and Retry-After."""

from __future__ import annotations

import random

from ingest.retry import Backoff, parse_retry_after


def test_backoff_ceilings_double_up_to_the_cap() -> None:
    b = Backoff(base_s=0.5, cap_s=60, rng=random.Random(1))
    ceilings = []
    for _ in range(9):
        delay = b.next_delay()
        ceilings.append(b.ceiling())
        assert 0 <= delay <= b.ceiling()
    assert ceilings == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]
    b.reset()
    assert b.ceiling() == 0.5


def test_retry_after_is_a_floor_within_the_cap() -> None:
    b = Backoff(rng=random.Random(2))
    assert b.next_delay(retry_after=30) >= 30
    assert b.next_delay(retry_after=3600) <= 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
