"""Quality control per value, as flags: nothing is deleted, every suspect value is named and why.

Each checked field gets a `<field>_qc` column of bit flags (0 = passed every check):

| bit | name        | test                                                                   |
|-----|-------------|------------------------------------------------------------------------|
| 1   | range       | outside the plausible range                                            |
| 2   | step        | changed more than the step limit since the previous observation        |
| 4   | persistence | varied less than the persistence minimum over the surrounding hour     |
| 8   | consistency | contradicts another field (dew point above temperature, gust below wind) |

The limits live in `QC_TABLE`, each row citing where in its source it comes from;
docs/comparison.md reproduces the table.

`usable` is the one rule for what may enter an aggregate, a ranking or a comparison: a value that
is present and passed every check. `screen` applies it to a frame of observations; the daily
summary, the resampler and "now" all read through it, and a rollup can call `usable` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ingest.domain.humidity import dewpoint_c
from ingest.domain.sorting import sort_order

RANGE, STEP, PERSISTENCE, CONSISTENCY = 1, 2, 4, 8
FLAG_NAMES: dict[int, str] = {
    RANGE: "range",
    STEP: "step",
    PERSISTENCE: "persistence",
    CONSISTENCY: "consistency",
}

# The time-consistency checks (step, persistence) of the source are written for one-minute values
# (its "Level II"); they are applied to neighbours at most 10 minutes apart. A station reporting
# less often (every 15 min, hourly) gets the range and consistency checks only: a 3 °C change
# between hourly readings is weather, not a fault.
TIME_CHECKS_MAX_INTERVAL_S = 600
STEP_MAX_GAP_S = TIME_CHECKS_MAX_INTERVAL_S
# Persistence looks at the hour around each value (source: "over the past 60 minutes"); a window
# counts only if it spans 90 % of that hour with a reading at least every 10 minutes on average.
PERSISTENCE_WINDOW_S = 3600
_PERSISTENCE_MIN_SPAN = 0.9
_PERSISTENCE_MIN_VALUES = PERSISTENCE_WINDOW_S // TIME_CHECKS_MAX_INTERVAL_S
# Source exemptions from the persistence test: humidity is only tested below 95 % (fog and rain
# hold it at saturation for hours); wind only while its 10-minute mean exceeds 0.1 m/s (a calm
# night is not a stuck anemometer).
RH_PERSISTENCE_BELOW_PCT = 95.0
WIND_PERSISTENCE_ABOVE_MS = 0.1
WIND_MEAN_WINDOW_S = 600
# Fields whose upper limit is a rate per minute: it scales with the minutes a report covers, so
# an hourly station's 46 mm (a real downpour) is not an error while a one-minute 60 mm is.
PER_MINUTE = frozenset({"rain_mm"})

_SOURCE = "Zahumenský (2004), WMO Guidelines on QC procedures for data from AWS"
# Where in the source each limit stands. The paper has no numbered tables: its limits are lists
# under the Level II (one-minute data) checks of its section "Quality control of processed data".
_PLAUSIBLE = "plausible value check (gross error limits)"
_STEP = "time consistency (a): maximum allowed variability, 'suspect' column"
_PERSIST = "time consistency (b): minimum required variability over 60 min"
_WIRE = "wire contract sensor range (no WMO limit for this element)"


@dataclass(frozen=True)
class Check:
    """Limits for one field. `step`: largest plausible change between neighbouring observations;
    `persistence`: smallest change a working sensor shows within an hour (None: not tested).
    `source` names the document, `cites` where in it each limit stands."""

    low: float
    high: float
    step: float | None
    persistence: float | None
    source: str
    cites: str


def _wmo(step: bool, persistence: bool, extra: str = "") -> str:
    parts = [_PLAUSIBLE] + ([_STEP] if step else []) + ([_PERSIST] if persistence else [])
    return "; ".join(parts) + extra


QC_TABLE: dict[str, Check] = {
    "temp_c": Check(-80.0, 60.0, 3.0, 0.1, _SOURCE, _wmo(True, True)),
    "rh_pct": Check(0.0, 100.0, 10.0, 1.0, _SOURCE, _wmo(True, True, " (only while RH < 95 %)")),
    "pressure_hpa": Check(500.0, 1100.0, 0.5, 0.1, _SOURCE, _wmo(True, True)),
    # The source's 10 m/s is for the 2-minute mean wind; ours is a mean over the report interval.
    "wind_speed_ms": Check(
        0.0, 75.0, 10.0, 0.5, _SOURCE, _wmo(True, True, " (only while 10-min mean > 0.1 m/s)")
    ),
    "wind_gust_ms": Check(0.0, 150.0, None, None, _SOURCE, _wmo(False, False)),
    "wind_dir_deg": Check(
        0.0, 360.0, None, 10.0, _SOURCE, _wmo(False, True, " (only while 10-min mean > 0.1 m/s)")
    ),
    # The source's 40 mm is a one-minute intensity: a report covering n minutes may hold 40·n mm
    # (`PER_MINUTE`). The highest rain ever recorded in a minute is about 31 mm.
    "rain_mm": Check(0.0, 40.0, None, None, _SOURCE, _wmo(False, False, " (mm/min)")),
    "light_lux": Check(0.0, 200_000.0, None, None, _WIRE, "wire-contract.md, field table"),
    "uv_index": Check(0.0, 20.0, None, None, _WIRE, "wire-contract.md, field table"),
    "battery_v": Check(0.0, 30.0, None, None, _WIRE, "wire-contract.md, field table"),
    "rssi_dbm": Check(-120.0, 0.0, None, None, _WIRE, "wire-contract.md, field table"),
    "co2_ppm": Check(0.0, 10_000.0, None, None, _WIRE, "wire-contract.md, field table"),
    "pm2_5_ugm3": Check(0.0, 2000.0, None, None, _WIRE, "wire-contract.md, field table"),
    "pm10_ugm3": Check(0.0, 2000.0, None, None, _WIRE, "wire-contract.md, field table"),
}


def usable(values: ArrayLike, flags: ArrayLike) -> NDArray[np.bool_]:
    """The one rule for what enters an aggregate: a value that is present and passed every check.

    Pure and element-wise (numpy arrays of equal shape), so a rollup can apply it to a batch:
    `values` float, `flags` the `<field>_qc` bit codes of `qc_flags` (0 = passed).

    >>> usable([20.1, 45.0, float("nan"), 19.8], [0, STEP, 0, 0]).tolist()
    [True, False, False, True]
    """
    return np.isfinite(np.asarray(values, np.float64)) & (np.asarray(flags) == 0)


@dataclass(frozen=True)
class Screened:
    """Observations with every flagged value replaced by NaN (`obs`, a copy: raw data untouched),
    and per row how many present values were set aside (`n_flagged`)."""

    obs: pd.DataFrame
    n_flagged: NDArray[np.int64]


def screen(obs: pd.DataFrame, fields: Sequence[str] | None = None) -> Screened:
    """`obs` as aggregates must see it: flagged values of `fields` (default: every checked field
    present) become NaN. All present fields take part in the checks (consistency needs pairs).

    >>> obs = pd.DataFrame({"station": "fi-a",
    ...     "time": pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC"),
    ...     "temp_c": [1.0, 45.0, 1.2], "rain_mm": [0.0, 60.0, 0.0]})
    >>> s = screen(obs)
    >>> s.obs["temp_c"].tolist(), s.obs["rain_mm"].tolist(), s.n_flagged.tolist()
    ([1.0, nan, 1.2], [0.0, nan, 0.0], [0, 2, 0])
    """
    chosen = [f for f in (fields if fields is not None else QC_TABLE) if f in QC_TABLE and f in obs]
    n_flagged = np.zeros(len(obs), np.int64)
    if not chosen or obs.empty:
        return Screened(obs, n_flagged)
    flags = qc_flags(obs, chosen)
    replaced = {}
    for field in chosen:
        values = obs[field].to_numpy(np.float64)
        keep = usable(values, flags[f"{field}_qc"].to_numpy())
        n_flagged += np.isfinite(values) & ~keep
        replaced[field] = np.where(keep, values, np.nan)
    return Screened(obs.assign(**replaced), n_flagged)


def qc_flags(obs: pd.DataFrame, fields: Sequence[str] | None = None) -> pd.DataFrame:
    """QC bit flags for every checked field present in `obs` (or only `fields` and the fields
    their consistency checks pair them with), as `<field>_qc` uint8 columns.

    Missing values get 0: there is nothing to suspect. Rows may come in any order.

    >>> obs = pd.DataFrame({"station": "fi-a",
    ...     "time": pd.date_range("2024-01-01", periods=4, freq="1min", tz="UTC"),
    ...     "temp_c": [1.0, 9.0, 1.2, 99.0],
    ...     "wind_speed_ms": [3.0, 3.0, 4.0, 5.0], "wind_gust_ms": [5.0, 2.0, 6.0, 7.0]})
    >>> qc_flags(obs)
       temp_c_qc  wind_speed_ms_qc  wind_gust_ms_qc
    0          0                 0                0
    1          2                 8                8
    2          0                 0                0
    3          3                 0                0
    """
    raw_codes, _ = pd.factorize(obs["station"])
    codes = raw_codes.astype(np.int64)
    t_s = pd.DatetimeIndex(obs["time"]).as_unit("ns").asi8 // 1_000_000_000
    # One int64 axis: stations far apart (more than a window between them), time within each.
    span = int(t_s.max() - t_s.min()) + 2 * PERSISTENCE_WINDOW_S if t_s.size else 1
    axis = codes * span + (t_s - (t_s.min() if t_s.size else 0))
    # The store returns rows by station and time: then no sort is needed.
    order = sort_order(axis)
    if order is not None:
        codes, t_s, axis = codes[order], t_s[order], axis[order]
    same_station = np.concatenate([[False], codes[1:] == codes[:-1]])
    gap_s = np.concatenate([[np.iinfo(np.int64).max], np.diff(t_s)])
    neighbours = same_station & (gap_s <= STEP_MAX_GAP_S)

    wanted = set(QC_TABLE) if fields is None else with_partners(fields)
    fields = [f for f in QC_TABLE if f in obs and f in wanted]
    sorted_values = {
        f: obs[f].to_numpy(np.float64) if order is None else obs[f].to_numpy(np.float64)[order]
        for f in fields
    }
    flags = {f: np.zeros(len(obs), np.uint8) for f in fields}
    for field in fields:
        check, values = QC_TABLE[field], sorted_values[field]
        with np.errstate(invalid="ignore"):
            high = (
                check.high * _report_minutes(codes, gap_s, same_station)
                if (field in PER_MINUTE)
                else check.high
            )
            flags[field] |= np.where((values < check.low) | (values > high), RANGE, 0).astype(
                np.uint8
            )
        if check.step is not None:
            flags[field] |= np.where(_steps(values, neighbours, check.step), STEP, 0).astype(
                np.uint8
            )
        if check.persistence is not None:
            stuck = _persistent(values, axis, check.persistence) & _persistence_applies(
                field, sorted_values, axis
            )
            flags[field] |= np.where(stuck, PERSISTENCE, 0).astype(np.uint8)
    _flag_consistency(sorted_values, flags)

    out = pd.DataFrame(index=obs.index)
    for field in fields:
        restored = flags[field]
        if order is not None:
            restored = np.empty_like(flags[field])
            restored[order] = flags[field]
        out[f"{field}_qc"] = restored
    return out


# Fields whose checks need each other: the consistency pairs, and wind direction's persistence
# exemption, which reads the wind speed.
_PARTNERS = (
    ("temp_c", "rh_pct"),
    ("wind_speed_ms", "wind_gust_ms"),
    ("wind_dir_deg", "wind_speed_ms"),
)


def with_partners(fields: Sequence[str]) -> set[str]:
    """`fields` and, transitively, every field their checks read (so each flag is complete)."""
    chosen = set(fields)
    while True:
        grown = (
            chosen
            | {b for a, b in _PARTNERS if a in chosen}
            | {a for a, b in _PARTNERS if b in chosen}
        )
        if grown == chosen:
            return chosen
        chosen = grown


def _report_minutes(
    codes: NDArray[np.int64], gap_s: NDArray[np.int64], same_station: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Minutes each report covers (since the station's previous one; its first report: the
    station's median gap), at least one: a per-minute limit applies per minute of the report."""
    gap = np.where(same_station, gap_s, -1).astype(np.float64)
    gap[gap < 0] = np.nan
    median = pd.Series(gap).groupby(codes).transform("median").to_numpy()
    covered = np.where(np.isnan(gap), median, gap)
    return np.fmax(np.nan_to_num(covered, nan=60.0) / 60.0, 1.0)


def _persistence_applies(
    field: str, values: dict[str, NDArray[np.float64]], axis: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Where the source's exemptions leave the persistence test in force for `field`."""
    n = axis.size
    with np.errstate(invalid="ignore"):
        if field == "rh_pct":
            return values["rh_pct"] < RH_PERSISTENCE_BELOW_PCT
        if field in ("wind_speed_ms", "wind_dir_deg"):
            if "wind_speed_ms" not in values:
                return np.zeros(n, np.bool_)  # calm or not cannot be told: no test
            mean = _trailing_mean(values["wind_speed_ms"], axis, WIND_MEAN_WINDOW_S)
            return mean > WIND_PERSISTENCE_ABOVE_MS
    return np.ones(n, np.bool_)


def _trailing_mean(
    values: NDArray[np.float64], axis: NDArray[np.int64], window_s: int
) -> NDArray[np.float64]:
    """Mean of the finite values in (t − window, t] of each row's station, by cumulative sums."""
    start = np.searchsorted(axis, axis - window_s, side="right")
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    index = np.arange(values.size) + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums[index] - sums[start]) / (counts[index] - counts[start])


def _steps(
    values: NDArray[np.float64], neighbours: NDArray[np.bool_], limit: float
) -> NDArray[np.bool_]:
    """Jumps larger than `limit` from the previous value, except the return from a one-value
    spike: in 1, 9, 1 only the 9 is suspect."""
    change = np.concatenate([[np.nan], np.diff(values)])
    with np.errstate(invalid="ignore"):
        jump = neighbours & (np.abs(change) > limit)
        previous_jump = np.concatenate([[False], jump[:-1]])
        previous_change = np.concatenate([[np.nan], change[:-1]])
        two_back = np.concatenate([[np.nan, np.nan], values[:-2]])[: values.size]  # n < 2 too
        neighbours_back = neighbours & np.concatenate([[False], neighbours[:-1]])
        returned = (
            previous_jump
            & (change * previous_change < 0)
            & neighbours_back
            & (np.abs(values - two_back) <= limit)
        )
    return jump & ~returned


def _persistent(
    values: NDArray[np.float64], axis: NDArray[np.int64], minimum: float
) -> NDArray[np.bool_]:
    """Values inside any hour-long window whose readings vary by less than `minimum`.

    A window's spread is at least the largest change between neighbours inside it, so only the
    windows that hold no such change (rare in a working sensor's data) are looked at: their
    spread comes from one `reduceat` over all of them at once.
    """
    window = PERSISTENCE_WINDOW_S
    n = values.size
    finite = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        jump = np.concatenate([[False], np.abs(np.diff(values)) >= minimum])
    last_jump = np.maximum.accumulate(np.where(jump, np.arange(n), -1)) if n else np.zeros(0, int)
    # Quiet: the reading before the last jump lies outside the window ending here.
    quiet = (last_jump < 0) | (axis[np.maximum(last_jump - 1, 0)] < axis - window)
    rows = np.flatnonzero(quiet)
    start = np.searchsorted(axis, axis[rows] - window, side="left")
    counted = np.concatenate([[0], np.cumsum(finite)])
    enough = (counted[rows + 1] - counted[start] >= _PERSISTENCE_MIN_VALUES) & (
        axis[rows] - axis[start] >= _PERSISTENCE_MIN_SPAN * window
    )
    rows, start = rows[enough], start[enough]
    if rows.size:
        # Pairs (start, end) of each window; the odd segments between them are not used.
        bounds = np.empty(2 * rows.size, np.intp)
        bounds[0::2], bounds[1::2] = start, rows + 1
        padded = np.append(values, np.nan)
        with np.errstate(invalid="ignore"):
            spread = np.fmax.reduceat(padded, bounds)[0::2] - np.fmin.reduceat(padded, bounds)[0::2]
        stuck = spread < minimum
        rows, start = rows[stuck], start[stuck]
    # A window that is stuck condemns every value in it, not only its last.
    edges = np.bincount(start, minlength=n + 1) - np.bincount(rows + 1, minlength=n + 1)
    return finite & (np.cumsum(edges)[:n] > 0)


def _flag_consistency(
    values: dict[str, NDArray[np.float64]], flags: dict[str, NDArray[np.uint8]]
) -> None:
    """Dew point above air temperature; gust below the mean wind (Zahumenský 2004, §internal
    consistency). Both culprits of a pair get the flag: the data cannot say which one is wrong."""
    pairs: list[tuple[str, str, NDArray[np.bool_]]] = []
    with np.errstate(invalid="ignore"):
        if "temp_c" in values and "rh_pct" in values:
            dew = dewpoint_c(values["temp_c"], values["rh_pct"])
            pairs.append(("temp_c", "rh_pct", dew > values["temp_c"] + 1e-9))
        if "wind_speed_ms" in values and "wind_gust_ms" in values:
            pairs.append(
                ("wind_speed_ms", "wind_gust_ms", values["wind_gust_ms"] < values["wind_speed_ms"])
            )
    for first, second, bad in pairs:
        flags[first] |= np.where(bad, CONSISTENCY, 0).astype(np.uint8)
        flags[second] |= np.where(bad, CONSISTENCY, 0).astype(np.uint8)


def flag_labels(codes: pd.Series | NDArray[np.uint8]) -> pd.Categorical:
    """Readable labels for QC flag codes, for spreadsheets: 0 → "", 3 → "range+step".

    >>> list(flag_labels(np.array([0, 3, 12], dtype=np.uint8)))
    ['', 'range+step', 'persistence+consistency']
    """
    names = ["+".join(name for bit, name in FLAG_NAMES.items() if code & bit) for code in range(16)]
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), categories=names)
