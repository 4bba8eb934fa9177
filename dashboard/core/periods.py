"""Climate day tables on a complete calendar, cut into months or years per station.

ETCCDI's missing-data rule needs to know which days are absent, not only which are present, so
each station's days are laid on every calendar day of the years it reported in (absent days are
rows of NaN). Rows are sorted by station and date, so each (station, period) is one contiguous
run and numpy's `reduceat` aggregates all of them in one pass.

Missing-data rule (ETCCDI, as implemented by climdex.pcic `get.na.mask`, the ETCCDI's reference
code): a monthly value is not computed when more than 3 days of the month are missing; an annual
value when more than 15 days of the year are missing, or when any of its months is not computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.climate_days import VALUE_COLUMNS
from dashboard.core.frames import CoreInputError

Freq = Literal["month", "year"]
FREQS: tuple[Freq, ...] = ("month", "year")

# ETCCDI (climdex.pcic `max.missing.days`): the most missing days a period may have.
MAX_MISSING_DAYS: dict[Freq, int] = {"month": 3, "year": 15}

_DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class Periods:
    """The day table on a complete calendar, grouped into (station, period) runs."""

    freq: Freq
    values: dict[str, NDArray[np.float64]]  # VALUE_COLUMNS on the complete calendar
    day: NDArray[np.int64]  # days since 1970-01-01 of each row
    station_code: NDArray[np.int64]  # index into `stations` of each row
    stations: pd.Index
    starts: NDArray[np.intp]  # first row of each period
    index: pd.MultiIndex  # (station, period start) of each period
    month_key: NDArray[np.int64]  # year * 12 + month - 1 of each row

    @property
    def n_periods(self) -> int:
        return int(self.starts.size)

    @property
    def is_start(self) -> NDArray[np.bool_]:
        """True on the first row of each period (runs and spells restart there)."""
        mark = np.zeros(self.day.size, bool)
        mark[self.starts] = True
        return mark

    def sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.add.reduceat(values, self.starts)

    def count(self, condition: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.add.reduceat(condition.astype(np.int64), self.starts).astype(np.float64)

    def max(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Highest value of each period, ignoring NaN (NaN when all are NaN)."""
        return np.fmax.reduceat(values, self.starts)

    def min(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.fmin.reduceat(values, self.starts)

    def mean(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        finite = ~np.isnan(values)
        total = self.sum(np.where(finite, values, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / self.count(finite)

    def position(self) -> NDArray[np.int64]:
        """Each row's 0-based position within its period (the day of month or year - 1)."""
        first = np.repeat(self.starts, np.diff(np.append(self.starts, self.day.size)))
        return np.arange(self.day.size, dtype=np.int64) - first

    def computable(self, *columns: str) -> NDArray[np.bool_]:
        """Periods that pass ETCCDI's missing-data rule for these columns (any missing = day
        missing)."""
        missing = np.zeros(self.day.size, bool)
        for column in columns:
            missing |= np.isnan(self.values[column])
        ok = self.count(missing) <= MAX_MISSING_DAYS[self.freq]
        if self.freq == "year":
            ok &= self._months_computable(missing)
        return ok

    def _months_computable(self, missing: NDArray[np.bool_]) -> NDArray[np.bool_]:
        month_start = np.flatnonzero(
            np.r_[True, (self.month_key[1:] != self.month_key[:-1])]
            | np.r_[True, self.station_code[1:] != self.station_code[:-1]]
        )
        month_ok = (
            np.add.reduceat(missing.astype(np.int64), month_start) <= MAX_MISSING_DAYS["month"]
        )
        # Every year holds whole months, so a year's months are the months starting inside it.
        year_of_month = np.searchsorted(self.starts, month_start, side="right") - 1
        bad = np.bincount(year_of_month[~month_ok], minlength=self.n_periods)
        return bad == 0


def periods(days: pd.DataFrame, freq: Freq) -> Periods:
    """Lay a climate day table (`climate_days.DAY_COLUMNS`) on whole calendar years per station
    and group it by `freq` ("month" or "year").

    >>> days = pd.DataFrame({"station": "fi-a", "date": pd.to_datetime(["2023-12-31"]),
    ...                      "tx_c": [1.5], "tn_c": [-2.0]})
    >>> p = periods(days, "month")
    >>> p.n_periods, p.day.size, p.index[-1]
    (12, 365, ('fi-a', Timestamp('2023-12-01 00:00:00')))
    """
    if freq not in FREQS:
        raise CoreInputError(f"period {freq!r} is not one of {', '.join(FREQS)}")
    for needed in ("station", "date"):
        if needed not in days:
            raise CoreInputError(f"climate day table lacks {needed!r}: use climate_days()")
    station_codes, stations = pd.factorize(days["station"].astype(str), sort=True)
    day = pd.DatetimeIndex(days["date"]).as_unit("ns").asi8 // _DAY_NS
    if np.unique(station_codes.astype(np.int64) << 32 | (day - day.min(initial=0))).size < len(
        days
    ):
        raise CoreInputError("climate day table has a station and date twice: one row per day")
    first_year, last_year = _year_span(station_codes, day, len(stations))
    grid_station, grid_day = _calendar(first_year, last_year)
    # Place each given day on its row of the grid.
    offsets = np.concatenate([[0], np.cumsum(_days_between(first_year, last_year))[:-1]])
    first_day = _jan1(first_year)
    row = offsets[station_codes] + (day - first_day[station_codes])
    values = {}
    for column in VALUE_COLUMNS:
        filled = np.full(grid_day.size, np.nan)
        if column in days:
            filled[row] = days[column].to_numpy(np.float64)
        values[column] = filled
    dates = grid_day.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month_key = dates.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    period_key = month_key if freq == "month" else years
    new = np.r_[True, (period_key[1:] != period_key[:-1]) | (grid_station[1:] != grid_station[:-1])]
    starts = np.flatnonzero(new).astype(np.intp)
    period_start = dates[starts].astype("datetime64[M]" if freq == "month" else "datetime64[Y]")
    index = pd.MultiIndex.from_arrays(
        [stations[grid_station[starts]], pd.DatetimeIndex(period_start.astype("datetime64[ns]"))],
        names=["station", "period"],
    )
    return Periods(
        freq=freq,
        values=values,
        day=grid_day,
        station_code=grid_station,
        stations=pd.Index(stations),
        starts=starts,
        index=index,
        month_key=month_key,
    )


def _year_span(
    codes: NDArray[np.intp], day: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    year = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, codes, year)
    np.maximum.at(last, codes, year)
    return first, last


def _jan1(year: NDArray[np.int64]) -> NDArray[np.int64]:
    return (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _days_between(first_year: NDArray[np.int64], last_year: NDArray[np.int64]) -> NDArray[np.int64]:
    return _jan1(last_year + 1) - _jan1(first_year)


def _calendar(
    first_year: NDArray[np.int64], last_year: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every day of each station's years: (station code, day number) per row."""
    lengths = _days_between(first_year, last_year)
    station = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    return station, np.repeat(_jan1(first_year), lengths) + within
