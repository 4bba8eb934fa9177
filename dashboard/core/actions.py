"""What `classnet summary` and `classnet export` do, as functions of DataFrames (WeeWX's
*_actions split): the CLI module only parses arguments, opens the store and calls these."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import BinaryIO, Literal

import numpy as np
import pandas as pd

from dashboard.core.bins import daily_summary_bins
from dashboard.core.daily import SUMMARY_COLUMNS, daily_summary
from dashboard.core.derived import (
    apparent_temp_c,
    dewpoint_c,
    heat_index_c,
    sea_level_pressure_hpa,
    wind_chill_c,
)
from dashboard.core.frames import FIELDS, CoreInputError, station_rows
from dashboard.core.localtime import local_clock_time
from dashboard.core.qc import flag_labels, qc_flags

SummaryFormat = Literal["csv", "table", "json"]
ExportFormat = Literal["csv", "parquet"]

# Fields the daily summary reads from the store.
SUMMARY_FIELDS: tuple[str, ...] = ("temp_c", "rain_mm", "wind_gust_ms")
DERIVED_COLUMNS: tuple[str, ...] = (
    "dewpoint_c",
    "sea_level_pressure_hpa",
    "heat_index_c",
    "wind_chill_c",
    "apparent_temp_c",
)
# UTC offsets in use run from -12:00 to +14:00 (Pacific/Kiritimati).
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)


def utc_window(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC span holding every station's local days from `start` to `end` inclusive.

    >>> [t.isoformat() for t in utc_window(date(2024, 6, 1), date(2024, 6, 2))]
    ['2024-05-31T10:00:00+00:00', '2024-06-03T12:00:00+00:00']
    """
    if end < start:
        raise CoreInputError(f"--end {end} is before --start {start}: swap them")
    first = datetime.combine(start, time(), UTC) - _EARLIEST_OFFSET
    last = datetime.combine(end + timedelta(days=1), time(), UTC) + _LATEST_OFFSET
    return first, last


def _in_dates(local: pd.Series, start: date, end: date) -> pd.Series:
    day = local.dt.normalize()
    return (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))


def summary_table(obs: pd.DataFrame, meta: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Daily summaries (`SUMMARY_COLUMNS`) for local dates `start`..`end`, by station and date."""
    return _dates(daily_summary(obs, meta), start, end)


def summary_of_bins(bins: pd.DataFrame, meta: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """`summary_table` from the store's 15-minute bins (dashboard/core/bins.py)."""
    return _dates(daily_summary_bins(bins, meta), start, end)


def _dates(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    daily = daily[_in_dates(daily["date"], start, end).to_numpy()]
    daily = daily.assign(station=daily["station"].astype(str))
    return daily.sort_values(["station", "date"], ignore_index=True)


def export_table(
    obs: pd.DataFrame, meta: pd.DataFrame, start: date, end: date, derived: bool = False
) -> pd.DataFrame:
    """Observations with UTC `time` and station `local_time`, for local dates `start`..`end`.

    With `derived`, adds `DERIVED_COLUMNS` and a `<field>_qc` column per checked field holding
    the failed checks by name ("" when none failed; see `dashboard.core.qc`).
    """
    local = local_clock_time(obs, meta)
    keep = _in_dates(local, start, end).to_numpy()
    obs, local = obs[keep], local[keep]
    fields = [f for f in FIELDS if f in obs]
    out = pd.DataFrame(
        {
            "station": obs["station"].astype(str),
            "time": obs["time"],
            "local_time": local,
            **{f: obs[f] for f in fields},
        }
    )
    if derived:
        out = pd.concat([out, _derived(obs, meta)], axis=1)
        flags = qc_flags(obs)
        for column in flags:
            out[column] = flag_labels(flags[column].to_numpy())
    return out.sort_values(["station", "time"], ignore_index=True)


def _derived(obs: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    def field(name: str) -> np.ndarray:
        return obs[name].to_numpy(np.float64) if name in obs else np.full(len(obs), np.nan)

    rows = station_rows(obs, meta)
    elevation = rows.meta["elevation_m"].to_numpy(np.float64)[rows.codes]
    temp, rh, wind = field("temp_c"), field("rh_pct"), field("wind_speed_ms")
    return pd.DataFrame(
        {
            "dewpoint_c": dewpoint_c(temp, rh),
            "sea_level_pressure_hpa": sea_level_pressure_hpa(
                field("pressure_hpa"), temp, elevation
            ),
            "heat_index_c": heat_index_c(temp, rh),
            "wind_chill_c": wind_chill_c(temp, wind),
            "apparent_temp_c": apparent_temp_c(temp, rh, wind),
        },
        index=obs.index,
    )


def render_summary(summary: pd.DataFrame, fmt: SummaryFormat) -> str:
    """The summary as CSV, an aligned text table, or a JSON array of records (null for missing).

    >>> frame = pd.DataFrame({"station": ["fi-a"], "date": pd.to_datetime(["2024-06-01"]),
    ...     "n_obs": [1440], "coverage": [1.0], "temp_c_min": [9.5], "temp_c_max": [21.25],
    ...     "temp_c_mean": [15.0], "rain_mm_sum": [float("nan")], "wind_gust_ms_max": [7.0]})
    >>> print(render_summary(frame, "csv"), end="")
    station,date,n_obs,coverage,temp_c_min,temp_c_max,temp_c_mean,rain_mm_sum,wind_gust_ms_max
    fi-a,2024-06-01,1440,1.0,9.5,21.25,15.0,,7.0
    """
    frame = summary[list(SUMMARY_COLUMNS)].assign(date=summary["date"].dt.strftime("%Y-%m-%d"))
    if fmt == "csv":
        return str(frame.round(4).to_csv(index=False))
    if fmt == "json":
        return str(frame.round(4).to_json(orient="records")) + "\n"
    if fmt == "table":
        rounded = frame.round({"coverage": 2}).round(1)
        return str(rounded.to_string(index=False, na_rep="-")) + "\n"
    raise CoreInputError(f"format {fmt!r} is not one of csv, table, json")


def render_summary_parts(parts: Iterable[pd.DataFrame], fmt: SummaryFormat) -> Iterator[str]:
    """`render_summary` of consecutive parts of one summary, as text to write as it comes: one
    CSV header, one JSON array, one table heading (columns padded to fixed widths, so parts line
    up without seeing the whole table)."""
    first = True
    if fmt == "json":
        yield "["
    for part in parts:
        if part.empty:
            continue
        text = render_summary(part, fmt)
        if fmt == "csv" and not first:
            text = text.split("\n", 1)[1]
        elif fmt == "json":
            text = ("" if first else ",") + text.strip()[1:-1]
        elif fmt == "table":
            text = _table_lines(part, header=first)
        first = False
        yield text
    if fmt == "json":
        yield "]\n"


# Station ids are at most 49 characters (wire contract); numbers fit in 10.
_TABLE_WIDTHS = {c: max(len(c), 49 if c == "station" else 10) for c in SUMMARY_COLUMNS}


def _table_lines(part: pd.DataFrame, header: bool) -> str:
    """Rows of the text table at fixed column widths (one decimal, coverage two, '-' missing)."""
    frame = part[list(SUMMARY_COLUMNS)].assign(date=part["date"].dt.strftime("%Y-%m-%d"))
    rounded = frame.round({"coverage": 2}).round(1)
    columns = [
        rounded[c].astype(object).where(rounded[c].notna(), "-").astype(str).str.rjust(w)
        for c, w in _TABLE_WIDTHS.items()
    ]
    lines = [" ".join(cells) for cells in zip(*columns, strict=True)]
    if header:
        lines.insert(0, " ".join(c.rjust(w) for c, w in _TABLE_WIDTHS.items()))
    return "\n".join(lines) + "\n"


def write_export(export: pd.DataFrame, fmt: ExportFormat, out: BinaryIO) -> None:
    """Write the export table as CSV (UTF-8, ISO times) or Parquet to a binary stream."""
    write_export_parts([export], fmt, out)


def write_export_parts(parts: Iterable[pd.DataFrame], fmt: ExportFormat, out: BinaryIO) -> int:
    """Write consecutive parts of one export table as they come (one CSV header; one Parquet
    file of a row group per part), so a year of a network never sits in memory at once.
    Returns the number of rows written."""
    if fmt == "csv":
        rows = 0
        for i, part in enumerate(parts):
            # Spreadsheets read ISO 8601; Z marks UTC, the local time is the school's clock.
            text = part.assign(
                time=part["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                local_time=part["local_time"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
            ).to_csv(index=False, header=i == 0)
            out.write(text.encode())
            rows += len(part)
        return rows
    if fmt == "parquet":
        return _write_parquet(parts, out)
    raise CoreInputError(f"format {fmt!r} is not one of csv, parquet")


def _write_parquet(parts: Iterable[pd.DataFrame], out: BinaryIO) -> int:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise CoreInputError(
            "Parquet export needs pyarrow: pip install 'classnet-weather[parquet]' "
            "(or use --format csv)"
        ) from None
    writer = None
    rows = 0
    try:
        for part in parts:
            table = pyarrow.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pyarrow.parquet.ParquetWriter(out, table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += len(part)
    finally:
        if writer is not None:
            writer.close()
    return rows
