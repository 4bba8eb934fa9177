"""Resampling onto a common grid (1 min … 1 day) with the right aggregate per variable.

Rows are grouped by an int64 (station, bin) key. When the key is already sorted — the store returns
rows by station and time — each group is a contiguous run and numpy's `reduceat` aggregates all of
them in one pass; otherwise one stable argsort puts them in that order first.

Coverage: a bin's `coverage` is the number of observations over the number the station's reporting
interval promises for the bin (a local day of 23 or 25 hours promises fewer or more). A variable's
value is left empty (NaN) where its own count covers less than `min_coverage` of the bin; see
docs/comparison.md for the threshold and its source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.frames import (
    FIELDS,
    NS_PER_S,
    S_PER_DAY,
    CoreInputError,
    StationRows,
    station_rows,
    time_ns,
)
from dashboard.core.localtime import LocalClock, local_clock
from dashboard.core.solar import local_solar_time
from ingest.domain.qc import flag_labels, qc_flags, screen
from ingest.domain.sorting import sort_order

Clock = Literal["utc", "local", "solar"]
Aggregate = Literal["mean", "sum", "min", "max", "vector_mean"]

# At least 18 of 24 hours: the completeness rule for daily values of US EPA 40 CFR Part 50
# (Appendix N), also used here for every bin size. See docs/comparison.md.
DEFAULT_MIN_COVERAGE = 0.75

# How each variable combines within a bin (WMO-No. 8 Part I ch. 1 and 5: wind direction is
# averaged as a vector, rain is accumulated, the gust is the bin's highest).
AGGREGATES: dict[str, Aggregate] = {
    "temp_c": "mean",
    "rh_pct": "mean",
    "pressure_hpa": "mean",
    "wind_speed_ms": "mean",
    "wind_gust_ms": "max",
    "wind_dir_deg": "vector_mean",
    "rain_mm": "sum",
    "light_lux": "mean",
    "uv_index": "max",
    "battery_v": "min",
    "rssi_dbm": "mean",
    "co2_ppm": "mean",
    "pm2_5_ugm3": "mean",
    "pm10_ugm3": "mean",
}

# Name of the bin column for each clock.
CLOCK_COLUMN: dict[Clock, str] = {"utc": "time", "local": "local_time", "solar": "solar_time"}


@dataclass(frozen=True)
class Runs:
    """Contiguous runs of equal keys after an optional reordering of the rows."""

    order: NDArray[np.intp] | None
    starts: NDArray[np.intp]
    keys: NDArray[np.int64]

    @classmethod
    def of(cls, keys: NDArray[np.int64]) -> Runs:
        order = sort_order(keys)
        ordered = keys if order is None else keys[order]
        if ordered.size == 0:
            return cls(order, np.zeros(0, np.intp), np.zeros(0, np.int64))
        starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
        return cls(order, starts.astype(np.intp), ordered[starts])

    def arrange(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return values if self.order is None else values[self.order]

    def count(self, finite: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.add.reduceat(finite, self.starts, dtype=np.int64)

    def total(self, counts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Sum of per-row counts over each run (rows in their original order)."""
        if self.starts.size == 0:
            return np.zeros(0, np.int64)
        ordered = counts if self.order is None else counts[self.order]
        return np.add.reduceat(ordered, self.starts, dtype=np.int64)

    def aggregate(
        self, values: NDArray[np.float64], how: Aggregate
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The aggregate of each run, ignoring NaN, and how many values went into it."""
        ordered = self.arrange(values)
        finite = ~np.isnan(ordered)
        count = self.count(finite)
        if how in ("min", "max"):
            return self._reduce(how, count, [ordered])
        if how == "vector_mean":
            radians = np.radians(ordered)
            east = np.where(finite, np.sin(radians), 0.0)
            north = np.where(finite, np.cos(radians), 0.0)
            return self._reduce(how, count, [east, north])
        return self._reduce(how, count, [np.where(finite, ordered, 0.0)])

    def combine(
        self, how: Aggregate, counts: NDArray[np.int64], parts: Sequence[NDArray[np.float64]]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """`aggregate` from rows that each summarise several values (rows in their original
        order), exact since each aggregate is a combination of partial ones: `counts`, how many
        values each row summarises, and `parts`, the row's [min] or [max] (NaN for none), [sum]
        for mean and sum, or [sum of sines, sum of cosines] for vector_mean (sums 0 for none)."""
        return self._reduce(how, self.total(counts), [self.arrange(p) for p in parts])

    def _reduce(
        self, how: Aggregate, count: NDArray[np.int64], ordered: Sequence[NDArray[np.float64]]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if how == "min":
            return np.fmin.reduceat(ordered[0], self.starts), count
        if how == "max":
            return np.fmax.reduceat(ordered[0], self.starts), count
        if how == "vector_mean":
            east, north = (np.add.reduceat(part, self.starts) for part in ordered)
            direction = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
            return np.where(count > 0, direction, np.nan), count
        total = np.add.reduceat(ordered[0], self.starts)
        if how == "sum":
            return np.where(count > 0, total, np.nan), count
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count, count


def run_lengths(runs: Runs, n_rows: int) -> NDArray[np.int64]:
    return np.diff(np.append(runs.starts, n_rows)).astype(np.int64)


def nominal_interval_s(obs: pd.DataFrame, meta: pd.DataFrame) -> pd.Series:
    """Each station's reporting interval in seconds: `meta.interval_s` where given, otherwise the
    median gap between its consecutive observations (robust to outages and bursts).

    >>> obs = pd.DataFrame({"station": ["fi-a"] * 4,
    ...     "time": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:02",
    ...                             "2024-01-01 00:10"], utc=True)})
    >>> float(nominal_interval_s(obs, pd.DataFrame(index=["fi-a"])).iloc[0])
    60.0
    """
    rows = station_rows(obs, meta)
    t_ns = time_ns(obs["time"])
    return reporting_interval_s(rows, lambda need: _median_gap_s(rows.codes, t_ns, need))


def reporting_interval_s(
    rows: StationRows, median_gap_s: Callable[[NDArray[np.intp]], pd.Series]
) -> pd.Series:
    """`meta.interval_s` where given, otherwise `median_gap_s(codes)` for the station codes
    without one (a Series indexed by code: only those are worth computing), otherwise a minute."""
    given = (
        rows.meta["interval_s"].astype(np.float64)
        if "interval_s" in rows.meta
        else pd.Series(np.nan, index=rows.meta.index)
    )
    need = np.flatnonzero(given.isna().to_numpy())
    if need.size:
        medians = median_gap_s(need)
        filled = given.to_numpy().copy()
        filled[medians.index.to_numpy()] = medians.to_numpy()
        given = pd.Series(filled, index=given.index)
    # A station with a single observation has no gap; one minute is the fleet's default cadence.
    return given.fillna(60.0).rename("interval_s")


def _median_gap_s(
    codes: NDArray[np.int32], t_ns: NDArray[np.int64], need: NDArray[np.intp]
) -> pd.Series:
    wanted = np.isin(codes, need)
    codes, times = codes[wanted], t_ns[wanted]
    if not _times_sorted_within(codes, times):
        order = np.lexsort((times, codes))
        codes, times = codes[order], times[order]
    gaps = np.diff(times) / NS_PER_S
    same = (codes[1:] == codes[:-1]) & (gaps > 0)
    return pd.Series(gaps[same]).groupby(codes[1:][same]).median()


def _times_sorted_within(codes: NDArray[np.int32], times: NDArray[np.int64]) -> bool:
    if codes.size < 2:
        return True
    same = codes[1:] == codes[:-1]
    return bool(np.all(codes[1:] >= codes[:-1]) and np.all(times[1:][same] >= times[:-1][same]))


def parse_bin(freq: str) -> int:
    """A bin width such as '10min', '1h' or '1D' in nanoseconds; it must divide one day."""
    try:
        width_ns = int(pd.Timedelta(freq).value)
    except ValueError as exc:
        raise CoreInputError(
            f"bin width {freq!r} is not a duration: use e.g. '10min', '1h', '1D'"
        ) from exc
    if (
        width_ns < 60 * NS_PER_S
        or width_ns > S_PER_DAY * NS_PER_S
        or (S_PER_DAY * NS_PER_S) % width_ns
    ):
        raise CoreInputError(
            f"bin width {freq!r} must be between 1 minute and 1 day and divide a day evenly "
            "(1min, 5min, 10min, 15min, 30min, 1h, 3h, 6h, 1D …)"
        )
    return width_ns


@dataclass(frozen=True)
class Binned:
    """Rows grouped into (station, bin) runs on one clock, with what coverage needs."""

    rows: StationRows
    runs: Runs
    station: NDArray[np.int64]  # station code of each run
    bin_start_ns: NDArray[np.int64]  # on the chosen clock
    n_obs: NDArray[np.int64]
    expected: NDArray[np.float64]


def clock_ns(obs: pd.DataFrame, meta: pd.DataFrame, clock: Clock) -> NDArray[np.int64]:
    """Each observation's time on `clock` as int64 ns (UTC, or naive local / solar wall time)."""
    rows = station_rows(obs, meta)
    t_ns = time_ns(obs["time"])
    local = local_clock(rows.codes, rows.meta, t_ns) if clock == "local" else None
    return _on_clock(rows, t_ns, clock, local)


def _on_clock(
    rows: StationRows, t_ns: NDArray[np.int64], clock: Clock, local: LocalClock | None
) -> NDArray[np.int64]:
    if clock == "utc":
        return t_ns
    if local is not None:
        return local.local_ns(t_ns)
    if clock == "solar":
        lon = rows.meta["lon"].to_numpy(np.float64)[rows.codes]
        return local_solar_time(pd.DatetimeIndex(t_ns.astype("datetime64[ns]"), tz="UTC"), lon).asi8
    raise CoreInputError(f"clock {clock!r} is not one of utc, local, solar")


def flagged_readings(
    obs: pd.DataFrame, meta: pd.DataFrame, clock: Clock, fields: Sequence[str]
) -> pd.DataFrame:
    """The rows QC set aside in any of `fields`, for a chart to mark: the raw row (every column
    of `obs`), its time on `clock` (`clock_ns`) and `why`, the failed checks by name
    ("step", "range+consistency"; several fields joined by ", ").

    >>> obs = pd.DataFrame({"station": "fi-a",
    ...     "time": pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC"),
    ...     "temp_c": [1.0, 45.0, 1.2]})
    >>> flagged_readings(obs, pd.DataFrame(index=["fi-a"]), "utc", ["temp_c"])[["temp_c", "why"]]
       temp_c   why
    1    45.0  step
    """
    chosen = [f for f in fields if f in obs]
    if not chosen or obs.empty:
        return obs.iloc[0:0].assign(clock_ns=np.zeros(0, np.int64), why="")
    flags = qc_flags(obs, chosen)
    columns = [f"{f}_qc" for f in chosen if f"{f}_qc" in flags]
    if not columns:
        return obs.iloc[0:0].assign(clock_ns=np.zeros(0, np.int64), why="")
    hit = (flags[columns].to_numpy() != 0).any(axis=1)
    labels = [np.asarray(flag_labels(flags.loc[hit, c].to_numpy()), dtype=object) for c in columns]
    why = [", ".join(x for x in parts if x) for parts in zip(*labels, strict=True)]
    picked = obs[hit]
    return picked.assign(clock_ns=clock_ns(obs, meta, clock)[hit], why=why)


def bin_rows(obs: pd.DataFrame, meta: pd.DataFrame, width_ns: int, clock: Clock) -> Binned:
    """Group observation rows by station and bin of `width_ns` on the chosen clock."""
    rows = station_rows(obs, meta)
    t_ns = time_ns(obs["time"])
    interval = reporting_interval_s(rows, lambda need: _median_gap_s(rows.codes, t_ns, need))
    return bin_instants(rows, t_ns, width_ns, clock, interval.to_numpy())


def bin_instants(
    rows: StationRows,
    t_ns: NDArray[np.int64],
    width_ns: int,
    clock: Clock,
    interval_s: NDArray[np.float64],
    n_obs: NDArray[np.int64] | None = None,
) -> Binned:
    """Group rows at UTC instants `t_ns` by station and bin of `width_ns` on `clock`.

    `interval_s` is each station's reporting interval (by station code), `n_obs` how many
    observations each row stands for (one each when None; a 15-minute bin's count in bins.py).
    """
    local = local_clock(rows.codes, rows.meta, t_ns) if clock == "local" else None
    bins = _on_clock(rows, t_ns, clock, local) // width_ns
    first = int(bins.min()) if bins.size else 0
    span = (int(bins.max()) - first + 1) if bins.size else 1
    keys = rows.codes.astype(np.int64) * span + (bins - first)
    del bins
    runs = Runs.of(keys)
    del keys
    station = runs.keys // span
    bin_start_ns = (runs.keys % span + first) * width_ns
    width_s = np.full(station.shape, width_ns / NS_PER_S)
    if local is not None and width_ns == S_PER_DAY * NS_PER_S:
        first_row = runs.starts if runs.order is None else runs.order[runs.starts]
        local_day = bin_start_ns // (S_PER_DAY * NS_PER_S)
        width_s = local.table.day_length_s(local.zone_codes[first_row], local_day).astype(
            np.float64
        )
    return Binned(
        rows=rows,
        runs=runs,
        station=station,
        bin_start_ns=bin_start_ns,
        n_obs=run_lengths(runs, t_ns.size) if n_obs is None else runs.total(n_obs),
        expected=width_s / interval_s[station],
    )


# One field aggregated over a Binned's runs: each run's value and how many usable values went
# into it, or None where the input lacks the field.
FieldAggregate = Callable[[str, Aggregate], tuple[NDArray[np.float64], NDArray[np.int64]] | None]


def row_aggregates(runs: Runs, obs: pd.DataFrame) -> FieldAggregate:
    """Fields of observation rows (`obs`, already screened) aggregated over `runs`."""

    def aggregate(
        field: str, how: Aggregate
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]] | None:
        return runs.aggregate(obs[field].to_numpy(np.float64), how) if field in obs else None

    return aggregate


def binned_values(
    binned: Binned,
    specs: Sequence[tuple[str, str, Aggregate]],
    min_coverage: float,
    aggregate: FieldAggregate,
) -> dict[str, NDArray[np.float64]]:
    """Aggregate `(output, field, how)` specs; NaN where the field's coverage is too low."""
    out: dict[str, NDArray[np.float64]] = {}
    for name, field, how in specs:
        found = aggregate(field, how)
        if found is None:
            out[name] = np.full(binned.station.shape, np.nan)
            continue
        values, count = found
        out[name] = np.where(count >= min_coverage * binned.expected, values, np.nan)
    return out


def station_column(binned: Binned) -> pd.Categorical:
    return pd.Categorical.from_codes(binned.station, categories=binned.rows.meta.index)


def resample(
    obs: pd.DataFrame,
    meta: pd.DataFrame,
    freq: str = "1h",
    clock: Clock = "utc",
    fields: Sequence[str] | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Observations on a common grid: one row per station and bin that has observations.

    `clock` chooses what the bins line up on: `utc` (same instant everywhere), `local` (each
    station's wall clock, so 08:00 is school start everywhere) or `solar` (apparent solar time,
    so 12:00 is when the sun is highest everywhere). The bin column is `time` (UTC, tz-aware),
    `local_time` or `solar_time` (naive). Each bin has `n_obs`, `coverage` (0..1), the fields
    aggregated by `AGGREGATES` over usable values only (`ingest.domain.qc.screen`) and
    `n_flagged`, how many values QC set aside; a field is NaN where its usable values cover less
    than `min_coverage` of the bin.

    >>> obs = pd.DataFrame({"station": ["fi-a"] * 4,
    ...     "time": pd.date_range("2024-01-01 00:00", periods=4, freq="30min", tz="UTC"),
    ...     "temp_c": [1.0, 3.0, 5.0, float("nan")], "rain_mm": [0.2, 0.0, 0.4, 0.0]})
    >>> meta = pd.DataFrame({"timezone": ["Europe/Helsinki"], "interval_s": [1800]}, index=["fi-a"])
    >>> resample(obs, meta, "1h")[["time", "n_obs", "coverage", "temp_c", "rain_mm"]]
                           time  n_obs  coverage  temp_c  rain_mm
    0 2024-01-01 00:00:00+00:00      2       1.0     2.0      0.2
    1 2024-01-01 01:00:00+00:00      2       1.0     NaN      0.4
    """
    chosen = [f for f in (fields or FIELDS) if f in obs]
    screened = screen(obs, chosen)
    binned = bin_rows(obs, meta, parse_bin(freq), clock)
    specs = [(f, f, AGGREGATES[f]) for f in chosen]
    values = binned_values(binned, specs, min_coverage, row_aggregates(binned.runs, screened.obs))
    return resampled_frame(binned, clock, values, binned.runs.total(screened.n_flagged))


def resampled_frame(
    binned: Binned,
    clock: Clock,
    values: dict[str, NDArray[np.float64]],
    n_flagged: NDArray[np.int64],
) -> pd.DataFrame:
    """`resample`'s columns: station, the bin on `clock`, n_obs, coverage, `values`, n_flagged."""
    start = pd.DatetimeIndex(binned.bin_start_ns.astype("datetime64[ns]"))
    return pd.DataFrame(
        {
            "station": station_column(binned),
            CLOCK_COLUMN[clock]: start.tz_localize("UTC") if clock == "utc" else start,
            "n_obs": binned.n_obs,
            "coverage": np.minimum(binned.n_obs / binned.expected, 1.0),
            **values,
            "n_flagged": n_flagged,
        }
    )
