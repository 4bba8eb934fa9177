"""Resampling and daily summaries from a store's 15-minute bins instead of its raw rows.

A bin holds, per field, the count, sum, min and max of the usable values (present and passed
every QC check, `ingest.domain.qc.usable`), so any coarser bin that is a union of 15-minute bins
has exactly the aggregate the raw rows would give: the mean is the summed sum over the summed
count, and so on (`Runs.combine`). Every UTC offset in use is a whole number of quarter hours,
and so is every instant a zone changes offset, so a UTC or local hour, a local day (23 or 25
hours at DST changes, +5:45 in Nepal) is such a union; results equal `resample` and
`daily_summary` on the raw rows up to float summation order (about 1e-12 relative).
What differs from the raw rows:

- the reporting interval (for coverage, where `meta.interval_s` is not given) is the median gap
  between readings where each gap inside a bin counts as that bin's mean gap: exact for a station
  reporting at a steady interval, an estimate for an irregular one;
- on the solar clock a bin goes whole to the solar bin holding its middle (up to 7.5 minutes of
  readings land one solar bin early or late);
- `n_flagged` counts the values QC set aside in the fields the bins were read for
  (`read_bins(fields=...)`), where the raw functions count those of `fields` or `specs`: read the
  bins for the same fields and the counts are equal.

The bins frame (one row per station and 15-minute bin, sorted by station then time): `station`,
`time` (bin start, UTC), `n_obs` (raw rows), `first_ms` and `last_ms` (Unix ms of the first and
last row), `n_flagged` (values QC set aside in the bins' fields), and per field `n_<f>`, `sum_<f>`,
`min_<f>`, `max_<f>` (NaN where `n_<f>` is 0), for wind direction also `east_<f>` and
`north_<f>` (the sums of the sine and cosine of the direction).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.daily import SUMMARY_SPECS, summary_frame
from dashboard.core.frames import FIELDS, NS_PER_S, S_PER_DAY, CoreInputError, station_rows, time_ns
from dashboard.core.resample import (
    AGGREGATES,
    DEFAULT_MIN_COVERAGE,
    Aggregate,
    Binned,
    Clock,
    FieldAggregate,
    bin_instants,
    binned_values,
    parse_bin,
    reporting_interval_s,
    resampled_frame,
)

BIN_NS = 15 * 60 * NS_PER_S


def resample_bins(
    bins: pd.DataFrame,
    meta: pd.DataFrame,
    freq: str = "1h",
    clock: Clock = "utc",
    fields: Sequence[str] | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """`resample` computed from 15-minute bins: the same columns and dtypes, the same values
    (see the module docstring for what differs). `freq` must be a whole number of quarter hours.

    >>> bins = pd.DataFrame({"station": "np-a",
    ...     "time": pd.date_range("2024-01-01", periods=5, freq="15min", tz="UTC"),
    ...     "n_obs": 15, "first_ms": np.nan, "last_ms": np.nan, "n_flagged": [0, 1, 0, 0, 0],
    ...     "n_temp_c": [15, 14, 15, 15, 15], "sum_temp_c": [15.0, 42.0, 45.0, 45.0, 45.0],
    ...     "min_temp_c": [1.0, 3.0, 3.0, 3.0, 3.0], "max_temp_c": [1.0, 3.0, 3.0, 3.0, 3.0]})
    >>> meta = pd.DataFrame({"timezone": ["Asia/Kathmandu"], "interval_s": [60]}, index=["np-a"])
    >>> resample_bins(bins, meta, "1h", "local")
      station          local_time  n_obs  coverage  temp_c  n_flagged
    0    np-a 2024-01-01 05:00:00     15      0.25     NaN          0
    1    np-a 2024-01-01 06:00:00     60      1.00     3.0          1
    """
    present = _fields_in(bins)
    chosen = [f for f in (fields or FIELDS) if f in present]
    binned = _binned(bins, meta, parse_bin(freq), clock)
    values = binned_values(
        binned, [(f, f, AGGREGATES[f]) for f in chosen], min_coverage, _aggregates(binned, bins)
    )
    return resampled_frame(binned, clock, values, _n_flagged(binned, bins))


def daily_summary_bins(
    bins: pd.DataFrame,
    meta: pd.DataFrame,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    specs: Sequence[tuple[str, str, Aggregate]] = SUMMARY_SPECS,
) -> pd.DataFrame:
    """`daily_summary` per station and local day, computed from 15-minute bins."""
    binned = _binned(bins, meta, S_PER_DAY * NS_PER_S, "local")
    values = binned_values(binned, specs, min_coverage, _aggregates(binned, bins))
    return summary_frame(binned, specs, values, _n_flagged(binned, bins))


def _fields_in(bins: pd.DataFrame) -> list[str]:
    counts = [c for c in bins.columns if c.startswith("n_") and c not in ("n_obs", "n_flagged")]
    return [c.removeprefix("n_") for c in counts]


def _binned(bins: pd.DataFrame, meta: pd.DataFrame, width_ns: int, clock: Clock) -> Binned:
    if width_ns % BIN_NS:
        raise CoreInputError(
            f"bins of {pd.Timedelta(width_ns, 'ns')} cannot be made of 15-minute bins: "
            "use a multiple of 15 minutes, or resample the raw rows"
        )
    rows = station_rows(bins, meta)
    interval = reporting_interval_s(rows, lambda need: _median_gap_s(bins, rows.codes, need))
    # Each bin stands at its middle: on the UTC and local clocks that lies in the same target bin
    # as all of the bin (offsets are whole quarter hours); on the solar clock it picks the one
    # solar bin the whole bin goes to.
    middle_ns = time_ns(bins["time"]) + BIN_NS // 2
    n_obs = bins["n_obs"].to_numpy(np.int64)
    return bin_instants(rows, middle_ns, width_ns, clock, interval.to_numpy(), n_obs)


def _aggregates(binned: Binned, bins: pd.DataFrame) -> FieldAggregate:
    present = set(_fields_in(bins))

    def aggregate(
        field: str, how: Aggregate
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]] | None:
        if field not in present:
            return None
        if how in ("min", "max"):
            parts = [bins[f"{how}_{field}"].to_numpy(np.float64)]
        elif how == "vector_mean":
            parts = [_summed(bins, f"east_{field}"), _summed(bins, f"north_{field}")]
        else:
            parts = [_summed(bins, f"sum_{field}")]
        return binned.runs.combine(how, bins[f"n_{field}"].to_numpy(np.int64), parts)

    return aggregate


def _summed(bins: pd.DataFrame, column: str) -> NDArray[np.float64]:
    # A bin without usable values has no sum (NaN); it adds nothing.
    return np.nan_to_num(bins[column].to_numpy(np.float64))


def _n_flagged(binned: Binned, bins: pd.DataFrame) -> NDArray[np.int64]:
    return binned.runs.total(bins["n_flagged"].to_numpy(np.int64))


def _median_gap_s(
    bins: pd.DataFrame, codes: NDArray[np.int32], need: NDArray[np.intp]
) -> pd.Series:
    """The median gap between readings of each station in `need` (by code), from its bins.

    Gaps between bins are exact (a bin's first reading minus the last of the bin before); the
    n - 1 gaps inside a bin of n readings count as (last - first) / (n - 1) each.
    """
    wanted = np.isin(codes, need)
    station = codes[wanted].astype(np.int64)
    n = bins["n_obs"].to_numpy(np.int64)[wanted]
    first = bins["first_ms"].to_numpy(np.float64)[wanted] / 1000
    last = bins["last_ms"].to_numpy(np.float64)[wanted] / 1000
    # Bins come by station then time: sort only if they do not.
    if not (
        (station[1:] > station[:-1]) | ((station[1:] == station[:-1]) & (first[1:] >= first[:-1]))
    ).all():
        order = np.lexsort((first, station))
        station, n, first, last = station[order], n[order], first[order], last[order]
    between = station[1:] == station[:-1]
    inside = n >= 2
    station = np.concatenate([station[1:][between], station[inside]])
    gap = np.concatenate(
        [first[1:][between] - last[:-1][between], (last - first)[inside] / (n[inside] - 1)]
    )
    weight = np.concatenate([np.ones(int(between.sum()), np.int64), n[inside] - 1])
    # Zero gaps (repeated times) do not count, as in `nominal_interval_s`.
    counted = gap > 0
    station, gap, weight = station[counted], gap[counted], weight[counted]
    order = np.lexsort((gap, station))
    station, gap, weight = station[order], gap[order], weight[order]
    if not station.size:
        return pd.Series(dtype=np.float64)
    # The median of W weighted values: the mean of the values at ranks (W - 1) // 2 and W // 2,
    # found in the running total of the weights (one for all stations, in station order).
    upto = np.cumsum(weight)
    heads = np.flatnonzero(np.r_[True, station[1:] != station[:-1]])
    before = upto[heads] - weight[heads]
    total = np.r_[upto[heads[1:] - 1], upto[-1]] - before
    low = np.searchsorted(upto, before + (total - 1) // 2, side="right")
    high = np.searchsorted(upto, before + total // 2, side="right")
    return pd.Series((gap[low] + gap[high]) / 2, index=station[heads])
