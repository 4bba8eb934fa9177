"""Hourly values of one field for many schools from a store's 15-minute bins, as Asia vs Europe
draws them: the days before each school's today kept by the dashboard (`kept_days`), so a
refresh of a month computes today, not thirty days (the window's first, partial day is kept
too, until the window's start moves on or a late reading reaches it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.core.actions import utc_window
from dashboard.core.bins import resample_bins
from dashboard.core.resample import CLOCK_COLUMN, Clock
from dashboard.kept_days import DayKeeper, Ranges, Reader, rows_within
from dashboard.reads import split_reads
from ingest.base import KeepsBins, Store
from ingest.domain.calibration import Correction

# Hourly rows kept per field and clock (a month of 2,000 schools, about 80 MB); a larger network
# computes its month afresh on each refresh, a few schools at a time.
HOURS_KEPT_MAX = 1_500_000
# Fields and clocks kept at once: a class switching between four variables reads nothing again.
KEEPERS_MAX = 4
# A window shorter than this has no whole day to keep between its first day and today.
_KEPT_FROM = timedelta(days=2)
# Every school's local day (25 hours when clocks fall back) lies in a span this long.
_DAY_SPAN = timedelta(hours=26)


def read_hours(
    store: Store,
    start: datetime,
    end: datetime,
    meta: pd.DataFrame,
    stations: Sequence[str],
    field: str,
    clock: Clock,
) -> pd.DataFrame:
    """`resample_bins` of `field` at 1 h on `clock` over [start, end), from the bins of
    `stations` read a few at a time (`split_reads`); empty when none was stored."""
    assert isinstance(store, KeepsBins)
    groups, _ = split_reads(store, list(stations), (), start, end)
    parts = []
    for chunk in groups:
        bins = store.read_bins(start, end, chunk, [field])
        if not bins.empty:
            parts.append(resample_bins(bins, meta.loc[chunk], "1h", clock, fields=[field]))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _dated(rows: pd.DataFrame, clock: Clock) -> pd.DataFrame:
    """`rows` with each hour's date on `clock` (naive midnight) and station ids as text."""
    moment = pd.DatetimeIndex(rows[CLOCK_COLUMN[clock]])
    if moment.tz is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return rows.assign(station=rows["station"].astype(str), date=moment.normalize())


def hourly_rows(field: str, clock: Clock) -> Reader:
    """A `DayKeeper` reader of the hourly rows of `field` on `clock`, with their dates."""

    def read(
        store: Store,
        meta: pd.DataFrame,
        first: date,
        last: date,
        stations: list[str],
        corrections: Sequence[Correction],
    ) -> pd.DataFrame:
        start, end = utc_window(first, last)
        rows = read_hours(store, start, end, meta, stations, field, clock)
        if rows.empty:  # typed, so that hours joined to it later keep their types
            moment = "datetime64[ns, UTC]" if clock == "utc" else "datetime64[ns]"
            return pd.DataFrame(
                {
                    "station": pd.Series(dtype=str),
                    CLOCK_COLUMN[clock]: pd.Series(dtype=moment),
                    "n_obs": pd.Series(dtype=np.int64),
                    "coverage": pd.Series(dtype=np.float64),
                    field: pd.Series(dtype=np.float64),
                    "n_flagged": pd.Series(dtype=np.int64),
                    "date": pd.Series(dtype="datetime64[ns]"),
                }
            )
        rows = _dated(rows, clock)
        inside = (rows["date"] >= pd.Timestamp(first)) & (rows["date"] <= pd.Timestamp(last))
        return rows[inside.to_numpy()].reset_index(drop=True)

    return read


@dataclass
class HourKeepers:
    """The kept hourly days of the fields and clocks last asked for (`KEEPERS_MAX`)."""

    _keepers: OrderedDict[tuple[str, str], DayKeeper] = field(default_factory=OrderedDict)
    # Per field and clock, the window's first day as last computed, and what it was computed for.
    _heads: dict[tuple[str, str], tuple[tuple[object, ...], pd.DataFrame]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, field_name: str, clock: Clock) -> DayKeeper:
        with self._lock:
            key = (field_name, clock)
            keeper = self._keepers.pop(key, None) or DayKeeper(
                reader=hourly_rows(field_name, clock),
                clock=clock,
                back=31,
                with_records=False,
            )
            self._keepers[key] = keeper
            while len(self._keepers) > KEEPERS_MAX:
                self._keepers.popitem(last=False)
                self._heads = {k: v for k, v in self._heads.items() if k in self._keepers}
            return keeper

    def head(
        self,
        field_name: str,
        clock: Clock,
        version: tuple[object, ...],
        compute: Callable[[], pd.DataFrame],
    ) -> pd.DataFrame:
        """The window's first day: computed again only when `version` changes."""
        with self._lock:
            known = self._heads.get((field_name, clock))
        if known is not None and known[0] == version:
            return known[1]
        rows = compute()
        with self._lock:
            self._heads[(field_name, clock)] = (version, rows)
        return rows


def kept_hourly(
    store: Store,
    keepers: HourKeepers,
    start: datetime,
    end: datetime,
    meta: pd.DataFrame,
    field: str,
    clock: Clock,
) -> pd.DataFrame | None:
    """`read_hours` over [start, end) of the schools of `meta` (read from bins, uncorrected),
    with the whole days between the window's first day and today taken from those kept; None
    where nothing is kept for it (a window of under two days, a network too large to keep)."""
    if end - start < _KEPT_FROM or len(meta) * 24 * 31 > HOURS_KEPT_MAX:
        return None
    keeper = keepers.get(field, clock)
    stations = [str(s) for s in meta.index]
    today = keeper.today(meta, end)
    kept = keeper.days(store, meta, today, ())
    first = keeper.today(meta, start)
    # The window's first day (partial) and today, each from 26 hours of bins. The first day is
    # a month old: it changes when the window's start moves to the next bin (every 15 minutes)
    # or a late reading reaches it, which the keeper's `since` follows. A store that cannot say
    # what changed has it computed on every refresh.
    head_end = min(start + _DAY_SPAN, end)

    def compute_head() -> pd.DataFrame:
        return read_hours(store, start, head_end, meta, stations, field, clock)

    if kept.since is None:
        head = compute_head()
    else:
        version = (
            start,
            head_end,
            tuple(stations),
            tuple(meta["timezone"].astype(str)),
            tuple(meta["lon"].astype("float64").fillna(np.inf)),  # NaN would never match
            kept.since,
        )
        head = keepers.head(field, clock, version, compute_head)
    tail_start = pd.Timestamp(end - _DAY_SPAN).floor("15min").to_pydatetime()
    tail = read_hours(store, max(tail_start, start), end, meta, stations, field, clock)
    whole: Ranges = {s: (first[s] + timedelta(days=1), today[s] - timedelta(days=1)) for s in today}
    parts = [rows_within(kept.days, whole)]
    for rows, ranges in (
        (head, {s: (first[s], first[s]) for s in first}),
        (tail, {s: (today[s], today[s]) for s in today}),
    ):
        if not rows.empty:
            parts.append(rows_within(_dated(rows, clock), ranges))
    hours = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return hours.drop(columns="date")
