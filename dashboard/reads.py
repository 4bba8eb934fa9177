"""How the network-wide views read a store: a few schools at a time, from its 15-minute bins
where it keeps them, so a dashboard stays small whatever the network's size (issue #17)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Final

from ingest import Store
from ingest.base import KeepsBins

# Network-wide views read raw rows a few stations at a time, about this many rows at one reading
# a minute (~400 bytes each in memory), so a dashboard stays small whatever the network's size.
READ_ROWS: Final = 500_000
# Bins of one field read at once from a store that keeps them (96 a school and day): a month of
# 170 schools, ten days of 500; a read of four fields takes a quarter of the schools. A month of
# 500 schools in three reads peaks at about 390 MiB (two reads: 500 MiB, issue #17's limit);
# the fixed cost of a read and its computation is paid per group.
BINS_ROWS: Final = 500_000


def station_groups(stations: Sequence[str], start: datetime, end: datetime) -> list[list[str]]:
    """`stations` in groups whose raw rows over [start, end) come to about `READ_ROWS` at one
    reading a minute, in order.

    >>> from datetime import UTC
    >>> t = datetime(2024, 6, 1, tzinfo=UTC)
    >>> station_groups(["a", "b", "c"], t, t + timedelta(days=200))
    [['a'], ['b'], ['c']]
    >>> station_groups(["a", "b", "c"], t, t + timedelta(days=1))
    [['a', 'b', 'c']]
    """
    size = max(1, READ_ROWS // max(1, int((end - start) / timedelta(minutes=1))))
    return [list(stations[at : at + size]) for at in range(0, len(stations), size)]


def split_reads(
    store: Store,
    stations: Sequence[str],
    calibrated: Collection[str],
    start: datetime,
    end: datetime,
    fields: int = 1,
) -> tuple[list[list[str]], list[list[str]]]:
    """`stations` in groups read from the store's 15-minute bins (`BINS_ROWS` of each of
    `fields` fields at a time) and groups read as raw rows (`station_groups`): all of them raw
    on a store without bins, and a school in `calibrated` (one with a correction of a field
    read: bins hold raw values, and a correction applies before QC)."""
    if not isinstance(store, KeepsBins):
        return [], station_groups(stations, start, end)
    binned = [s for s in stations if s not in calibrated]
    days = max((end - start) / timedelta(days=1), 1.0)
    size = max(1, int(BINS_ROWS // (96 * days * max(fields, 1))))
    groups = [binned[at : at + size] for at in range(0, len(binned), size)]
    return groups, station_groups([s for s in stations if s in calibrated], start, end)
