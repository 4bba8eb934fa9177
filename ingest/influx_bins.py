"""The InfluxDB store's 15-minute bins (ingest/rollup.py): points beside the raw rows, recomputed
from them by the gateways, as SQLite's are (ingest/sqlite_bins.py).

InfluxDB's own machinery cannot make them: a continuous query aggregates what it selects, but QC
decides each value from the readings around it (ingest/domain/qc.py), so the roll is ours.

Measurements:
- `bins_marks`: what each write changed. After a batch's readings are stored, the same writer
  writes one point (more for a batch of thousands of stations) without a timestamp: the server
  stamps it on arrival, so a mark is always younger than the readings it names, whichever gateway
  wrote them and however its clock runs. `spans` lists each station's first and last reading.
- `bins`: one point per station (tag) and bin (time = bin start): `n_obs`, `first_ms`, `last_ms`
  and per field `n_`, `flagged_`, and when it has a usable value `sum_`, `min_`, `max_` (`east_`,
  `north_` for wind direction). A point written again replaces the fields it names and keeps the
  others, so the counts are always written and a reader ignores the rest where they are 0.
- `bins_rolled`: the roll's cursor, one point stamped with the newest mark a completed roll
  covered. No point: no bins yet (a store from before them), and readers compute from raw rows.

A roll takes the marks between the cursor and `SETTLE` ago, recomputes the bins they affect from
the raw rows (QC context included), writes them, then the cursor. Bins are always recomputed,
never incremented, so late, repeated and out-of-order readings leave them equal to a rebuild, and
gateways that roll the same marks write the same points. Readers add, from raw rows, the bins of
marks after the cursor: a page never misses a stored reading. A gateway killed mid-roll leaves
the cursor where it was; the next roll does the marks again. (The one race: a roll that read
the raw rows before another gateway's readings landed and writes its bins more than `SETTLE`
after, over that gateway's roll of them. A roll writes each group right after reading it.)

A dashboard reads the same range again on every refresh (today's bins of every school: 50,000
points, most of a second for the server to find). A read of a few days keeps what it read with
the cursor then (`KEPT_READS` ranges at most) and later reads only the points of the marks the
rolls have covered since, from the first bin each mark affects: a live network's last bin or two.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ingest import influxql, lineprotocol, rollup
from ingest.base import BinsChanges, StoreError, obs_frame
from ingest.domain import qc
from ingest.recent_rows import RecentRows

if TYPE_CHECKING:  # the store holds its bins: a module each, one import at run time
    from ingest.influx import InfluxStore

log = logging.getLogger(__name__)

# Ranges of kept points a store's reads keep (a dashboard's pages read two or three on each
# refresh): about 12 MB each for a day and a half of 500 schools' three fields.
KEPT_READS = 4
# Only reads of at most this many UTC days are kept: a refresh's (today, and the day or two its
# schools' local days reach into). A month or a year is read once, by the dashboard's keepers of
# past days (dashboard/kept_days.py), and keeping it would only hold its memory.
KEPT_DAYS = 3
# How far the cursor may have moved for a kept read to be brought up to date rather than read
# again: the marks since must still be there (pruned two days behind the cursor).
KEPT_FOR_NS = 86_400 * 10**9
# A kept read's changed points are read a group of stations at a time: those whose first changed
# bin lies within this of the group's first (a live network's: all, in one query).
REREAD_SLACK_MS = 2 * 3_600_000

MARKS = "bins_marks"
BINS = "bins"
ROLLED = "bins_rolled"
# Marks younger than this wait for the next roll: time for a write the server stamped to become
# readable (and for a gateway clock-free margin), so the cursor never passes an unread mark.
SETTLE = "30s"
# The gateways of one store may roll the same marks; readers asking what changed re-read what
# arrived within this of their last answer (a re-read, not a wrong answer).
CLOCK_SKEW_MS = 60_000
# InfluxDB 1.x keeps string fields of up to 64 KiB.
MARK_CHARS = 60_000
# Marks older than the cursor by this are deleted (a reader asks what changed every few minutes).
KEEP_MARKS_MS = 2 * rollup.DAY_MS
_PRUNE_EVERY_S = 3600.0
_FOREVER = 2**62


def mark_lines(obs: pd.DataFrame, writer: str) -> bytes:
    """The marks of a batch's readings (`ts_ms` per `station`), for the server to stamp."""
    if obs.empty:
        return b""
    spans = obs.groupby("station", sort=True)["ts_ms"].agg(["min", "max"])
    return _marks_of(((str(s), int(a), int(b)) for s, a, b in spans.itertuples()), writer)


def _marks_of(spans: Iterable[tuple[str, int, int]], writer: str) -> bytes:
    texts: list[str] = []
    parts: list[str] = []
    size = 0
    for station, first, last in spans:
        text = f"{station}:{first}:{last}"
        if size + len(text) + 1 > MARK_CHARS and texts:
            parts.append(";".join(texts))
            texts, size = [], 0
        texts.append(text)
        size += len(text) + 1
    if texts:
        parts.append(";".join(texts))
    return "\n".join(
        f'{MARKS},part={i},writer={writer} spans="{text}"' for i, text in enumerate(parts)
    ).encode()


def parse_spans(texts: Iterable[object]) -> dict[str, tuple[int, int]]:
    """Marks' `spans`, merged per station: (first, last reading) in Unix ms."""
    out: dict[str, tuple[int, int]] = {}
    for text in texts:
        for item in str(text).split(";"):
            station, first, last = item.rsplit(":", 2)
            a, b = int(first), int(last)
            known = out.get(station)
            out[station] = (a, b) if known is None else (min(known[0], a), max(known[1], b))
    return out


def bin_lines(days: Iterable[rollup.DayBins]) -> list[str]:
    """The `bins` points of the recomputed slots of `days`, empty bins included (they replace
    what was kept there)."""
    lines = []
    for day in days:
        obs = day.arrays[rollup.OBS]
        fields = [f for f in rollup.FIELDS if f in day.arrays]
        for slot in range(day.slots.start, day.slots.stop):
            t_ms = day.day * rollup.DAY_MS + slot * rollup.BIN_MS
            n_obs = int(obs[0, slot])
            head = f"{BINS},station={day.station} n_obs={n_obs}i"
            if not n_obs:
                lines.append(f"{head} {t_ms}")
                continue
            texts = [head, f"first_ms={float(obs[1, slot])!r},last_ms={float(obs[2, slot])!r}"]
            for field in fields:
                array = day.arrays[field]
                n = int(array[0, slot])
                texts.append(f"n_{field}={n}i,flagged_{field}={int(array[4, slot])}i")
                if n:
                    texts.append(
                        ",".join(
                            f"{stat}_{field}={float(array[i, slot])!r}"
                            for i, stat in enumerate(rollup.stats_of(field))
                            if stat not in ("n", "flagged")
                        )
                    )
            lines.append(",".join(texts) + f" {t_ms}")
    return lines


def columns(fields: Sequence[str]) -> list[str]:
    """The `bins` point fields a read of `fields` selects."""
    return [*rollup.OBS_STATS] + [
        f"{stat}_{field}" for field in fields for stat in rollup.stats_of(field)
    ]


def to_stack(table: pd.DataFrame, fields: Sequence[str]) -> rollup.Stack:
    """A `bins` query's table (`InfluxStore.query_table`, by station) as whole days of bins.
    Points without a reading (`n_obs` 0: a bin a later roll emptied) are left out, and a field's
    sums where it has no usable value (the point kept those of an earlier roll)."""
    station = table["station"].to_numpy(dtype=object)
    points = influxql.floats(table, [c for c in table.columns if c != "station"])
    kept = np.nan_to_num(points.get("n_obs", np.zeros(len(station))), nan=0.0) > 0
    if not kept.any():
        return rollup.Stack.of([], fields)
    points = {name: values[kept] for name, values in points.items()}
    t_ms = points["time"].astype(np.int64)
    codes, names = pd.factorize(station[kept], sort=True)
    day = t_ms // rollup.DAY_MS
    keys, row = np.unique(codes.astype(np.int64) * (1 << 32) + day, return_inverse=True)
    slot = (t_ms % rollup.DAY_MS) // rollup.BIN_MS
    arrays = {}
    for field in (rollup.OBS, *fields):
        shape = rollup.empty(field).shape
        array = np.broadcast_to(rollup.empty(field), (len(keys), *shape)).copy()
        usable = None if field == rollup.OBS else _counts(points, f"n_{field}") > 0
        for i, stat in enumerate(rollup.stats_of(field)):
            name = stat if field == rollup.OBS else f"{stat}_{field}"
            if name not in points:
                continue
            counted = stat in ("n", "flagged", "n_obs")
            values = _counts(points, name) if counted else points[name]
            if usable is not None and not counted:
                values = np.where(usable, values, np.nan)
            array[row, i, slot] = values
        arrays[field] = array
    return rollup.Stack(
        stations=np.asarray(names, dtype=object)[keys >> 32],
        days=keys & ((1 << 32) - 1),
        arrays=arrays,
    )


def _counts(points: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A count column (absent, or not written: 0)."""
    values = points.get(name)
    return np.zeros(len(points["time"])) if values is None else np.nan_to_num(values, nan=0.0)


class Bins:
    """The bins of one `InfluxStore`: its roll between batches and its reads."""

    def __init__(self, server: InfluxStore, writer: str) -> None:
        self.server = server
        self.writer = writer
        self._pending: list[tuple[str, int, int]] | None = None  # marks being rolled
        self._upto_ns = 0  # the newest of them: the cursor once they are done
        self._pruned_at = 0.0
        self._prune_failed = False
        # (first day, end day, stations, fields) -> (the cursor then, the points as a stack)
        self._kept: OrderedDict[_ReadKey, tuple[int, rollup.Stack]] = OrderedDict()
        self._kept_lock = threading.Lock()
        # The raw rows reads compute unrolled bins from (the roll reads its own: `context`),
        # and those of the windows asked for again (`recent`): apart, as their spans differ.
        self._recent = RecentRows(self.context, self._between, self._marks_since)
        self._windows = RecentRows(self.context, self._between, self._marks_since)

    # --- the roll -------------------------------------------------------------------------

    def roll(self, budget_s: float) -> bool:
        """Recompute the bins of settled marks for about `budget_s`; True while work is left."""
        deadline = time.monotonic() + budget_s
        if self._pending is None:
            cursor = self.cursor()
            if cursor is None and not self._has_marks_of_everything():
                self._mark_everything()
            found = self.server.query(
                f"SELECT spans FROM {MARKS} WHERE time > {cursor or 0}"
                f" AND time <= now() - {SETTLE}",
                epoch="ns",
            )
            if not found:
                return False
            spans = parse_spans(t for _, frame in found for t in frame["spans"])
            self._upto_ns = max(int(frame["time"].max()) for _, frame in found)
            self._pending = sorted(((s, a, b) for s, (a, b) in spans.items()), key=_by_first)
        while self._pending:
            group = rollup.groups(self._pending)[0]
            days, upto = rollup.roll_group(group, self.context)
            self._write_bins(days)
            rest = self._pending[len(group) :]
            for station, _, last in group:
                following = self._next_reading(station, upto[station], last)
                if following is not None:
                    rest.append((station, following, last))
            self._pending = sorted(rest, key=_by_first)
            if time.monotonic() >= deadline and self._pending:
                return True
        self.server.write_lines(f'{ROLLED} by="{self.writer}" {self._upto_ns}'.encode(), "ns")
        self._pending = None
        self._prune(self._upto_ns)
        return False

    def _write_bins(self, days: Sequence[rollup.DayBins]) -> None:
        lines = bin_lines(days)
        for start in range(0, len(lines), 5000):
            self.server.write_lines("\n".join(lines[start : start + 5000]).encode(), "ms")

    def _next_reading(self, station: str, after: int, last: int) -> int | None:
        """Where a station's mark goes on after a span rolled up to `after` (sqlite_bins's
        `_next_reading`: the stretch skipped holds no reading)."""
        if after >= last:
            return None
        found = self.server.query(
            f"SELECT * FROM {lineprotocol.MEASUREMENT}"
            f" WHERE station = {influxql.quote_str(station)}"
            f" AND time > {after}ms AND time <= {last}ms LIMIT 1"
        )
        return int(found[0][1]["time"].iloc[0]) if found else None

    def cursor(self) -> int | None:
        """The newest mark the rolls have covered (Unix ns: marks are stamped in ns, and one
        millisecond can hold several); None: no bins yet."""
        found = self.server.query(f'SELECT last("by") FROM {ROLLED}', epoch="ns")
        return int(found[0][1]["time"].iloc[0]) if found else None

    def _has_marks_of_everything(self) -> bool:
        return bool(
            self.server.query(f"SELECT spans FROM {MARKS} WHERE writer = 'everything' LIMIT 1")
        )

    def _mark_everything(self) -> None:
        """Marks of every station's whole history: a store whose readings predate its marks
        (written before bins, or since a rebuild began) gets them from its next rolls."""
        spans = self.extents()
        if spans:
            self.server.write_lines(
                _marks_of(((s, a, b) for s, (a, b) in sorted(spans.items())), "everything"), "ns"
            )

    def extents(self) -> dict[str, tuple[int, int]]:
        """Each station's first and last reading (Unix ms)."""
        out: dict[str, tuple[int, int]] = {}
        for order in ("ASC", "DESC"):
            found = self.server.query_table(
                f"SELECT * FROM {lineprotocol.MEASUREMENT} GROUP BY station"
                f" ORDER BY time {order} LIMIT 1"
            )
            for station, t in zip(found["station"], found["time"].astype("int64"), strict=True):
                known = out.get(station, (int(t), int(t)))
                out[station] = (min(known[0], int(t)), max(known[1], int(t)))
        return out

    def _prune(self, cursor_ns: int) -> None:
        if self._prune_failed or time.monotonic() - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        try:
            self.server.query(
                f"DELETE FROM {MARKS} WHERE time < {cursor_ns // 1_000_000 - KEEP_MARKS_MS}ms"
            )
        except StoreError as exc:
            self._prune_failed = True
            log.warning("store %s: cannot delete old bin marks (%s); kept", self.server.url, exc)

    def rebuild(self, progress: Callable[[int], None]) -> None:
        """Forget every bin and recompute them all from the raw rows."""
        for measurement in (ROLLED, BINS, MARKS):
            self.server.query(f"DROP MEASUREMENT {measurement}")
        self._pending = None
        self._mark_everything()
        # The marks just written settle first; a rebuild does not wait for them.
        found = self.server.query(f"SELECT spans FROM {MARKS}", epoch="ns")
        spans = parse_spans(t for _, frame in found for t in frame["spans"])
        self._upto_ns = max((int(frame["time"].max()) for _, frame in found), default=0)
        self._pending = sorted(((s, a, b) for s, (a, b) in spans.items()), key=_by_first)
        while self.roll(budget_s=2.0):
            progress(len(self._pending or ()))
        progress(0)

    # --- reads ----------------------------------------------------------------------------

    def context(
        self, stations: Sequence[str], span: tuple[int, int], fields: Sequence[str]
    ) -> pd.DataFrame:
        """`rollup.ContextReader`: the rows of `stations` in `span` and each one's reading just
        before it."""
        names = _raw_names(fields)
        rows = self._between(stations, span[0], span[1], fields)
        picks = ", ".join(influxql.quote_ident(n) for n in names)
        previous = self.server.query_table(
            f"SELECT {picks} FROM {lineprotocol.MEASUREMENT} WHERE time < {span[0]}ms"
            f" AND {influxql.any_of('station', stations)}"
            " GROUP BY station ORDER BY time DESC LIMIT 1"
        )
        if len(previous):
            extra = obs_frame(
                previous["station"].to_numpy(dtype=object),
                previous["time"].to_numpy(dtype="int64"),
                influxql.floats(previous, names),
            )
            rows = pd.concat([extra, rows], ignore_index=True).sort_values(
                ["station", "time"], kind="stable", ignore_index=True
            )
        return rows

    def _between(
        self, stations: Sequence[str], start_ms: int, end_ms: int, fields: Sequence[str]
    ) -> pd.DataFrame:
        """The raw rows of `stations` in [start, end) of what QC of `fields` needs."""
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        end = datetime.fromtimestamp(end_ms / 1000, UTC)
        return self.server.read(start, end, stations, _raw_names(fields))

    def _newest_mark_ns(self) -> int:
        """When the newest mark was stamped (Unix ns; 0: no mark yet)."""
        found = self.server.query(f"SELECT last(spans) FROM {MARKS}", epoch="ns")
        return int(found[0][1]["time"].iloc[0]) if found else 0

    def _marks_since(self, since_ns: int | None) -> tuple[int, dict[str, tuple[int, int]]]:
        """`recent_rows.MarksSince`: the newest mark's time and what the marks after
        `since_ns` name."""
        if since_ns is None:
            return self._newest_mark_ns(), {}
        found = self.server.query_table(
            f"SELECT spans FROM {MARKS} WHERE time > {since_ns}", tags=(), epoch="ns"
        )
        if not len(found):
            return since_ns, {}
        return max(since_ns, int(found["time"].max())), parse_spans(found["spans"])

    def read(
        self,
        start_ms: int,
        end_ms: int,
        stations: Sequence[str] | None,
        fields: Sequence[str],
    ) -> pd.DataFrame:
        """The bins of [start, end) as `rollup.to_frame` gives them, equal to those of every
        reading stored: the points kept, and from raw rows where marks are not rolled yet."""
        cursor = self.cursor()
        stack = None
        if cursor is not None:
            first = start_ms // rollup.DAY_MS * rollup.DAY_MS
            last = ((end_ms - 1) // rollup.DAY_MS + 1) * rollup.DAY_MS
            stack = self._kept_points((first, last, _names(stations), tuple(fields)), cursor)
        stale = self._stale(cursor, stations)
        return rollup.complete(stack, stale, fields, start_ms, end_ms, self._recent)

    def _kept_points(self, key: _ReadKey, cursor: int) -> rollup.Stack:
        """The kept points of the whole days [first, end) (`key`) at `cursor`: a kept read of
        them brought up to date, or read anew."""
        first, last, stations, fields = key
        with self._kept_lock:
            known = self._kept.get(key)
        if known is not None and known[0] == cursor:
            stack = known[1]
        elif known is not None and 0 < cursor - known[0] <= KEPT_FOR_NS:
            stack = self._rolled_since(known, cursor, key)
        else:
            stack = to_stack(self._points(first, last, stations, fields), fields)
        if last - first <= KEPT_DAYS * rollup.DAY_MS:
            with self._kept_lock:
                self._kept[key] = (cursor, stack)
                self._kept.move_to_end(key)
                while len(self._kept) > KEPT_READS:
                    self._kept.popitem(last=False)
        return stack

    def _rolled_since(
        self, known: tuple[int, rollup.Stack], cursor: int, key: _ReadKey
    ) -> rollup.Stack:
        """A kept read (`known`: its cursor and points) with the points rolled since read again:
        each marked station's from the first bin its marks affect."""
        first, last, stations, fields = key
        found = self.server.query_table(
            f"SELECT spans FROM {MARKS} WHERE time > {known[0]} AND time <= {cursor}", tags=()
        )
        wanted = None if stations is None else set(stations)
        changed = sorted(
            (max(first, rollup.affected(a, b)[0]), station)
            for station, (a, b) in parse_spans(found["spans"] if len(found) else []).items()
            if wanted is None or station in wanted
        )
        fresh: list[rollup.DayBins] = []
        while changed and changed[0][0] < last:
            lo = changed[0][0]
            group = [s for at, s in changed if at <= lo + REREAD_SLACK_MS]
            changed = [(at, s) for at, s in changed if at > lo + REREAD_SLACK_MS]
            points = to_stack(self._points(lo, last, tuple(group), fields), fields)
            fresh.extend(_day_bins(points, group, lo, last, fields))
        return rollup.spliced(known[1], fresh, fields)

    def _points(
        self, start_ms: int, end_ms: int, stations: tuple[str, ...] | None, fields: Sequence[str]
    ) -> pd.DataFrame:
        """The kept points of [start, end) (`columns(fields)`, by station)."""
        where = f"time >= {start_ms}ms AND time < {end_ms}ms"
        if stations is not None:
            where += f" AND {influxql.any_of('station', stations)}"
        picks = ", ".join(influxql.quote_ident(c) for c in columns(fields))
        return self.server.query_table(f"SELECT {picks} FROM {BINS} WHERE {where} GROUP BY station")

    def recent(
        self, stations: Sequence[str], start_ms: int, end_ms: int, fields: Sequence[str]
    ) -> pd.DataFrame:
        """The raw rows of [start, end) of `stations` (QC's `fields`), as `InfluxStore.read`
        gives them: kept between reads of the same fields, and read again where marks say."""
        rows = self._windows(stations, (start_ms, end_ms), fields)
        inside = rows["time"] >= pd.Timestamp(start_ms, unit="ms", tz="UTC")  # not the one before
        return rows.loc[inside.to_numpy(), ["station", "time", *fields]].reset_index(drop=True)

    def _stale(self, cursor: int | None, stations: Sequence[str] | None) -> list[tuple[int, str]]:
        wanted = None if stations is None else set(stations)
        if cursor is None:
            everyone = self.server.query(
                f'SHOW TAG VALUES FROM {lineprotocol.MEASUREMENT} WITH KEY = "station"'
            )
            names = [str(v) for _, frame in everyone for v in frame["value"]]
            return [(-_FOREVER, s) for s in names if wanted is None or s in wanted]
        found = self.server.query(f"SELECT spans FROM {MARKS} WHERE time > {cursor}")
        spans = parse_spans(t for _, frame in found for t in frame["spans"])
        return [
            (rollup.affected(a, a)[0], s)
            for s, (a, _) in spans.items()
            if wanted is None or s in wanted
        ]

    def changes(self, since_ms: int | None) -> BinsChanges:
        """Per station, the first and last UTC day (ms) of the bins marks since `since_ms`
        changed (rolled or not), and the time to ask from next: the newest mark's millisecond,
        rounded up (`CLOCK_SKEW_MS` covers a mark stamped in it later)."""
        if since_ms is None:
            return -(-self._newest_mark_ns() // 1_000_000), {}
        found = self.server.query(
            f"SELECT spans FROM {MARKS} WHERE time > {since_ms - CLOCK_SKEW_MS}ms", epoch="ns"
        )
        newest = max((-(-int(frame["time"].max()) // 1_000_000) for _, frame in found), default=0)
        days = {
            s: (a // rollup.DAY_MS * rollup.DAY_MS, b // rollup.DAY_MS * rollup.DAY_MS)
            for s, (a, b) in parse_spans(t for _, frame in found for t in frame["spans"]).items()
        }
        return max(newest, since_ms), days


# A kept read: its first day and end (Unix ms, whole UTC days), stations (None: all), fields.
_ReadKey = tuple[int, int, tuple[str, ...] | None, tuple[str, ...]]


def _raw_names(fields: Sequence[str]) -> list[str]:
    """The raw fields QC of `fields` reads."""
    return [f for f in rollup.FIELDS if f in qc.with_partners(fields)]


def _names(stations: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if stations is None else tuple(stations)


def _day_bins(
    points: rollup.Stack, stations: Sequence[str], lo: int, end: int, fields: Sequence[str]
) -> list[rollup.DayBins]:
    """The slots from `lo` to `end` of each station's days, as `points` has them (a day it has
    no row for: no reading, the points a roll emptied being left out of it)."""
    rows = {
        (s, int(d)): i for i, (s, d) in enumerate(zip(points.stations, points.days, strict=True))
    }
    out = []
    for station in stations:
        for day in range(lo // rollup.DAY_MS, (end - 1) // rollup.DAY_MS + 1):
            i = rows.get((station, day))
            first_slot = (
                (lo - day * rollup.DAY_MS) // rollup.BIN_MS if day == lo // rollup.DAY_MS else 0
            )
            arrays = {
                f: points.arrays[f][i] if i is not None else rollup.empty(f)
                for f in (rollup.OBS, *fields)
            }
            out.append(rollup.DayBins(station, day, slice(first_slot, rollup.SLOTS), arrays))
    return out


def _by_first(mark: tuple[str, int, int]) -> tuple[int, str]:
    return mark[1], mark[0]
