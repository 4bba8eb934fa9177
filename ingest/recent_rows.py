"""The raw rows a store's reads compute its unrolled bins from, kept between reads and brought up
to date by the marks written since (issue #17; ingest/influx_bins.py's marks).

Between two rolls every school's last readings are in no kept bin yet: a read computes their
bins from raw rows, QC's context included (two hours and more of each school: 60,000 rows for
500 schools, most of a second on InfluxDB 1.6). A dashboard asks again on each refresh, and the
rows it had are still right but where a mark written since names new readings. A mark is written
after its readings are stored and stamped by the server on arrival, so the marks after the newest
one seen before a read name every reading that read may have missed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ingest import rollup

# The rows of `stations` in [start, end) (Unix ms) of the raw fields `fields` need, sorted by
# station and time.
Between = Callable[[Sequence[str], int, int, Sequence[str]], pd.DataFrame]
# The newest mark's time (ns) and, per station, the first and last reading (Unix ms) the marks
# after `since_ns` name (None: none yet, only the newest mark's time).
MarksSince = Callable[[int | None], tuple[int, dict[str, tuple[int, int]]]]

# Field sets kept at most (a dashboard's pages read two or three).
KEPT_SETS = 4
# Re-reads of marked rows starting within this of each other are one query (a live network's
# marks all start in the last minute or two).
SLACK_MS = 2 * 3_600_000


@dataclass
class _Kept:
    seen_ns: int  # the newest mark seen before these rows were read
    rows: pd.DataFrame | None = None  # sorted by station and time
    covered: dict[str, tuple[int, int]] = field(default_factory=dict)  # station -> [lo, hi)


class RecentRows:
    """A `rollup.ContextReader` that keeps the rows it read: `context` reads a span anew (with
    each station's reading before it), `between` reads an interval, `marks_since` says what was
    written since."""

    def __init__(self, context: rollup.ContextReader, between: Between, marks: MarksSince) -> None:
        self._context = context
        self._between = between
        self._marks = marks
        self._kept: OrderedDict[tuple[str, ...], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(
        self, stations: Sequence[str], span: tuple[int, int], fields: Sequence[str]
    ) -> pd.DataFrame:
        """The rows of `stations` in `span` and each one's reading just before it."""
        key = tuple(fields)
        with self._lock:
            kept = self._kept.pop(key, None)
            seen, marked = self._marks(None if kept is None else kept.seen_ns)
            kept = kept or _Kept(seen)
            rows = _updated(kept, stations, span, marked, fields, self._context, self._between)
            kept.seen_ns = seen
            self._kept[key] = kept
            while len(self._kept) > KEPT_SETS:
                self._kept.popitem(last=False)
            return rows


def _updated(
    kept: _Kept,
    stations: Sequence[str],
    span: tuple[int, int],
    marked: dict[str, tuple[int, int]],
    fields: Sequence[str],
    context: rollup.ContextReader,
    between: Between,
) -> pd.DataFrame:
    """`kept` brought up to date for `stations` over `span` (its rows of stations marked since
    and not asked for now are forgotten), and the rows `context` would give."""
    asked = set(stations)
    forget = [s for s in marked if s in kept.covered and s not in asked]
    anew, intervals = [], []
    for station in stations:
        cover, mark = kept.covered.get(station), marked.get(station)
        if cover is None or span[0] < cover[0] or (mark is not None and mark[0] < cover[0]):
            anew.append(station)  # first asked, asked further back, or a reading before its rows
            continue
        hi = max(cover[1], span[1])
        if span[1] > cover[1]:
            intervals.append((cover[1], span[1], station))
        if mark is not None and mark[0] < hi:
            intervals.append((mark[0], min(mark[1] + 1, hi), station))
        kept.covered[station] = (cover[0], hi)
    parts = [] if kept.rows is None else [_without(kept.rows, [*forget, *anew])]
    for station in forget:
        del kept.covered[station]
    if anew:
        parts.append(context(anew, span, fields))
        kept.covered.update({station: span for station in anew})
    for lo, hi, members in _grouped(intervals):
        parts = [_without(part, members, lo, hi) for part in parts]
        parts.append(between(members, lo, hi, fields))
    if not parts:
        return pd.DataFrame(columns=["station", "time", *fields])
    rows = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    rows = rows.sort_values(["station", "time"], kind="stable", ignore_index=True)
    kept.rows = _trimmed(rows, stations, span[0])
    for station in stations:
        kept.covered[station] = (span[0], kept.covered[station][1])
    return _trimmed(
        kept.rows[kept.rows["station"].isin(asked).to_numpy()], stations, span[0], span[1]
    )


def _grouped(intervals: list[tuple[int, int, str]]) -> list[tuple[int, int, list[str]]]:
    """Intervals to read, those starting within `SLACK_MS` of the first as one."""
    out: list[tuple[int, int, list[str]]] = []
    for lo, hi, station in sorted(intervals):
        if out and lo <= out[-1][0] + SLACK_MS:
            first, end, members = out[-1]
            out[-1] = (
                first,
                max(end, hi),
                [*members, station] if station not in members else members,
            )
        else:
            out.append((lo, hi, [station]))
    return out


def _ms(rows: pd.DataFrame) -> NDArray[np.int64]:
    return rows["time"].to_numpy(dtype="datetime64[ms]").astype(np.int64)


def _without(
    rows: pd.DataFrame, stations: Sequence[str], lo: int | None = None, hi: int | None = None
) -> pd.DataFrame:
    """`rows` but those of `stations` (in [lo, hi) when given)."""
    if not stations or rows.empty:
        return rows
    out = rows["station"].isin(list(stations)).to_numpy()
    if lo is not None and hi is not None:
        t = _ms(rows)
        out = out & (t >= lo) & (t < hi)
    return rows[~out]


def _trimmed(
    rows: pd.DataFrame, stations: Sequence[str], lo: int, hi: int | None = None
) -> pd.DataFrame:
    """`rows` (sorted) with those of `stations` before `lo` cut but each one's last (the reading
    before a span), and those from `hi` on when given."""
    if rows.empty:
        return rows
    t = _ms(rows)
    station = rows["station"].to_numpy(dtype=object)
    mine = rows["station"].isin(list(stations)).to_numpy()
    before = mine & (t < lo)
    # The last row before `lo` of each station: the next row is another station's or not before.
    following = np.append(station[1:] != station[:-1], True) | np.append(~before[1:], True)
    keep = ~mine | ~before | following
    if hi is not None:
        keep &= ~(mine & (t >= hi))
    return rows[keep].reset_index(drop=True)
