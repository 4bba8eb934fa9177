"""Monthly and yearly climate summaries of one school, in the style of NOAA's monthly
climatological summary (the "F-6"/CF6 form WeeWX's NOAA reports follow): a line per day (or per
month), then the period's line, extremes with their dates and counted days.

From the climate day table only (`climate_days`). A day is marked incomplete when the core's
coverage rule left it out; a month (year) is marked incomplete by ETCCDI's rule, as the indices
use it: more than 3 (15) missing days (`periods.MAX_MISSING_DAYS`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from dashboard.core.cells import cells
from dashboard.core.frames import CoreInputError
from dashboard.core.periods import MAX_MISSING_DAYS, Freq

# 8 compass points: a school's vane reads no finer than that, and NOAA's form prints sectors.
COMPASS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

# Columns of a report's lines (a day's, a month's or the period's), units in the names.
LINE_COLUMNS: tuple[str, ...] = (
    "label",  # day of month, or month number
    "tx_c",  # a day's highest; a period's mean of daily highs
    "tn_c",
    "tg_c",
    "rr_mm",  # a day's or period's total
    "gust_ms",  # highest gust
    "dir",  # prevailing (day) or most frequent (period) compass point, "" when unknown
    "missing_days",
    "complete",
)


@dataclass(frozen=True)
class Extreme:
    """A period's extreme value and the local date it fell on."""

    value: float
    day: date | None


@dataclass(frozen=True)
class Report:
    """One school's monthly ("month") or yearly ("year") summary."""

    station: str
    freq: Freq
    year: int
    month: int | None
    lines: pd.DataFrame  # LINE_COLUMNS: a line per day (month) or per month (year)
    total: dict[str, Any]  # the period's line (LINE_COLUMNS)
    extremes: dict[str, Extreme]  # "tx_max", "tn_min", "rr_max", "gust_max"
    counts: dict[str, int]  # days with TX > 25, TX < 0, TN < 0, TN > 20, RR >= 1, RR >= 10


def compass_point(deg: float) -> str:
    """The 8-point compass sector of a direction in degrees ("" when unknown).

    >>> [compass_point(d) for d in (0, 22.4, 22.6, 350, float("nan"))]
    ['N', 'N', 'NE', 'N', '']
    """
    if np.isnan(deg):
        return ""
    return COMPASS[int(((deg % 360) + 22.5) // 45) % 8]


def _most_frequent(points: pd.Series) -> str:
    known = points[points != ""]
    if known.empty:
        return ""
    counts = known.value_counts(sort=False)
    # Ties go to the first compass point clockwise from north, so the result never depends on
    # the order of days.
    return str(max(COMPASS, key=lambda p: (counts.get(p, 0), -COMPASS.index(p))))


def _line(days: pd.DataFrame, label: int | str, n_days: int, freq: Freq) -> dict[str, Any]:
    missing = int(n_days - days["complete"].sum())
    points = days["wind_dir_deg"].map(compass_point)
    return {
        "label": label,
        "tx_c": float(days["tx_c"].mean()),
        "tn_c": float(days["tn_c"].mean()),
        "tg_c": float(days["tg_c"].mean()),
        "rr_mm": float(days["rr_mm"].sum(min_count=1)),
        "gust_ms": float(days["gust_ms"].max()),
        "dir": _most_frequent(points),
        "missing_days": missing,
        "complete": missing <= MAX_MISSING_DAYS[freq],
    }


def _extreme(days: pd.DataFrame, column: str, highest: bool) -> Extreme:
    values = days[column]
    if values.isna().all():
        return Extreme(float("nan"), None)
    at = values.idxmax() if highest else values.idxmin()
    return Extreme(float(values[at]), days.at[at, "date"].date())


def _one_station(days: pd.DataFrame, station: str, first: date, last: date) -> pd.DataFrame:
    mine = days[
        (days["station"].astype(str) == station)
        & (days["date"] >= pd.Timestamp(first))
        & (days["date"] <= pd.Timestamp(last))
    ]
    calendar_days = pd.DataFrame({"date": pd.date_range(first, last, freq="D")})
    out = calendar_days.merge(mine.drop(columns="station"), on="date", how="left")
    out["complete"] = out["complete"].astype("boolean").fillna(False).astype(bool)
    return out


def _summarise(station: str, freq: Freq, year: int, month: int | None, days: pd.DataFrame,
               lines: pd.DataFrame) -> Report:  # fmt: skip
    counts = {
        "su": int((days["tx_c"] > 25).sum()),
        "id": int((days["tx_c"] < 0).sum()),
        "fd": int((days["tn_c"] < 0).sum()),
        "tr": int((days["tn_c"] > 20).sum()),
        "r1mm": int((days["rr_mm"] >= 1).sum()),
        "r10mm": int((days["rr_mm"] >= 10).sum()),
    }
    return Report(
        station=station,
        freq=freq,
        year=year,
        month=month,
        lines=lines,
        total=_line(days, "", len(days), freq),
        extremes={
            "tx_max": _extreme(days, "tx_c", True),
            "tn_min": _extreme(days, "tn_c", False),
            "rr_max": _extreme(days, "rr_mm", True),
            "gust_max": _extreme(days, "gust_ms", True),
        },
        counts=counts,
    )


def monthly_report(days: pd.DataFrame, station: str, year: int, month: int) -> Report:
    """A month of `station`: a line per day, the month's line, extremes and counted days.

    Day lines keep the day's own values (blank where the day was not covered); the month's line
    averages the daily highs, lows and means, adds the rain and keeps the highest gust.

    >>> days = pd.DataFrame({"station": "fi-a", "date": pd.date_range("2024-02-01", periods=3),
    ...     "tx_c": [2.0, 4.0, 0.5], "tn_c": [-3.0, -1.0, -6.5], "tg_c": [0.0, 1.0, -2.0],
    ...     "rr_mm": [0.0, 3.5, 1.0], "gust_ms": [8.0, 11.0, 6.5],
    ...     "wind_dir_deg": [200.0, 225.0, 230.0], "complete": True})
    >>> r = monthly_report(days, "fi-a", 2024, 2)
    >>> r.total["tx_c"], r.total["rr_mm"], r.total["missing_days"], r.total["complete"]
    (2.1666666666666665, 4.5, 26, False)
    >>> r.extremes["tn_min"], r.counts["fd"], r.total["dir"]
    (Extreme(value=-6.5, day=datetime.date(2024, 2, 3)), 3, 'SW')
    """
    if not 1 <= month <= 12:
        raise CoreInputError(f"month {month} is not 1..12")
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    mine = _one_station(days, station, first, last)
    lines = pd.DataFrame(
        {
            "label": mine["date"].dt.day,
            "tx_c": mine["tx_c"],
            "tn_c": mine["tn_c"],
            "tg_c": mine["tg_c"],
            "rr_mm": mine["rr_mm"],
            "gust_ms": mine["gust_ms"],
            "dir": mine["wind_dir_deg"].map(compass_point),
            "missing_days": (~mine["complete"]).astype(int),
            "complete": mine["complete"],
        },
        columns=list(LINE_COLUMNS),
    )
    return _summarise(station, "month", year, month, mine, lines)


def yearly_report(days: pd.DataFrame, station: str, year: int) -> Report:
    """A year of `station`: a line per month (as `monthly_report`'s month line), the year's
    line, extremes with their dates and counted days."""
    mine = _one_station(days, station, date(year, 1, 1), date(year, 12, 31))
    month_of = mine["date"].dt.month
    lines = pd.DataFrame(
        [
            _line(mine[month_of == m], m, calendar.monthrange(year, m)[1], "month")
            for m in range(1, 13)
        ],
        columns=list(LINE_COLUMNS),
    )
    return _summarise(station, "year", year, None, mine, lines)


def report_csv(report: Report) -> str:
    """The report's lines and its period line (label "month" or "year") as CSV.

    Machine-readable: column names are `LINE_COLUMNS`, values in °C, mm and m/s, blank when
    missing; text cells a spreadsheet would run as a formula are made inert (`cells.cells`).
    """
    total = pd.DataFrame([{**report.total, "label": report.freq}], columns=list(LINE_COLUMNS))
    frame = pd.concat([report.lines, total], ignore_index=True)
    frame.insert(0, "station", report.station)
    return str(cells(frame.round(2)).to_csv(index=False))
