"""What `classnet summary` and `classnet export` do, as functions of DataFrames (WeeWX's
*_actions split): the CLI module only parses arguments, opens the store and calls these."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, BinaryIO, Literal

import numpy as np
import pandas as pd

from dashboard.core.calibration import correction_terms
from dashboard.core.cells import cells
from dashboard.core.daily import SUMMARY_COLUMNS, daily_summary
from dashboard.core.derived import DERIVED, derive
from dashboard.core.frames import FIELDS, CoreInputError, station_rows
from dashboard.core.localtime import local_clock_time
from ingest.domain.calibration import Correction
from ingest.domain.qc import flag_labels, qc_flags

SummaryFormat = Literal["csv", "table", "json"]
ExportFormat = Literal["csv", "parquet"]

# Fields the daily summary reads from the store.
SUMMARY_FIELDS: tuple[str, ...] = ("temp_c", "rain_mm", "wind_gust_ms")
DERIVED_COLUMNS: tuple[str, ...] = tuple(DERIVED)
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
    return summary_rows(daily_summary(obs, meta), start, end)


def summary_rows(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """`summary_table` from daily summaries made elsewhere (e.g. from a store's bins)."""
    daily = daily[_in_dates(daily["date"], start, end).to_numpy()]
    daily = daily.assign(station=daily["station"].astype(str))
    return daily.sort_values(["station", "date"], ignore_index=True)


def without_timezone(obs: pd.DataFrame, meta: pd.DataFrame) -> list[str]:
    """Stations in `obs` with no time zone in `meta` (no `meta` message yet, not in
    stations.toml): their local days are unknown. The contract does not require `meta`."""
    stations = pd.Index(obs["station"].astype(str).unique())
    zones = meta.reindex(stations)["timezone"] if "timezone" in meta else pd.Series(index=stations)
    return sorted(str(s) for s, tz in zones.items() if not isinstance(tz, str) or not tz)


def export_table(
    obs: pd.DataFrame,
    meta: pd.DataFrame,
    start: date,
    end: date,
    derived: bool = False,
    corrections: Sequence[Correction] = (),
    raw_fields: Collection[str] = (),
) -> pd.DataFrame:
    """Observations with UTC `time` and station `local_time`, for local dates `start`..`end`.

    A station without a time zone (`without_timezone`) is kept by its UTC dates, with
    `local_time` empty, so it never blocks the others. A `seq` column in `obs` is kept.
    A field with a calibration (`corrections`) holds the corrected value, beside it
    `<field>_raw` as stored (equal where no correction was in force yet); so does each of
    `raw_fields`, so that the parts of one export (`ExportWriter`) have the same columns.
    With `derived`, adds `DERIVED_COLUMNS` (from corrected values) and a `<field>_qc` column
    per checked field holding the failed checks of the stored value by name ("" when none
    failed; see `ingest.domain.qc`).
    """
    unzoned = without_timezone(obs, meta)
    meta = meta.reindex(meta.index.union(pd.Index(obs["station"].astype(str).unique())))
    zoned = ~obs["station"].astype(str).isin(unzoned).to_numpy()
    local = pd.Series(pd.NaT, index=obs.index, dtype="datetime64[ns]", name="local_time")
    if zoned.any():
        local[zoned] = local_clock_time(obs[zoned], meta)
    day = local.where(zoned, obs["time"].dt.tz_localize(None))
    keep = _in_dates(day, start, end).to_numpy()
    raw, local = obs[keep], local[keep]
    offset, slope = correction_terms(raw, corrections)
    fields = [f for f in FIELDS if f in raw]
    columns: dict[str, object] = {}
    for f in fields:
        if f in offset:
            columns[f] = offset[f] + slope[f] * raw[f].to_numpy(np.float64)
            columns[f"{f}_raw"] = raw[f]
        elif f in raw_fields:
            columns[f] = columns[f"{f}_raw"] = raw[f].astype(np.float64)
        else:
            columns[f] = raw[f]
    out = pd.DataFrame(
        {
            "station": raw["station"].astype(str),
            "time": raw["time"],
            "local_time": local,
            **({"seq": raw["seq"].astype("Int64")} if "seq" in raw else {}),
            **columns,
        }
    )
    corrected = out[["station", "time", *fields]]
    if derived:
        out = pd.concat([out, _derived(corrected, meta)], axis=1)
        flags = qc_flags(raw)
        for column in flags:
            out[column] = flag_labels(flags[column].to_numpy())
    return out.sort_values(["station", "time"], ignore_index=True)


def _derived(obs: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    rows = station_rows(obs, meta)
    elevation = rows.meta["elevation_m"].to_numpy(np.float64)[rows.codes]
    return pd.DataFrame(
        {name: derive(name, obs, elevation) for name in DERIVED_COLUMNS}, index=obs.index
    )


def render_summary(summary: pd.DataFrame, fmt: SummaryFormat) -> str:
    """The summary as CSV, an aligned text table, or a JSON array of records (null for missing).

    >>> frame = pd.DataFrame({"station": ["fi-a"], "date": pd.to_datetime(["2024-06-01"]),
    ...     "n_obs": [1440], "coverage": [1.0], "temp_c_min": [9.5], "temp_c_max": [21.25],
    ...     "temp_c_mean": [15.0], "rain_mm_sum": [float("nan")], "wind_gust_ms_max": [7.0],
    ...     "n_flagged": [2]})
    >>> print(render_summary(frame, "csv"), end="")
    station,date,n_obs,coverage,temp_c_min,temp_c_max,temp_c_mean,rain_mm_sum,wind_gust_ms_max,n_flagged
    fi-a,2024-06-01,1440,1.0,9.5,21.25,15.0,,7.0,2
    """
    frame = summary[list(SUMMARY_COLUMNS)].assign(date=summary["date"].dt.strftime("%Y-%m-%d"))
    if fmt == "csv":
        return str(cells(frame.round(4)).to_csv(index=False))
    if fmt == "json":
        return str(frame.round(4).to_json(orient="records")) + "\n"
    if fmt == "table":
        rounded = frame.round({"coverage": 2}).round(1)
        return str(rounded.to_string(index=False, na_rep="-")) + "\n"
    raise CoreInputError(f"format {fmt!r} is not one of csv, table, json")


def _iso(times: pd.Series) -> pd.Series:
    """Naive times as ISO 8601 to the second, NaT as a gap: numpy's formatter, twice as fast as
    `strftime` (an export of 500 schools' month is 21.6 M rows, each with two times)."""
    text = np.datetime_as_string(times.to_numpy("datetime64[s]"), unit="s").astype(object)
    text[times.isna().to_numpy()] = None
    return pd.Series(text, index=times.index)


class ExportWriter:
    """Export tables (`export_table`), written one after another to a binary stream as one CSV
    (UTF-8, ISO times, one header) or one Parquet file: a long export is read and written a few
    stations at a time, in bounded memory. Every part must have the first one's columns."""

    def __init__(self, fmt: ExportFormat, out: BinaryIO) -> None:
        if fmt not in ("csv", "parquet"):
            raise CoreInputError(f"format {fmt!r} is not one of csv, parquet")
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401  (the Parquet engine, an optional dependency)
            except ImportError:
                raise CoreInputError(
                    "Parquet export needs pyarrow: pip install 'classnet-weather[parquet]' "
                    "(or use --format csv)"
                ) from None
        self.fmt = fmt
        self.out = out
        self.rows = 0
        self._columns: list[str] | None = None
        self._parquet: Any = None  # pyarrow.parquet.ParquetWriter, from the first part's schema

    def write(self, part: pd.DataFrame) -> None:
        if self._columns is None:
            self._columns = list(part.columns)
        elif list(part.columns) != self._columns:
            raise ValueError(f"export part has columns {list(part.columns)}, not {self._columns}")
        if self.fmt == "csv":
            # Spreadsheets read ISO 8601; the Z marks UTC, the local time is the school's clock.
            text = cells(
                part.assign(
                    time=_iso(part["time"].dt.tz_convert(None)) + "Z",
                    local_time=_iso(part["local_time"]),
                )
            ).to_csv(index=False, header=self.rows == 0)
            self.out.write(text.encode())
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pandas(part, preserve_index=False)
                self._parquet = pq.ParquetWriter(self.out, table.schema)
            else:
                table = pa.Table.from_pandas(
                    part, schema=self._parquet.schema, preserve_index=False
                )
            self._parquet.write_table(table)
        self.rows += len(part)

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        """Finish the file (Parquet's footer). A Parquet export of no part is not written."""
        if self._parquet is not None:
            self._parquet.close()
