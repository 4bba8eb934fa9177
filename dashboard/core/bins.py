"""Resampling and daily summaries from the stores' 15-minute bins instead of raw rows.

The bins (ingest/rollup.py) carry per field the count, sum, min and max of usable values, so any
coarser bin that is a union of them has exactly the aggregate the raw rows would give: the mean
is the summed sum over the summed count, and so on. Every UTC offset in use is a multiple of 15
minutes, so a local hour or a local day (23 or 25 hours at DST changes, +5:45 in Nepal) is such
a union; results equal `resample` and `daily_summary` on the raw rows up to float summation order
(about 1e-12 relative). Two things are estimates rather than exact:

- the reporting interval (for coverage) is the median gap between readings where each gap inside
  a bin counts as that bin's mean gap: exact for a station reporting at a steady interval;
- on the solar clock a bin goes whole to the solar bin holding its middle (up to 7.5 minutes of
  readings land one solar bin early or late).

The bins frame is what `Store.read_bins` returns: station, time (bin start, UTC), n_obs,
first_ms, last_ms and per field n_/sum_/min_/max_ (east_/north_ for wind direction).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.daily import SUMMARY_COLUMNS, SUMMARY_SPECS
from dashboard.core.frames import NS_PER_S, S_PER_DAY, CoreInputError, station_rows, time_ns
from dashboard.core.localtime import local_clock, offsets_in_span
from dashboard.core.resample import (
    AGGREGATES,
    CLOCK_COLUMN,
    DEFAULT_MIN_COVERAGE,
    Aggregate,
    Clock,
    Runs,
    parse_bin,
)
from dashboard.core.solar import local_solar_time

BIN_S = 15 * 60


def hour_shifts_ms(meta: pd.DataFrame, start_ns: int, end_ns: int) -> pd.Series:
    """Per station, how far after each UTC hour its local hours start (ms: 0, 15, 30 or 45
    minutes), where that holds all through [start, end]; NaN where it does not (Lord Howe
    Island moves its clocks by half an hour). A school's local hours and local days are then
    unions of the store's hour bins shifted by that much (DST moves them by whole hours).

    >>> meta = pd.DataFrame({"timezone": ["Asia/Kathmandu", "Europe/Helsinki",
    ...     "Australia/Lord_Howe"]}, index=["np-a", "fi-b", "au-c"])
    >>> start = pd.Timestamp("2025-01-01", tz="UTC").value
    >>> hour_shifts_ms(meta, start, start + 365 * 86400 * 10**9).tolist()
    [900000.0, 0.0, nan]
    """
    offsets = offsets_in_span(list(dict.fromkeys(meta["timezone"])), start_ns, end_ns)
    shift = {}
    for zone, seen in offsets.items():
        starts = {(-offset) % 3600 for offset in seen}
        shift[zone] = starts.pop() * 1000.0 if len(starts) == 1 else np.nan
    return meta["timezone"].map(shift).astype(np.float64)


def fields_in(bins: pd.DataFrame) -> list[str]:
    return [c.removeprefix("n_") for c in bins.columns if c.startswith("n_") and c != "n_obs"]


def interval_s(
    bins: pd.DataFrame, codes: NDArray[np.int32], n_stations: int
) -> NDArray[np.float64]:
    """Each station's reporting interval in seconds, from its bins (see the module docstring).

    Gaps between bins are exact (first reading of one bin minus last of the one before); the
    n - 1 gaps inside a bin of n readings count as (last - first) / (n - 1) each.
    """
    n = bins["n_obs"].to_numpy(np.int64)
    first = bins["first_ms"].to_numpy(np.float64) / 1000
    last = bins["last_ms"].to_numpy(np.float64) / 1000
    out = np.full(n_stations, np.nan)
    if not np.isfinite(first).any():
        # A store that keeps no reading times (InfluxDB's query-time bins): the typical count
        # per bin over the bin's width (the closest two of a station's bins: 15 minutes, an
        # hour) gives the interval of a station reporting at least once per bin.
        start_s = time_ns(bins["time"]) // NS_PER_S
        order = np.lexsort((start_s, codes))
        c, t = codes[order], start_s[order]
        same = c[1:] == c[:-1]
        width = pd.Series(np.diff(t)[same]).groupby(c[1:][same]).min()
        widths = np.full(n_stations, float(BIN_S))
        widths[width.index.to_numpy()] = width.to_numpy()
        counts = pd.Series(n).groupby(codes).median()
        out[counts.index.to_numpy()] = widths[counts.index.to_numpy()] / counts.to_numpy()
        return np.where(np.isfinite(out), out, 60.0)
    order = np.lexsort((first, codes))
    c, f, la, k = codes[order], first[order], last[order], n[order]
    same = c[1:] == c[:-1]
    inside = k >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_inside = (la[inside] - f[inside]) / (k[inside] - 1)
    gaps = pd.DataFrame(
        {
            "owner": np.concatenate([c[1:][same], c[inside]]),
            "gap": np.concatenate([f[1:][same] - la[:-1][same], mean_inside]),
            "weight": np.concatenate([np.ones(int(same.sum()), np.int64), k[inside] - 1]),
        }
    )
    gaps = gaps[gaps["gap"] > 0].sort_values(["owner", "gap"], kind="stable")
    by_owner = gaps.groupby("owner")["weight"]
    upto = by_owner.cumsum().to_numpy()
    total = by_owner.transform("sum").to_numpy()
    before = upto - gaps["weight"].to_numpy()
    halves = []
    # The median of W values: the mean of those at ranks (W-1)//2 and W//2 (0-based).
    for rank in ((total - 1) // 2, total // 2):
        hit = (before <= rank) & (rank < upto)
        halves.append(gaps["gap"][hit].groupby(gaps["owner"][hit]).first())
    median = (halves[0] + halves[1]) / 2
    out[median.index.to_numpy(np.int64)] = median.to_numpy()
    return np.where(np.isfinite(out), out, 60.0)


def _bin_starts(
    bins: pd.DataFrame, meta: pd.DataFrame, width_ns: int, clock: Clock
) -> tuple[NDArray[np.int32], pd.DataFrame, NDArray[np.int64], NDArray[np.float64]]:
    """Station codes, aligned meta, each 15-minute bin's target bin on `clock`, and the target
    bin's length in seconds (a local day may be 23 or 25 hours)."""
    rows = station_rows(bins, meta)
    t_ns = time_ns(bins["time"])
    width_s = np.full(t_ns.shape, width_ns / NS_PER_S)
    if clock == "utc":
        clock_ns = t_ns
    elif clock == "local":
        local = local_clock(rows.codes, rows.meta, t_ns)
        clock_ns = local.local_ns(t_ns)
        if width_ns == S_PER_DAY * NS_PER_S:
            day = clock_ns // width_ns
            width_s = local.table.day_length_s(local.zone_codes, day).astype(np.float64)
    elif clock == "solar":
        lon = rows.meta["lon"].to_numpy(np.float64)[rows.codes]
        middle = pd.DatetimeIndex((t_ns + BIN_S * NS_PER_S // 2).astype("datetime64[ns]"), tz="UTC")
        clock_ns = local_solar_time(middle, lon).asi8
    else:
        raise CoreInputError(f"clock {clock!r} is not one of utc, local, solar")
    if width_ns % (BIN_S * NS_PER_S):
        raise CoreInputError(
            f"bins of {width_ns // NS_PER_S // 60} min cannot be made of 15-minute bins: "
            "read raw rows for them"
        )
    return rows.codes, rows.meta, clock_ns // width_ns * width_ns, width_s


def _combine(
    runs: Runs, bins: pd.DataFrame, field: str, how: Aggregate
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    count = np.add.reduceat(runs.arrange(bins[f"n_{field}"].to_numpy(np.float64)), runs.starts)
    count = count.astype(np.int64)
    if how == "min":
        return np.fmin.reduceat(
            runs.arrange(bins[f"min_{field}"].to_numpy(np.float64)), runs.starts
        ), count
    if how == "max":
        return np.fmax.reduceat(
            runs.arrange(bins[f"max_{field}"].to_numpy(np.float64)), runs.starts
        ), count
    if how == "vector_mean":
        east = np.add.reduceat(
            np.nan_to_num(runs.arrange(bins[f"east_{field}"].to_numpy(np.float64))), runs.starts
        )
        north = np.add.reduceat(
            np.nan_to_num(runs.arrange(bins[f"north_{field}"].to_numpy(np.float64))), runs.starts
        )
        direction = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
        return np.where(count > 0, direction, np.nan), count
    total = np.add.reduceat(
        np.nan_to_num(runs.arrange(bins[f"sum_{field}"].to_numpy(np.float64))), runs.starts
    )
    if how == "sum":
        return np.where(count > 0, total, np.nan), count
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count


def _grouped(
    bins: pd.DataFrame,
    meta: pd.DataFrame,
    width_ns: int,
    clock: Clock,
    specs: Sequence[tuple[str, str, Aggregate]],
    min_coverage: float,
) -> tuple[
    pd.Categorical,
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
    dict[str, NDArray[np.float64]],
]:
    codes, aligned, start_ns, width_s = _bin_starts(bins, meta, width_ns, clock)
    first = int(start_ns.min() // width_ns) if start_ns.size else 0
    span = int(start_ns.max() // width_ns) - first + 1 if start_ns.size else 1
    keys = codes.astype(np.int64) * span + (start_ns // width_ns - first)
    runs = Runs.of(keys)
    station = runs.keys // span
    bin_start = (runs.keys % span + first) * width_ns
    n_obs = (
        np.add.reduceat(runs.arrange(bins["n_obs"].to_numpy(np.float64)), runs.starts).astype(
            np.int64
        )
        if runs.starts.size
        else np.zeros(0, np.int64)
    )
    interval = interval_s(bins, codes, len(aligned))
    given = aligned["interval_s"].to_numpy(np.float64) if "interval_s" in aligned else None
    if given is not None:
        interval = np.where(np.isfinite(given), given, interval)
    first_row = runs.starts if runs.order is None else runs.order[runs.starts]
    expected = width_s[first_row] / interval[station]
    values: dict[str, NDArray[np.float64]] = {}
    present = set(fields_in(bins))
    for name, field, how in specs:
        if field not in present or not runs.starts.size:
            values[name] = np.full(station.shape, np.nan)
            continue
        value, count = _combine(runs, bins, field, how)
        values[name] = np.where(count >= min_coverage * expected, value, np.nan)
    categories = pd.Categorical.from_codes(station, categories=aligned.index)
    return categories, bin_start, n_obs, expected, values


def resample_bins(
    bins: pd.DataFrame,
    meta: pd.DataFrame,
    freq: str = "1h",
    clock: Clock = "utc",
    fields: Sequence[str] | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """`resample` (dashboard/core/resample.py) computed from 15-minute bins: the same columns,
    the same values (see the module docstring for the two estimates)."""
    chosen = [f for f in (fields or fields_in(bins)) if f in fields_in(bins)]
    station, start, n_obs, expected, values = _grouped(
        bins, meta, parse_bin(freq), clock, [(f, f, AGGREGATES[f]) for f in chosen], min_coverage
    )
    index = pd.DatetimeIndex(start.astype("datetime64[ns]"))
    return pd.DataFrame(
        {
            "station": station,
            CLOCK_COLUMN[clock]: index.tz_localize("UTC") if clock == "utc" else index,
            "n_obs": n_obs,
            "coverage": np.minimum(n_obs / expected, 1.0),
            **values,
        }
    )


def daily_summary_bins(
    bins: pd.DataFrame, meta: pd.DataFrame, min_coverage: float = DEFAULT_MIN_COVERAGE
) -> pd.DataFrame:
    """`daily_summary` (dashboard/core/daily.py) per station and local day, from 15-minute bins."""
    station, start, n_obs, expected, values = _grouped(
        bins, meta, S_PER_DAY * NS_PER_S, "local", SUMMARY_SPECS, min_coverage
    )
    return pd.DataFrame(
        {
            "station": station,
            "date": pd.DatetimeIndex(start.astype("datetime64[ns]")),
            "n_obs": n_obs,
            "coverage": np.minimum(n_obs / expected, 1.0),
            **values,
        },
        columns=list(SUMMARY_COLUMNS),
    )
