"""Per-station 15-minute bins of the observations, kept where the data live (issue #17).

Why 15 minutes: every UTC offset in use (+5:30, +5:45, +8:45, DST shifts of an hour or half an
hour) is a multiple of 15 minutes, so each 15-minute UTC bin lies inside one local hour and one
local day of every school. Hours and days on any school's wall clock are therefore unions of
whole bins, and a month of 500 schools is 1.4 M bins instead of 21.6 M readings.

Each bin holds, per field, what every aggregate the comparison core uses needs: the count of
usable values, their sum, min and max, and for wind direction the sums of the unit vector
(east = sin, north = cos) for the vector mean. `n_obs` counts readings (rows); `first_ms` and
`last_ms` bound them, so a reader can estimate the reporting interval without raw rows.

QC at roll-up: a value outside `ROLLUP_RANGES` (the range test of dashboard/core/qc.py's
QC_TABLE; tests/ingest/test_rollup.py keeps the two equal) is left out of its bin. The step,
persistence and consistency tests need neighbours and are not applied here.

The frame `read_bins()` returns: `station` (str), `time` (bin start, datetime64[ns, UTC]),
`n_obs` (int64), `first_ms`/`last_ms` (float64 Unix ms; NaN where the store does not keep them),
then per requested field `n_<f>` (int64), `sum_<f>`, `min_<f>`, `max_<f>` (float64, NaN where
n is 0), and for wind direction `east_<f>`, `north_<f>`. Sorted by station then time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from firmware import wire

BIN_MS: Final = 15 * 60 * 1000
VECTOR_FIELDS: Final = ("wind_dir_deg",)

# The plausible-value range per field (dashboard/core/qc.py QC_TABLE, low..high). Storage sits
# below the dashboard and cannot import it; a test keeps the two tables equal.
ROLLUP_RANGES: Final[dict[str, tuple[float, float]]] = {
    "temp_c": (-80.0, 60.0),
    "rh_pct": (0.0, 100.0),
    "pressure_hpa": (500.0, 1100.0),
    "wind_speed_ms": (0.0, 75.0),
    "wind_gust_ms": (0.0, 150.0),
    "wind_dir_deg": (0.0, 360.0),
    "rain_mm": (0.0, 40.0),
    "light_lux": (0.0, 200_000.0),
    "uv_index": (0.0, 20.0),
    "battery_v": (0.0, 30.0),
    "rssi_dbm": (-120.0, 0.0),
    "co2_ppm": (0.0, 10_000.0),
    "pm2_5_ugm3": (0.0, 2000.0),
    "pm10_ugm3": (0.0, 2000.0),
}
STATS: Final = ("n", "sum", "min", "max")


def combine_of(column: str) -> str:
    """How a statistic of 15-minute bins combines into a coarser bin: min, max or sum."""
    stat = column.split("_", 1)[0]
    return stat if stat in ("min", "max") else "sum"


def check_width(width_ms: int, shift_ms: int) -> None:
    """Coarser bins are unions of whole 15-minute bins: a width that is a multiple of 15 minutes,
    shifted from the Unix epoch by a multiple of 15 minutes less than the width (a school at
    +5:45 has its local hours start at :15 UTC: width 1 h, shift 15 min)."""
    if width_ms <= 0 or width_ms % BIN_MS or shift_ms % BIN_MS or not 0 <= shift_ms < width_ms:
        raise ValueError(
            f"bins of {width_ms} ms shifted by {shift_ms} ms are not made of whole 15-minute "
            "bins: use multiples of 900000 ms, the shift less than the width"
        )


def bin_start_ms(ts_ms: np.ndarray) -> np.ndarray:
    """The start of each timestamp's bin (floor to 15 minutes, also before 1970)."""
    return np.asarray(ts_ms, dtype="int64") // BIN_MS * BIN_MS


def columns_of(field: str) -> list[str]:
    names = [f"{stat}_{field}" for stat in STATS]
    if field in VECTOR_FIELDS:
        names += [f"east_{field}", f"north_{field}"]
    return names


ALL_COLUMNS: Final = tuple(c for f in wire.FIELD_NAMES for c in columns_of(f))


def usable(values: np.ndarray, field: str) -> np.ndarray:
    """The values the roll-up keeps: NaN outside the field's range."""
    low, high = ROLLUP_RANGES[field]
    values = np.asarray(values, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where((values >= low) & (values <= high), values, np.nan)


def bins_from_obs(obs: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """The `read_bins()` frame computed in memory from a `read()` frame: what the stores keep,
    for tests and for callers holding raw rows already."""
    t_ms = pd.DatetimeIndex(obs["time"]).as_unit("ms").asi8
    frame = pd.DataFrame(
        {"station": obs["station"].astype(str).to_numpy(), "bin_ms": bin_start_ms(t_ms)}
    )
    frame["t_ms"] = t_ms.astype("float64")
    aggs: dict[str, tuple[str, str]] = {
        "n_obs": ("t_ms", "size"),
        "first_ms": ("t_ms", "min"),
        "last_ms": ("t_ms", "max"),
    }
    for field in fields:
        value = usable(obs[field].to_numpy(), field)
        frame[field] = value
        aggs.update(
            {
                f"n_{field}": (field, "count"),
                f"sum_{field}": (field, "sum"),
                f"min_{field}": (field, "min"),
                f"max_{field}": (field, "max"),
            }
        )
        if field in VECTOR_FIELDS:
            frame[f"east_{field}"] = np.sin(np.radians(value))
            frame[f"north_{field}"] = np.cos(np.radians(value))
            aggs[f"east_{field}"] = (f"east_{field}", "sum")
            aggs[f"north_{field}"] = (f"north_{field}", "sum")
    out = frame.groupby(["station", "bin_ms"], sort=True).agg(**aggs).reset_index()
    for field in fields:
        # pandas sums an empty group to 0; the stores give NULL (no value), as here.
        empty = out[f"n_{field}"] == 0
        for name in columns_of(field):
            if not name.startswith(("n_", "min_", "max_")):
                out.loc[empty, name] = np.nan
    return bins_frame(out, fields)


def bins_frame(frame: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Normalise a store's bin rows (`station`, `bin_ms`, counts, stats of `fields`) to the
    documented shape; a statistic the store gave nothing for is NaN (a count 0)."""
    frame = frame.reindex(
        columns=[*dict.fromkeys([*frame.columns, *(c for f in fields for c in columns_of(f))])]
    )
    out = pd.DataFrame(
        {
            "station": frame["station"].astype(str).to_numpy(),
            "time": pd.to_datetime(
                frame["bin_ms"].to_numpy(dtype="int64"), unit="ms", utc=True
            ).as_unit("ns"),
            "n_obs": frame["n_obs"].to_numpy(dtype="int64"),
            "first_ms": frame["first_ms"].to_numpy(dtype="float64", na_value=np.nan)
            if "first_ms" in frame
            else np.nan,
            "last_ms": frame["last_ms"].to_numpy(dtype="float64", na_value=np.nan)
            if "last_ms" in frame
            else np.nan,
        }
    )
    for name in frame.columns:
        if name.startswith("n_") and name != "n_obs":
            out[name] = frame[name].fillna(0).to_numpy(dtype="int64")
        elif name.split("_", 1)[0] in ("sum", "min", "max", "east", "north"):
            out[name] = frame[name].to_numpy(dtype="float64", na_value=np.nan)
    return out.sort_values(["station", "time"], kind="stable", ignore_index=True)
