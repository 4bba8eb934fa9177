"""The summary and export actions behind `classnet summary` / `classnet export`."""

from __future__ import annotations

import io
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.core.actions import (
    DERIVED_COLUMNS,
    ExportWriter,
    export_table,
    render_summary,
    summary_table,
    utc_window,
    without_timezone,
)
from dashboard.core.frames import CoreInputError

from .conftest import make_meta, series

META = make_meta(
    fi_a={"timezone": "Europe/Helsinki", "elevation_m": 140.0},
    au_b={"timezone": "Australia/Adelaide", "region": "asia", "elevation_m": 50.0},
)


def obs() -> pd.DataFrame:
    fields = {"temp_c": 20.0, "rh_pct": 50.0, "pressure_hpa": 990.0, "wind_speed_ms": 3.0,
              "wind_gust_ms": 5.0, "rain_mm": 0.0}  # fmt: skip
    return pd.concat(
        [series("fi-a", "2024-06-01 12:00", 3 * 1440, **fields),
         series("au-b", "2024-06-01 12:00", 3 * 1440, **fields)],
        ignore_index=True,
    )  # fmt: skip


def test_window_covers_every_time_zone() -> None:
    start, end = utc_window(date(2024, 6, 2), date(2024, 6, 2))
    assert start <= pd.Timestamp("2024-06-01 10:00", tz="UTC")  # 00:00 at +14:00
    assert end >= pd.Timestamp("2024-06-03 12:00", tz="UTC")  # 24:00 at -12:00


def test_end_before_start_is_refused() -> None:
    with pytest.raises(CoreInputError, match="swap"):
        utc_window(date(2024, 6, 2), date(2024, 6, 1))


def test_summary_keeps_only_requested_local_dates() -> None:
    table = summary_table(obs(), META, date(2024, 6, 2), date(2024, 6, 3))
    assert table[["station", "date"]].astype(str).values.tolist() == [
        ["au-b", "2024-06-02"],
        ["au-b", "2024-06-03"],
        ["fi-a", "2024-06-02"],
        ["fi-a", "2024-06-03"],
    ]


@pytest.mark.parametrize("fmt", ["csv", "table", "json"])
def test_summary_renders(fmt: str) -> None:
    text = render_summary(summary_table(obs(), META, date(2024, 6, 2), date(2024, 6, 2)), fmt)  # type: ignore[arg-type]
    assert "fi-a" in text and "2024-06-02" in text


def test_summary_json_uses_null_for_missing() -> None:
    table = summary_table(obs(), META, date(2024, 6, 1), date(2024, 6, 1))
    records = json.loads(render_summary(table, "json"))
    assert records[0]["temp_c_mean"] is None  # the first local day is only half observed


def test_export_has_utc_and_local_time() -> None:
    table = export_table(obs(), META, date(2024, 6, 2), date(2024, 6, 2))
    fi = table[table["station"] == "fi-a"]
    assert (fi["local_time"] - fi["time"].dt.tz_localize(None) == pd.Timedelta("3h")).all()
    assert fi["local_time"].dt.date.astype(str).unique().tolist() == ["2024-06-02"]


def test_export_derived_columns_and_flags() -> None:
    table = export_table(obs(), META, date(2024, 6, 2), date(2024, 6, 2), derived=True)
    assert set(DERIVED_COLUMNS) <= set(table.columns)
    assert {"temp_c_qc", "wind_gust_ms_qc"} <= set(table.columns)
    fi = table[table["station"] == "fi-a"].iloc[0]
    assert fi["dewpoint_c"] == pytest.approx(9.27, abs=0.01)
    assert fi["sea_level_pressure_hpa"] > 990.0
    # Constant values for three days: the persistence check names them.
    assert fi["temp_c_qc"] == "persistence"


def test_export_writes_csv_and_parquet() -> None:
    table = export_table(obs(), META, date(2024, 6, 2), date(2024, 6, 2), derived=True)
    buffer = io.BytesIO()
    with ExportWriter("csv", buffer) as writer:
        writer.write(table)
    header, first = buffer.getvalue().decode().splitlines()[:2]
    assert header.startswith("station,time,local_time,temp_c")
    assert first.split(",")[1].endswith("Z")
    buffer = io.BytesIO()
    with ExportWriter("parquet", buffer) as writer:
        writer.write(table)
    back = pd.read_parquet(io.BytesIO(buffer.getvalue()))
    np.testing.assert_allclose(back["dewpoint_c"], table["dewpoint_c"])


def test_a_station_without_a_time_zone_is_exported_in_utc_and_blocks_no_one() -> None:
    # fi-new has sent observations but no meta message and is not in stations.toml (issue #15).
    lone = series("fi-new", "2024-06-01 12:00", 3 * 1440, temp_c=5.0)
    data = pd.concat([obs(), lone], ignore_index=True)
    assert without_timezone(data, META) == ["fi-new"]
    table = export_table(data, META, date(2024, 6, 2), date(2024, 6, 2), derived=True)
    new = table[table["station"] == "fi-new"]
    assert new["local_time"].isna().all()
    assert new["time"].dt.date.astype(str).unique().tolist() == ["2024-06-02"]  # UTC dates
    assert len(new) == 1440
    fi = table[table["station"] == "fi-a"]
    assert fi["local_time"].notna().all() and len(fi) == 1440
    buffer = io.BytesIO()
    with ExportWriter("csv", buffer) as writer:
        writer.write(new)
    assert buffer.getvalue().decode().splitlines()[1].split(",")[2] == ""  # empty local_time


def test_export_keeps_the_stations_counter() -> None:
    data = obs().assign(seq=np.arange(len(obs()), dtype="float64"))
    table = export_table(data, META, date(2024, 6, 2), date(2024, 6, 2))
    assert list(table.columns[:4]) == ["station", "time", "local_time", "seq"]
    buffer = io.BytesIO()
    with ExportWriter("csv", buffer) as writer:
        writer.write(table.head(1))
    assert buffer.getvalue().decode().splitlines()[1].split(",")[3].isdigit()
