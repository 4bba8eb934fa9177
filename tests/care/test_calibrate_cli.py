"""`classnet calibrate` against a real SQLite store: the table, the corrections written into the
teacher's stations.toml, and corrections applied by date when data are read, raw values kept."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gateway.cli import main as classnet
from ingest import Store, open_store
from ingest.domain.calibration import load_corrections
from ingest.domain.stations import load_stations
from tests.care.store import write_obs
from tests.care.test_calibration_fit import side_by_side

TOML = """\
# Our network's stations. Ask Ms Virtanen before changing anything here.
[fi-ref]
name = "Reference (FMI-checked)"
lat = 61.45
lon = 23.85
timezone = "Europe/Helsinki"

[fi-warm]   # the one on the south wall
name = "Hervanta"
lat = 61.45
lon = 23.86
timezone = "Europe/Helsinki"

[fi-steep]
name = "Kaleva"
lat = 61.5
lon = 23.8
timezone = "Europe/Helsinki"
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = classnet(list(argv))
    return code, out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = f"sqlite:///{tmp_path / 'classnet.db'}"
    opened = open_store(url)
    yield url, opened
    opened.close()


def test_calibration_day_writes_corrections_that_apply_from_their_date_only(
    tmp_path: Path, store: tuple[str, Store], rng: np.random.Generator
) -> None:
    url, db = store
    stations = tmp_path / "stations.toml"
    stations.write_text(TOML, encoding="utf-8")
    day = side_by_side(rng, {"fi-warm": (0.8, 1.0), "fi-steep": (-0.5, 1.08)})
    before = day.assign(time=day["time"] - pd.Timedelta(days=10))  # last month's readings
    write_obs(db, pd.concat([before, day]))
    stored = db.read(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))

    code, out = run("calibrate", "--store", url, "--reference", "fi-ref",
                    "--start", "2026-12-01T06:00", "--end", "2026-12-02T06:00",
                    "--field", "temp_c", "--stations", str(stations), "--write",
                    "--report", str(tmp_path / "report.html"))  # fmt: skip
    assert code == 0, out
    assert re.search(r"fi-warm +temp_c +144 +0\.[78]\d high", out), out
    assert re.search(r"fi-steep +temp_c +144 +0\.\d\d low", out), out
    assert "2 correction(s) written" in out and "applying from 2026-12-01 06:00 UTC" in out

    text = stations.read_text(encoding="utf-8")
    assert text.startswith(TOML.split("[fi-steep]")[0])  # comments and order as the teacher left
    assert "# the one on the south wall" in text
    assert len(load_stations(stations)) == 3  # still a valid stations file
    by_station = {c.station: c for c in load_corrections(stations)}
    # Within twice the stated uncertainty (test_calibration_fit checks how often within once).
    warm, steep = by_station["fi-warm"], by_station["fi-steep"]
    assert warm.offset_u and steep.slope_u
    assert warm.offset == pytest.approx(-0.8, abs=2 * warm.offset_u)
    assert steep.slope == pytest.approx(1 / 1.08, abs=2 * steep.slope_u)
    assert by_station["fi-warm"].valid_from == datetime(2026, 12, 1, 6, tzinfo=UTC)

    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "measurement error" in report and "fi-steep" in report

    # The store still holds exactly what the stations sent.
    again = db.read(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    pd.testing.assert_frame_equal(stored, again)

    csv = tmp_path / "export.csv"
    code, _ = run("export", "--store", url, "--start", "2026-11-20", "--end", "2026-12-02",
                  "--station", "fi-warm", "--stations", str(stations), "-o", str(csv))  # fmt: skip
    assert code == 0
    table = pd.read_csv(csv, parse_dates=["time"])
    raw = stored[stored["station"] == "fi-warm"].set_index("time")["temp_c"]
    table = table.set_index("time")
    np.testing.assert_allclose(table["temp_c_raw"], raw.reindex(table.index))
    last_month = table.index < pd.Timestamp("2026-12-01T06:00Z")
    assert last_month.sum() > 1000 and (~last_month).sum() > 1000
    np.testing.assert_allclose(table.loc[last_month, "temp_c"], table.loc[last_month, "temp_c_raw"])
    change = (table["temp_c"] - table["temp_c_raw"])[~last_month]
    assert change.to_numpy() == pytest.approx(by_station["fi-warm"].offset, abs=0.05)


def test_a_later_calibration_leaves_earlier_data_with_the_earlier_correction(
    tmp_path: Path, store: tuple[str, Store], rng: np.random.Generator
) -> None:
    url, db = store
    stations = tmp_path / "stations.toml"
    stations.write_text(TOML, encoding="utf-8")
    first = side_by_side(rng, {"fi-warm": (0.8, 1.0)})
    # A month later the sensor has drifted further.
    later = side_by_side(rng, {"fi-warm": (1.5, 1.0)})
    later = later.assign(time=later["time"] + pd.Timedelta(days=30))
    write_obs(db, pd.concat([first, later]))
    for start, end in (("2026-12-01T06:00", "2026-12-02T06:00"),
                       ("2026-12-31T06:00", "2027-01-01T06:00")):  # fmt: skip
        code, out = run("calibrate", "--store", url, "--reference", "fi-ref", "--start", start,
                        "--end", end, "--field", "temp_c", "--stations", str(stations),
                        "--write")  # fmt: skip
        assert code == 0, out
    corrections = load_corrections(stations)
    assert [round(c.offset, 1) for c in corrections] == [-0.8, -1.5]

    csv = tmp_path / "export.csv"
    code, _ = run("export", "--store", url, "--start", "2026-12-01", "--end", "2027-01-01",
                  "--station", "fi-warm", "--stations", str(stations), "-o", str(csv))  # fmt: skip
    table = pd.read_csv(csv, parse_dates=["time"])
    change = (table["temp_c"] - table["temp_c_raw"]).round(1)
    first_day = table["time"] < pd.Timestamp("2026-12-31T06:00Z")
    assert set(change[first_day]) == {-0.8} and set(change[~first_day]) == {-1.5}


def test_nothing_fitted_is_a_user_error_with_the_reasons(
    tmp_path: Path,
    store: tuple[str, Store],
    rng: np.random.Generator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, db = store
    write_obs(db, side_by_side(rng, {"fi-warm": (0.8, 1.0)}, hours=1))
    stations = tmp_path / "stations.toml"
    stations.write_text(TOML, encoding="utf-8")
    code = classnet(["calibrate", "--store", url, "--reference", "fi-ref", "--start", "2026-12-01",
                     "--end", "2026-12-01", "--stations", str(stations), "--write"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 3
    assert "fi-warm temp_c: not fitted: only 1 h 00 min" in captured.out
    assert "nothing fitted against fi-ref" in captured.err
    assert stations.read_text(encoding="utf-8") == TOML
