"""The climate day table: one row per station and LOCAL day, the only input of the climate layer.

Indices, reports and records never read observation rows; they read this table. Today it is made
from `daily.daily_summary` (which applies the core's coverage rule: a value is NaN where its day
is not covered); once daily aggregates come from the stores, they only have to arrive in these
columns (`DAY_COLUMNS`) with the same NaN-for-incomplete convention.

Columns, units in the names:

    station        station id
    date           local calendar date (naive midnight)
    tx_c, tn_c     highest and lowest temperature of the day (°C)
    tg_c           mean temperature of the day (°C)
    rr_mm          precipitation total of the day (mm)
    gust_ms        highest gust of the day (m/s)
    wind_dir_deg   the day's prevailing wind direction (vector mean, degrees from north)
    coverage       observations received over those promised (0..1)
    complete       coverage meets the core's rule (`resample.DEFAULT_MIN_COVERAGE`)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.core.frames import CoreInputError
from dashboard.core.resample import DEFAULT_MIN_COVERAGE

VALUE_COLUMNS: tuple[str, ...] = ("tx_c", "tn_c", "tg_c", "rr_mm", "gust_ms", "wind_dir_deg")
DAY_COLUMNS: tuple[str, ...] = ("station", "date", *VALUE_COLUMNS, "coverage", "complete")


def no_days() -> pd.DataFrame:
    """The climate day table of no day, with the columns' types: joined with days, it leaves
    their dates dates (an untyped empty table made them objects, which no calendar merges).

    >>> no_days().dtypes["date"]
    dtype('<M8[ns]')
    """
    columns = {"station": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]")}
    columns |= {name: pd.Series(dtype=np.float64) for name in (*VALUE_COLUMNS, "coverage")}
    return pd.DataFrame(columns | {"complete": pd.Series(dtype=bool)})


# daily_summary's column -> the climate name (ETCCDI's TX, TN, TG, RR).
_FROM_SUMMARY = {
    "temp_c_max": "tx_c",
    "temp_c_min": "tn_c",
    "temp_c_mean": "tg_c",
    "rain_mm_sum": "rr_mm",
    "wind_gust_ms_max": "gust_ms",
    "wind_dir_deg_mean": "wind_dir_deg",
}


def climate_days(summary: pd.DataFrame, min_coverage: float = DEFAULT_MIN_COVERAGE) -> pd.DataFrame:
    """The climate day table (`DAY_COLUMNS`) from `daily.daily_summary` output.

    >>> summary = pd.DataFrame({"station": ["fi-a"], "date": [pd.Timestamp("2024-06-01")],
    ...     "n_obs": [1440], "coverage": [1.0], "temp_c_min": [8.5], "temp_c_max": [19.0],
    ...     "temp_c_mean": [13.2], "rain_mm_sum": [0.4], "wind_gust_ms_max": [9.1]})
    >>> climate_days(summary)[["date", "tx_c", "tn_c", "rr_mm", "wind_dir_deg", "complete"]]
            date  tx_c  tn_c  rr_mm  wind_dir_deg  complete
    0 2024-06-01  19.0   8.5    0.4           NaN      True
    """
    missing = {"station", "date", "coverage"} - set(summary.columns)
    if missing:
        raise CoreInputError(
            f"daily table lacks {', '.join(sorted(missing))}: pass daily_summary() output"
        )
    days = pd.DataFrame(
        {
            "station": summary["station"].astype(str).to_numpy(),
            "date": pd.DatetimeIndex(summary["date"]).normalize(),
        }
    )
    for source, name in _FROM_SUMMARY.items():
        given = source in summary
        days[name] = summary[source].to_numpy(np.float64) if given else np.nan
    days["coverage"] = summary["coverage"].to_numpy(np.float64)
    days["complete"] = days["coverage"] >= min_coverage
    return days.sort_values(["station", "date"], kind="stable").reset_index(drop=True)
