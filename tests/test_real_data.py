"""A year of real measured weather through the product: the TMY3 station files that pvlib ships
(NREL's Typical Meteorological Year: hourly measurements of one station, each month taken from a
real year) → `classnet import` → `classnet summary` and `classnet export --derived`, checked
against an independent pandas computation and against the file's own measured dew point."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pvlib
    from pvlib.iotools import read_tmy3

TMY3 = Path(pvlib.__file__).parent / "data"
# (file, station id, the file's fixed UTC offset as an IANA zone: TMY3 uses local standard time).
# The stations are in the USA (Greensboro NC, Sand Point AK), which is no ASEM partner, and the
# product files every station under an ASEM country (the Asia–Europe comparison needs a side).
# So they get test ids under one ("ie-"); position, elevation and time zone stay the file's own,
# and nothing in a daily summary or an export depends on the country.
FILES = [
    ("723170TYA.CSV", "ie-tmy3-greensboro", "Etc/GMT+5"),
    ("703165TY.csv", "ie-tmy3-sand-point", "Etc/GMT+9"),
]
COLUMNS = {
    "Dry-bulb (C)": "temp_c",
    "RHum (%)": "rh_pct",
    "Pressure (mbar)": "pressure_hpa",
    "Wspd (m/s)": "wind_speed_ms",
    "Wdir (degrees)": "wind_dir_deg",
    "Lprecip depth (mm)": "rain_mm",
}


def classnet(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def _station_year(file: str) -> tuple[pd.DataFrame, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data, meta = read_tmy3(TMY3 / file, coerce_year=2023, map_variables=False)
    # The file's hour-ending stamps in local standard time, as UTC instants.
    data = data[~data.index.duplicated()].sort_index()
    data.index = data.index.tz_convert("UTC")
    return data, meta


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    folder = tmp_path_factory.mktemp("tmy3")
    rows, toml, years = [], [], {}
    for file, station, zone in FILES:
        data, meta = _station_year(file)
        years[station] = (data, zone)
        frame = data[list(COLUMNS)].rename(columns=COLUMNS)
        frame.insert(0, "ts", data.index.as_unit("s").asi8)
        frame.insert(0, "station", station)
        rows.append(frame)
        toml += [
            f"[{station}]",
            f"name = {meta['Name']!s}".replace('""', '"'),
            f"lat = {meta['latitude']}",
            f"lon = {meta['longitude']}",
            f"elevation_m = {meta['altitude']}",
            f'timezone = "{zone}"',
            'exposure = "outdoor"',
            "",
        ]
    csv = folder / "tmy3.csv"
    pd.concat(rows).to_csv(csv, index=False)
    (folder / "stations.toml").write_text("\n".join(toml), encoding="utf-8")
    store = f"sqlite:///{folder / 'store.db'}"
    classnet("import", "--store", store, str(csv), cwd=folder)
    return folder, store, years


def test_summary_matches_an_independent_pandas_computation(imported: tuple) -> None:
    folder, store, years = imported
    text = classnet("summary", "--store", store, "--start", "2023-01-01", "--end", "2023-12-31",
                    "--format", "csv", cwd=folder)  # fmt: skip
    summary = pd.read_csv(io.StringIO(text), parse_dates=["date"])
    for station, (data, zone) in years.items():
        ours = summary[summary["station"] == station].set_index("date")
        local_date = data.index.tz_convert(zone).tz_localize(None).normalize()
        temp = data["Dry-bulb (C)"]
        days = temp.groupby(local_date)
        # The 75 % rule on hourly data: 18 of 24 hours.
        complete = days.count() >= 18
        expected = pd.DataFrame({"min": days.min(), "max": days.max(), "mean": days.mean()}).where(
            complete
        )
        expected = expected.loc["2023-01-01":"2023-12-31"]
        assert len(ours) == len(expected) >= 364
        np.testing.assert_allclose(ours["temp_c_min"], expected["min"], atol=1e-9)
        np.testing.assert_allclose(ours["temp_c_max"], expected["max"], atol=1e-9)
        np.testing.assert_allclose(ours["temp_c_mean"], expected["mean"], atol=5e-5)
        # -9900 is the file's "missing"; the gateway refuses it as out of range, as it should.
        rain_days = data["Lprecip depth (mm)"].where(lambda r: r >= 0).groupby(local_date)
        rain = rain_days.sum().where(rain_days.count() >= 18).loc["2023-01-01":"2023-12-31"]
        np.testing.assert_allclose(ours["rain_mm_sum"], rain, atol=5e-5)
        # An hourly station gets range and consistency checks only; real data pass them.
        assert (ours["n_flagged"] == 0).all()


def test_export_dew_point_agrees_with_the_measured_one(imported: tuple) -> None:
    folder, store, years = imported
    out = folder / "export.csv"
    classnet("export", "--store", store, "--start", "2023-01-01", "--end", "2023-12-31",
             "--derived", "--output", str(out), cwd=folder)  # fmt: skip
    export = pd.read_csv(out, parse_dates=["time"])
    for station, (data, _) in years.items():
        rows = export[export["station"] == station].set_index("time")
        assert rows["temp_c_qc"].astype("string").fillna("").eq("").all()
        measured = data.reindex(rows.index)
        # Compared where both are measurements of one hour: TMY3 blends the 6 hours either side
        # of each month join (months come from different years), and below 0 °C the file's
        # humidity follows another convention than Bolton's formula over water.
        local = rows.index.tz_localize(None)
        month = local.to_period("M").to_timestamp()
        join = ((local - month) <= pd.Timedelta(hours=6)) | (
            (month + pd.offsets.MonthBegin(1) - local) <= pd.Timedelta(hours=6)
        )
        ok = ~join & (measured["Dry-bulb (C)"] >= 0).to_numpy() & rows["dewpoint_c"].notna()
        error = (rows["dewpoint_c"] - measured["Dew-point (C)"]).abs()[ok]
        # The file's humidity is a whole percent: ±0.5 % is ±0.1 °C of dew point at 80 % RH and
        # ±0.35 °C at 20 %.
        assert ok.sum() > 6500
        assert error.median() < 0.1 and error.quantile(0.95) < 0.6, error.describe()
