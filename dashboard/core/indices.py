"""ETCCDI core climate indices from the climate day table, per station and month or year.

Definitions: the Expert Team on Climate Change Detection and Indices (ETCCDI), "Climate Change
Indices: Definitions of the 27 core indices", https://etccdi.pacificclimate.org/list_27_indices.shtml
(Karl et al. 1999; Peterson et al. 2001, WMO-TD No. 1071; Zhang et al. 2011, WIREs Clim. Change
2:851-870). The 17 indices here are those daily station data allow without a base-period
climatology (percentile indices need 30 years).

Each function takes `periods.Periods` (a station's days on a complete calendar, cut into months
or years) and returns one value per (station, period), NaN where ETCCDI's missing-data rule says
the period is not computed (`periods.MAX_MISSING_DAYS`). Days whose value is missing (the core's
coverage rule left it NaN) never meet a threshold and end a spell, as in xclim, the reference
open-source implementation these are tested against (tests/core/test_indices.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.periods import Freq, Periods, periods


def _result(p: Periods, values: NDArray[np.float64], *columns: str) -> pd.Series:
    return pd.Series(np.where(p.computable(*columns), values, np.nan), index=p.index)


def frost_days(p: Periods, thresh_c: float = 0.0) -> pd.Series:
    """Frost days (ETCCDI FD): days with a minimum temperature below `thresh_c` (TN < 0 °C).

    Units: days. Missing data: ETCCDI's rule on TN (`periods`).
    """
    tn = p.values["tn_c"]
    return _result(p, p.count(tn < thresh_c), "tn_c")


def ice_days(p: Periods, thresh_c: float = 0.0) -> pd.Series:
    """Icing days (ETCCDI ID): days with a maximum temperature below `thresh_c` (TX < 0 °C).

    Units: days. Missing data: ETCCDI's rule on TX.
    """
    tx = p.values["tx_c"]
    return _result(p, p.count(tx < thresh_c), "tx_c")


def summer_days(p: Periods, thresh_c: float = 25.0) -> pd.Series:
    """Summer days (ETCCDI SU): days with a maximum temperature above `thresh_c` (TX > 25 °C).

    Units: days. Missing data: ETCCDI's rule on TX.
    """
    tx = p.values["tx_c"]
    return _result(p, p.count(tx > thresh_c), "tx_c")


def tropical_nights(p: Periods, thresh_c: float = 20.0) -> pd.Series:
    """Tropical nights (ETCCDI TR): days with a minimum temperature above `thresh_c`
    (TN > 20 °C).

    Units: days. Missing data: ETCCDI's rule on TN.
    """
    tn = p.values["tn_c"]
    return _result(p, p.count(tn > thresh_c), "tn_c")


def growing_season_length(
    p: Periods, thresh_c: float = 5.0, window: int = 6, mid_month: int = 7
) -> pd.Series:
    """Growing season length (ETCCDI GSL), yearly only: days from the first span of at least
    `window` days with TG > `thresh_c` to the first span, starting on or after 1 July
    (`mid_month`), of at least `window` days with TG < `thresh_c` (or a missing TG).

    The first span must start before 1 July; without one the length is 0, without an end the
    season runs to 31 December. Northern-hemisphere definition (every ClassNet school is north
    of the equator or in the tropics, where the season is the whole year).
    Units: days. Missing data: ETCCDI's rule on TG.
    """
    if p.freq != "year":
        raise ValueError("GSL is an annual index: compute it with freq='year'")
    tg = p.values["tg_c"]
    warm = tg > thresh_c
    cold = (tg < thresh_c) | np.isnan(tg)
    pos = p.position()
    mid = _mid_year_position(p, mid_month)
    size = np.diff(np.append(p.starts, pos.size))
    begin = _first(p, _span_starts(p, warm, window) & (pos < mid[_row_period(p)]))
    after = _span_starts(p, cold, window) & (pos >= mid[_row_period(p)])
    after &= pos >= begin[_row_period(p)]
    end = _first(p, after)
    length = np.where(np.isnan(begin), 0.0, np.where(np.isnan(end), size - begin, end - begin))
    return _result(p, length, "tg_c")


def txx(p: Periods) -> pd.Series:
    """Highest maximum temperature (ETCCDI TXx). Units: °C. Missing data: rule on TX."""
    return _result(p, p.max(p.values["tx_c"]), "tx_c")


def tnn(p: Periods) -> pd.Series:
    """Lowest minimum temperature (ETCCDI TNn). Units: °C. Missing data: rule on TN."""
    return _result(p, p.min(p.values["tn_c"]), "tn_c")


def txn(p: Periods) -> pd.Series:
    """Lowest maximum temperature (ETCCDI TXn). Units: °C. Missing data: rule on TX."""
    return _result(p, p.min(p.values["tx_c"]), "tx_c")


def tnx(p: Periods) -> pd.Series:
    """Highest minimum temperature (ETCCDI TNx). Units: °C. Missing data: rule on TN."""
    return _result(p, p.max(p.values["tn_c"]), "tn_c")


def diurnal_temperature_range(p: Periods) -> pd.Series:
    """Mean diurnal temperature range (ETCCDI DTR): the mean of TX - TN over the days having
    both. Units: °C (a difference, so also K). Missing data: rule on TX and TN together."""
    return _result(p, p.mean(p.values["tx_c"] - p.values["tn_c"]), "tx_c", "tn_c")


def rx1day(p: Periods) -> pd.Series:
    """Highest one-day precipitation (ETCCDI Rx1day). Units: mm. Missing data: rule on RR."""
    return _result(p, p.max(p.values["rr_mm"]), "rr_mm")


def rx5day(p: Periods, window: int = 5) -> pd.Series:
    """Highest precipitation over `window` consecutive days (ETCCDI Rx5day). Each span counts
    in the period of its last day (it may begin in the previous one); a span with a missing day
    has no total. Units: mm. Missing data: rule on RR."""
    rr = p.values["rr_mm"]
    total = np.full(rr.size, np.nan)
    if rr.size >= window:
        csum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(rr))])
        gaps = np.concatenate([[0], np.cumsum(np.isnan(rr))])
        span = csum[window:] - csum[:-window]
        whole = (gaps[window:] - gaps[:-window] == 0) & (
            p.station_code[window - 1 :] == p.station_code[: 1 - window or None]
        )
        total[window - 1 :] = np.where(whole, span, np.nan)
    return _result(p, p.max(total), "rr_mm")


def consecutive_dry_days(p: Periods, thresh_mm: float = 1.0) -> pd.Series:
    """Longest dry spell (ETCCDI CDD): most consecutive days with RR < `thresh_mm` within the
    period. Units: days. Missing data: rule on RR."""
    return _result(p, _longest_spell(p, p.values["rr_mm"] < thresh_mm), "rr_mm")


def consecutive_wet_days(p: Periods, thresh_mm: float = 1.0) -> pd.Series:
    """Longest wet spell (ETCCDI CWD): most consecutive days with RR ≥ `thresh_mm` within the
    period. Units: days. Missing data: rule on RR."""
    return _result(p, _longest_spell(p, p.values["rr_mm"] >= thresh_mm), "rr_mm")


def simple_daily_intensity(p: Periods, thresh_mm: float = 1.0) -> pd.Series:
    """Simple precipitation intensity index (ETCCDI SDII): precipitation on wet days
    (RR ≥ `thresh_mm`) over the number of wet days; NaN without a wet day.
    Units: mm/day. Missing data: rule on RR."""
    rr = p.values["rr_mm"]
    wet = rr >= thresh_mm
    with np.errstate(invalid="ignore", divide="ignore"):
        intensity = p.sum(np.where(wet, rr, 0.0)) / p.count(wet)
    return _result(p, intensity, "rr_mm")


def heavy_precipitation_days(p: Periods, thresh_mm: float = 10.0) -> pd.Series:
    """Days with RR ≥ `thresh_mm`: ETCCDI R10mm (10 mm) and R20mm (20 mm).
    Units: days. Missing data: rule on RR."""
    return _result(p, p.count(p.values["rr_mm"] >= thresh_mm), "rr_mm")


def wet_day_precipitation(p: Periods, thresh_mm: float = 1.0) -> pd.Series:
    """Total precipitation on wet days (ETCCDI PRCPTOT): the sum of RR over days with
    RR ≥ `thresh_mm`. Units: mm. Missing data: rule on RR."""
    rr = p.values["rr_mm"]
    return _result(p, p.sum(np.where(rr >= thresh_mm, rr, 0.0)), "rr_mm")


@dataclass(frozen=True)
class Index:
    """One ETCCDI index: its short name, unit and function."""

    name: str
    unit: str
    compute: Callable[[Periods], pd.Series]
    annual_only: bool = False


INDICES: tuple[Index, ...] = (
    Index("FD", "days", frost_days),
    Index("ID", "days", ice_days),
    Index("SU", "days", summer_days),
    Index("TR", "days", tropical_nights),
    Index("GSL", "days", growing_season_length, annual_only=True),
    Index("TXx", "°C", txx),
    Index("TNn", "°C", tnn),
    Index("TXn", "°C", txn),
    Index("TNx", "°C", tnx),
    Index("DTR", "°C", diurnal_temperature_range),
    Index("Rx1day", "mm", rx1day),
    Index("Rx5day", "mm", rx5day),
    Index("CDD", "days", consecutive_dry_days),
    Index("CWD", "days", consecutive_wet_days),
    Index("SDII", "mm/day", simple_daily_intensity),
    Index("R10mm", "days", heavy_precipitation_days),
    Index("R20mm", "days", lambda p: heavy_precipitation_days(p, 20.0)),
    Index("PRCPTOT", "mm", wet_day_precipitation),
)
INDEX_BY_NAME: dict[str, Index] = {index.name: index for index in INDICES}


def climate_indices(days: pd.DataFrame, freq: Freq = "year") -> pd.DataFrame:
    """Every index in `INDICES` per station and period ("month" or "year"; GSL yearly only),
    from a climate day table (`climate_days.DAY_COLUMNS`).

    >>> days = pd.DataFrame({"station": "fi-a",
    ...     "date": pd.date_range("2024-01-01", "2024-12-31"), "tx_c": 3.0, "tn_c": -1.0,
    ...     "tg_c": 1.0, "rr_mm": 2.0})
    >>> climate_indices(days).loc[("fi-a", "2024-01-01"), ["FD", "ID", "DTR", "CWD", "PRCPTOT"]]
    FD         366.0
    ID           0.0
    DTR          4.0
    CWD        366.0
    PRCPTOT    732.0
    Name: (fi-a, 2024-01-01 00:00:00), dtype: float64
    """
    grouped = periods(days, freq)
    return pd.DataFrame(
        {
            index.name: index.compute(grouped)
            for index in INDICES
            if freq == "year" or not index.annual_only
        },
        index=grouped.index,
    )


def _row_period(p: Periods) -> NDArray[np.intp]:
    return np.repeat(np.arange(p.n_periods), np.diff(np.append(p.starts, p.day.size)))


def _span_starts(p: Periods, condition: NDArray[np.bool_], window: int) -> NDArray[np.bool_]:
    """Rows that begin `window` days meeting `condition`, all within the same period."""
    out = np.zeros(condition.size, bool)
    if condition.size < window:
        return out
    csum = np.concatenate([[0], np.cumsum(condition)])
    full = csum[window:] - csum[:-window] == window
    period = _row_period(p)
    same_period = period[window - 1 :] == period[: 1 - window or None]
    out[: condition.size - window + 1] = full & same_period
    return out


def _first(p: Periods, mark: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Position within its period of each period's first marked row; NaN where none is."""
    pos = np.where(mark, p.position(), np.iinfo(np.int64).max)
    first = np.minimum.reduceat(pos, p.starts).astype(np.float64)
    return np.where(first == np.iinfo(np.int64).max, np.nan, first)


def _mid_year_position(p: Periods, month: int) -> NDArray[np.int64]:
    """Position of the 1st of `month` in each (yearly) period."""
    year_start = p.day[p.starts]
    mid = p.index.get_level_values("period").to_numpy().astype("datetime64[M]") + np.timedelta64(
        month - 1, "M"
    )
    return mid.astype("datetime64[D]").astype(np.int64) - year_start


def _longest_spell(p: Periods, condition: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Longest run of `condition` within each period (runs restart at a period's first day)."""
    csum = np.cumsum(condition)
    # The count before each run began: csum where the condition fails, carried forward.
    base = np.where(~condition, csum, np.where(p.is_start, csum - condition, 0))
    run: NDArray[np.int64] = csum - np.maximum.accumulate(base)
    return np.maximum.reduceat(run, p.starts).astype(np.float64)
