"""Daily summaries per LOCAL calendar day at each station.

A school's "today" runs from its own midnight to midnight: 23 hours on the day clocks spring
forward, 25 when they fall back, and offsets such as +5:30 (India) or +9:30 (Adelaide) shift the
day against UTC by half hours. Coverage is measured against the real length of that day.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.frames import NS_PER_S, S_PER_DAY
from dashboard.core.resample import (
    DEFAULT_MIN_COVERAGE,
    Aggregate,
    Binned,
    bin_rows,
    binned_values,
    row_aggregates,
    station_column,
)
from ingest.domain.qc import screen

SUMMARY_SPECS: tuple[tuple[str, str, Aggregate], ...] = (
    ("temp_c_min", "temp_c", "min"),
    ("temp_c_max", "temp_c", "max"),
    ("temp_c_mean", "temp_c", "mean"),
    ("rain_mm_sum", "rain_mm", "sum"),
    ("wind_gust_ms_max", "wind_gust_ms", "max"),
)

# The climate day table (climate_days.py) also needs the day's prevailing wind direction.
CLIMATE_SPECS: tuple[tuple[str, str, Aggregate], ...] = (
    *SUMMARY_SPECS,
    ("wind_dir_deg_mean", "wind_dir_deg", "vector_mean"),
)

SUMMARY_COLUMNS: tuple[str, ...] = (
    "station",
    "date",
    "n_obs",
    "coverage",
    *(name for name, _, _ in SUMMARY_SPECS),
    "n_flagged",
)


def daily_summary(
    obs: pd.DataFrame,
    meta: pd.DataFrame,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    specs: Sequence[tuple[str, str, Aggregate]] = SUMMARY_SPECS,
) -> pd.DataFrame:
    """Min, max and mean temperature, rain total and highest gust per station and local day.

    Columns are `SUMMARY_COLUMNS` (with the names of `specs` after `coverage`, then `n_flagged`);
    `date` is the local calendar date (naive, midnight), `coverage` the observations received over
    those the station's interval promises for that day (0..1).
    Only usable values count (`ingest.domain.qc.screen`: flagged values are set aside, the raw
    data stay in the store); `n_flagged` says how many values of the day's summarised fields QC
    set aside. A value is NaN where its variable's usable values cover less than `min_coverage`.

    >>> meta = pd.DataFrame({"timezone": ["Asia/Kolkata"], "interval_s": [21600]},
    ...                     index=["in-kolkata-01"])
    >>> obs = pd.DataFrame({"station": "in-kolkata-01",
    ...     "time": pd.date_range("2024-06-01 18:30", periods=4, freq="6h", tz="UTC"),
    ...     "temp_c": [27.0, 24.0, 33.0, 31.0], "rain_mm": [0.0, 1.5, 0.0, 2.0]})
    >>> daily_summary(obs, meta)[["date", "n_obs", "temp_c_min", "temp_c_max", "rain_mm_sum"]]
            date  n_obs  temp_c_min  temp_c_max  rain_mm_sum
    0 2024-06-02      4        24.0        33.0          3.5
    """
    day_ns = S_PER_DAY * NS_PER_S
    screened = screen(obs, sorted({field for _, field, _ in specs}))
    binned = bin_rows(obs, meta, day_ns, "local")
    values = binned_values(binned, specs, min_coverage, row_aggregates(binned.runs, screened.obs))
    return summary_frame(binned, specs, values, binned.runs.total(screened.n_flagged))


def summary_frame(
    binned: Binned,
    specs: Sequence[tuple[str, str, Aggregate]],
    values: dict[str, NDArray[np.float64]],
    n_flagged: NDArray[np.int64],
) -> pd.DataFrame:
    """`daily_summary`'s columns from local-day bins: `SUMMARY_COLUMNS` with `specs`' names."""
    return pd.DataFrame(
        {
            "station": station_column(binned),
            "date": pd.DatetimeIndex(binned.bin_start_ns.astype("datetime64[ns]")),
            "n_obs": binned.n_obs,
            "coverage": np.minimum(binned.n_obs / binned.expected, 1.0),
            **values,
            "n_flagged": n_flagged,
        },
        columns=[*SUMMARY_COLUMNS[:4], *(name for name, _, _ in specs), "n_flagged"],
    )
