"""Each outdoor school's days before its local today, kept by the dashboard: climate day rows for
the records, the reports, the partner months, a year's indices and the leaderboard; hourly rows
for Asia vs Europe. A refresh then reads today's bins only, not the month or the history.

The days a view needs (`DayKeeper.back`; the whole history for the records) are read once, a
year at a time and a few schools at a time. After that a request reads only the days each
school's midnight has completed since, and the past days late readings changed (a station's
outbox after an outage): a store that keeps bins names them (`KeepsBins.bins_changes`), asked
at most every `LATE_CHECK_S`. A store that cannot (InfluxDB) has its new days read, but a late
reading of a day already kept is seen only after the dashboard restarts.

Memory: a climate day is a row of eight numbers, about 80 bytes: 500 schools' year is 15 MB. A
month of hourly rows of one field is about 18 MB for 500 schools. A keeper keeps at most
`MAX_ROWS`: a larger network keeps fewer days, and the records of the older ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.climate_store import read_climate_days
from dashboard.core.records import merge_records, station_records
from dashboard.core.resample import Clock
from dashboard.core.solar import local_solar_time
from ingest.base import KeepsBins, Store
from ingest.domain.calibration import Correction

# The earliest day a ClassNet station can have measured (the network began in 2024).
FIRST_DAY = date(2020, 1, 1)
# How often the store is asked which kept days late readings changed: how long a replayed outbox
# takes to reach the records and reports.
LATE_CHECK_S = 300.0
_DAY = timedelta(days=1)
_DAY_MS = 86_400_000
_DAY_ZERO = date(1970, 1, 1)  # a read of no station: the reader's empty frame
# Rows a keeper keeps at most (about 80 bytes each: 120 MB). 500 schools keep their whole history
# for eight years; 10,000 schools keep 150 days, and their records fold in the rest.
MAX_ROWS = 1_500_000

# station -> the first and last date to read, on the keeper's clock
Ranges = dict[str, tuple[date, date]]


def dates_today(meta: pd.DataFrame, now: datetime, clock: Clock = "local") -> dict[str, date]:
    """Each school's date at `now` on `clock` (`meta` indexed by station, with its time zone and
    longitude): its local date by default."""
    stations = [str(s) for s in meta.index]
    now_ms = int(now.timestamp() * 1000)
    dates = dates_at(meta, stations, [now_ms] * len(stations), clock)
    return dict(zip(stations, dates, strict=True))


@dataclass(frozen=True)
class KeptDays:
    """Each school's climate days (`DAY_COLUMNS`, by station and date) before its local
    `today`, their records (`station_records`), and where the store's changes were last seen."""

    today: dict[str, date]
    days: pd.DataFrame
    records: pd.DataFrame
    since: int | None  # the store's time to ask for changes from (None: it cannot tell)
    checked: float  # when it was last asked (`time.monotonic`)
    corrections: frozenset[Correction]  # stations.toml's, applied to these days
    start: date  # the first day kept: days before it are only in the records (`before`)
    before: pd.DataFrame  # the records of the days before `start`

    def between(self, first: date, last: date, stations: Sequence[str]) -> pd.DataFrame:
        """The kept days of `stations` from `first` to `last`."""
        days = self.days
        inside = (
            days["station"].isin(list(stations))
            & (days["date"] >= pd.Timestamp(first))
            & (days["date"] <= pd.Timestamp(last))
        )
        return days[inside.to_numpy()].reset_index(drop=True)


def dates_at(
    meta: pd.DataFrame, stations: Sequence[str], ms: Sequence[int], clock: Clock
) -> list[date]:
    """The date on `clock` of each station at its Unix time in ms (`meta`: the stations' time
    zones and longitudes): its local date, the UTC date, or its apparent solar date."""
    if clock == "utc":
        return [datetime.fromtimestamp(t / 1000, UTC).date() for t in ms]
    if clock == "solar":
        moments = pd.DatetimeIndex(pd.to_datetime(np.asarray(ms, np.int64), unit="ms", utc=True))
        lon = meta["lon"].reindex(list(stations)).to_numpy(np.float64)
        return [t.date() for t in local_solar_time(moments, lon).normalize()]
    zones = meta["timezone"]
    return [
        datetime.fromtimestamp(t / 1000, UTC).astimezone(ZoneInfo(str(zones[s]))).date()
        for s, t in zip(stations, ms, strict=True)
    ]


def late_ranges(
    changed: dict[str, tuple[int, int]], meta: pd.DataFrame, clock: Clock, today: dict[str, date]
) -> Ranges:
    """The dates on `clock` before each school's today that its changed UTC days (Unix ms of
    their midnights, `bins_changes`) overlap. A school east of UTC has its day before today
    changed while readings of today land on the UTC day both share: it is read again, at most
    every `LATE_CHECK_S`.

    >>> day = int(datetime(2026, 12, 7, tzinfo=UTC).timestamp() * 1000)
    >>> meta = pd.DataFrame({"timezone": ["Asia/Tokyo", "Europe/Helsinki"],
    ...     "lon": [139.7, 23.8]}, index=["jp-a", "fi-b"])
    >>> late_ranges({"jp-a": (day, day), "fi-b": (day, day)}, meta, "local",
    ...             {"jp-a": date(2026, 12, 8), "fi-b": date(2026, 12, 7)})
    {'jp-a': (datetime.date(2026, 12, 7), datetime.date(2026, 12, 7))}
    """
    stations = [s for s in changed if s in today]
    firsts = dates_at(meta, stations, [changed[s][0] for s in stations], clock)
    ends = dates_at(meta, stations, [changed[s][1] + _DAY_MS - 1 for s in stations], clock)
    ranges: Ranges = {}
    for station, first, end in zip(stations, firsts, ends, strict=True):
        first, last = max(first, FIRST_DAY), min(end, today[station] - _DAY)
        if first <= last:
            ranges[station] = (first, last)
    return ranges


# Reads the rows of dates first..last of the stations (each row's date on the keeper's clock in
# "date").
Reader = Callable[[Store, pd.DataFrame, date, date, list[str], Sequence[Correction]], pd.DataFrame]


@dataclass
class DayKeeper:
    """The kept days of a dashboard's outdoor schools, brought up to date by whichever request
    asks first (`days`); the others wait for that one read and share it.

    `reader` makes the rows (the climate day table by default); `clock`: whose dates they are
    on (each school's local one, UTC, or its solar time); `back`: the days before today kept
    (None: as many as `max_rows` allows, the whole history for 500 schools); `with_records`:
    keep each school's records too, over its whole history (the days older than those kept are
    read once, a year at a time, into their records)."""

    reader: Reader = read_climate_days
    clock: Clock = "local"
    back: int | None = None
    with_records: bool = True
    max_rows: int = MAX_ROWS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    kept: KeptDays | None = field(default=None, repr=False)

    def today(self, meta: pd.DataFrame, now: datetime) -> dict[str, date]:
        """Each school's today on this keeper's clock."""
        return dates_today(meta, now, self.clock)

    def days(
        self,
        store: Store,
        meta: pd.DataFrame,
        today: dict[str, date],
        corrections: Sequence[Correction],
    ) -> KeptDays:
        """The days before each school's `today` (`meta`: the outdoor schools)."""
        with self._lock:
            self.kept = self._keep(store, meta, today, corrections, self.kept, time.monotonic())
            return self.kept

    def _start(self, today: dict[str, date]) -> date:
        """The first day kept: `back` days before the earliest today, or fewer for a network
        whose days would pass `max_rows`."""
        earliest = min(today.values())
        back = min(self.max_rows // max(len(today), 1), max(0, (earliest - FIRST_DAY).days))
        back = back if self.back is None else min(back, self.back)
        return max(FIRST_DAY, earliest - timedelta(days=back))

    def _keep(
        self,
        store: Store,
        meta: pd.DataFrame,
        today: dict[str, date],
        corrections: Sequence[Correction],
        kept: KeptDays | None,
        now_s: float,
    ) -> KeptDays:
        """`kept` brought up to each school's `today` (`now_s` a `time.monotonic`): read when
        nothing is kept yet (or the clock went back), else the days completed since, those late
        readings changed and those of a school whose calibration changed; the days that left
        the window folded into the records."""
        applied = frozenset(corrections)
        start = self._start(today)
        # Where a school's reading begins: its whole history when records are kept.
        origin = FIRST_DAY if self.with_records else start
        if kept is None or any(today[s] < d for s, d in kept.today.items() if s in today):
            since = _changes(store, None)[0]
            everything = {s: (origin, d - _DAY) for s, d in today.items()}
            days, before = self._read(store, meta, everything, corrections, start)
            records = merge_records(before, self._records(days))
            return KeptDays(dict(today), days, records, since, now_s, applied, start, before)
        ranges: Ranges = {}
        anew = set()  # schools read from their beginning: their records before `start` anew
        recalibrated = {c.station for c in applied ^ kept.corrections}
        for station, day in today.items():
            was = kept.today.get(station)
            if was is None or station in recalibrated:
                ranges[station] = (origin, day - _DAY)  # new to the registry, or recalibrated
                anew.add(station)
            elif was < day:
                ranges[station] = (max(was, start), day - _DAY)
        since, checked = kept.since, kept.checked
        if since is not None and now_s - checked >= LATE_CHECK_S:
            answer, changed = _changes(store, since)
            if answer is not None:
                since = answer
                for station, (a, b) in late_ranges(changed, meta, self.clock, today).items():
                    was_range = ranges.get(station, (a, b))
                    a = max(min(a, was_range[0]), start)
                    ranges[station] = (a, max(b, was_range[1]))
            checked = now_s
        ranges = {s: (a, b) for s, (a, b) in ranges.items() if a <= b}
        today = {**kept.today, **today}
        days, before = kept.days, kept.before
        if ranges:
            fresh, fresh_before = self._read(store, meta, ranges, corrections, start)
            days = pd.concat([days[~_within(days, ranges)], fresh], ignore_index=True)
            # Stable: a day's rows come from one read, in order (an hour's after another's).
            days = days.sort_values(["station", "date"], kind="stable").reset_index(drop=True)
            if anew:
                before = merge_records(before[~before["station"].isin(anew)], fresh_before)
        left = (days["date"] < pd.Timestamp(start)).to_numpy()
        if left.any():  # the window moved on: those days live on in the records
            before = merge_records(before, self._records(days[left]))
            days = days[~left].reset_index(drop=True)
        if not ranges:
            return replace(
                kept, today=today, since=since, checked=checked, corrections=applied,
                start=start, days=days, before=before,
            )  # fmt: skip
        records = kept.records
        if self.with_records:
            touched = list(ranges)
            mine = days[days["station"].isin(touched).to_numpy()]
            records = merge_records(
                records[~records["station"].isin(touched).to_numpy()],
                merge_records(
                    before[before["station"].isin(touched).to_numpy()], station_records(mine)
                ),
            )
        return KeptDays(today, days, records, since, checked, applied, start, before)

    def _records(self, days: pd.DataFrame) -> pd.DataFrame:
        return station_records(days if self.with_records else days.iloc[:0])

    def _read(
        self,
        store: Store,
        meta: pd.DataFrame,
        ranges: Ranges,
        corrections: Sequence[Correction],
        start: date,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The rows of each station in its range from `start` on, and the records of those
        before it. Stations starting on the same date are read together, a year at a time: each
        read takes as many schools as its window allows (`split_reads`), so the years before a
        network began cost a query each, and a year's rows at most are in memory at once."""
        by_first: dict[date, list[str]] = {}
        for station, (first, _) in ranges.items():
            by_first.setdefault(first, []).append(station)
        parts, before = [], self._records(pd.DataFrame(columns=["station", "date"]))
        for first, stations in by_first.items():
            last = max(ranges[s][1] for s in stations)
            while first <= last:
                upto = min(first + timedelta(days=365), last)
                rows = self.reader(store, meta, first, upto, stations, corrections)
                first = upto + _DAY
                rows = rows[_within(rows, ranges)]
                older = (rows["date"] < pd.Timestamp(start)).to_numpy()
                if older.any():
                    before = merge_records(before, self._records(rows[older]))
                    rows = rows[~older]
                if len(rows):
                    parts.append(rows)
        if not parts:
            return self.reader(store, meta, _DAY_ZERO, _DAY_ZERO, [], corrections), before
        return pd.concat(parts, ignore_index=True), before


def _changes(store: Store, since: int | None) -> tuple[int | None, dict[str, tuple[int, int]]]:
    """The store's `bins_changes` (None and nothing: a store that cannot tell)."""
    answer = store.bins_changes(since) if isinstance(store, KeepsBins) else None
    return (None, {}) if answer is None else answer


def rows_within(rows: pd.DataFrame, ranges: Ranges) -> pd.DataFrame:
    """The rows of `rows` (with a "date" column) in their station's range."""
    return rows[_within(rows, ranges)].reset_index(drop=True)


def _within(days: pd.DataFrame, ranges: Ranges) -> NDArray[np.bool_]:
    """Which rows of `days` fall in their station's range. By the stations' codes: a month of
    500 schools' hours is 360,000 rows, and a lookup per row costs a tenth of a second."""
    codes, names = pd.factorize(days["station"])
    never = (np.datetime64("NaT", "ns"), np.datetime64("NaT", "ns"))
    bounds = [ranges.get(str(name)) for name in names]
    first, last = (
        np.array(
            [never[i] if b is None else np.datetime64(b[i], "ns") for b in bounds],
            dtype="datetime64[ns]",
        )
        for i in (0, 1)
    )
    date = days["date"].to_numpy(dtype="datetime64[ns]")
    return (date >= first[codes]) & (date <= last[codes])
