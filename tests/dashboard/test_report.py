"""`classnet report`: a school's monthly climate summary from a real SQLite store, checked against a
table worked out by hand, and printed to a one-page PDF by real headless Chromium."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.report_actions import Period, build_report, render_report
from gateway.cli import EXIT_USER_ERROR, main
from ingest import open_store
from ingest.batch import Batch, empty_obs
from ingest.command import opened_store
from ingest.domain.calibration import Correction, write_corrections

STATION = "fi-report-01"
META = {"name": "Report School", "lat": 61.5, "lon": 23.76, "elevation_m": 120.0,
        "timezone": "Europe/Helsinki", "exposure": "outdoor"}  # fmt: skip


def _day(local_day: int, hours: int, temp: dict[int, float], base: float, rain: dict[int, float],
         gust: dict[int, float], gust_base: float, direction: float) -> pd.DataFrame:  # fmt: skip
    """Hourly readings of one local February 2024 day (UTC+2) from hour 0 to `hours` - 1."""
    hour = np.arange(hours)
    start = datetime(2024, 2, local_day, tzinfo=UTC) - timedelta(hours=2)
    obs = empty_obs().reindex(range(hours))
    obs["station"] = STATION
    obs["ts_ms"] = [int((start + timedelta(hours=int(h))).timestamp() * 1000) for h in hour]
    obs["temp_c"] = [temp.get(int(h), base) for h in hour]
    obs["rain_mm"] = [rain.get(int(h), 0.0) for h in hour]
    obs["wind_gust_ms"] = [gust.get(int(h), gust_base) for h in hour]
    obs["wind_dir_deg"] = direction
    return obs


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """February 2024 at one school, hourly readings on four days (by hand):

    day 1: -2.0 °C all day but  3.5 at 14 h and -7.0 at 5 h; 0.2 mm at 8 h and 9 h;
           gusts 5.0, 12.3 at 13 h; wind from 225° (SW)
    day 2:  0.0 °C all day but  6.0 at 15 h and -1.0 at 3 h; 7.5 mm at 10 h, 4.5 at 11 h;
           gusts 6.0, 15.5 at 11 h; wind from 90° (E)
    day 3: 12 hours only (half the day: below the 75 % coverage rule), 40 °C, 30 mm, 30 m/s
    day 4:  1.0 °C all day but  2.0 at 13 h; dry; gusts 4.0; wind from 230° (SW)
    """
    days = [
        _day(1, 24, {14: 3.5, 5: -7.0}, -2.0, {8: 0.2, 9: 0.2}, {13: 12.3}, 5.0, 225.0),
        _day(2, 24, {15: 6.0, 3: -1.0}, 0.0, {10: 7.5, 11: 4.5}, {11: 15.5}, 6.0, 90.0),
        _day(3, 12, {}, 40.0, {0: 30.0}, {}, 30.0, 0.0),
        _day(4, 24, {13: 2.0}, 1.0, {}, {}, 4.0, 230.0),
    ]
    url = f"sqlite:///{tmp_path / 'report.db'}"
    store = open_store(url)
    batch = Batch(obs=pd.concat(days, ignore_index=True))
    batch.registry = {STATION: dict(META)}
    store.write(batch)
    store.close()
    return url


# Worked out by hand from the fixture's docstring. Day means: day 1 (22 × -2.0 + 3.5 - 7.0) / 24
# = -1.979; day 2 (6.0 - 1.0) / 24 = 0.208; day 4 (23 × 1.0 + 2.0) / 24 = 1.042. The month line
# averages the three complete days: highs (3.5 + 6.0 + 2.0) / 3 = 3.83, lows (-7.0 - 1.0 + 1.0)
# / 3 = -2.33, means -0.24; rain 0.4 + 12.0 + 0.0; wind SW on two days of three; 29 - 3 = 26
# days missing (day 3 is not covered), so the month is incomplete.
HAND_CHECKED = """\
station,label,tx_c,tn_c,tg_c,rr_mm,gust_ms,dir,missing_days,complete
fi-report-01,1,3.5,-7.0,-1.98,0.4,12.3,SW,0,True
fi-report-01,2,6.0,-1.0,0.21,12.0,15.5,E,0,True
fi-report-01,3,,,,,,,1,False
fi-report-01,4,2.0,1.0,1.04,0.0,4.0,SW,0,True
"""
HAND_CHECKED_MONTH = "fi-report-01,month,3.83,-2.33,-0.24,12.4,15.5,SW,26,False\n"


def test_monthly_report_matches_the_hand_checked_table(store_url: str) -> None:
    with opened_store(store_url, read_only=True) as store:
        report, meta = build_report(store, STATION, Period(2024, 2))
    csv = render_report(report, meta, "csv").decode()
    lines = csv.splitlines(keepends=True)
    assert "".join(lines[:5]) == HAND_CHECKED
    assert lines[5:30] == [f"fi-report-01,{d},,,,,,,1,False\n" for d in range(5, 30)]
    assert lines[30] == HAND_CHECKED_MONTH and len(lines) == 31
    assert report.extremes["tx_max"].value == 6.0
    assert str(report.extremes["tx_max"].day) == "2024-02-02"
    assert (report.extremes["tn_min"].value, str(report.extremes["tn_min"].day)) == (
        -7.0,
        "2024-02-01",
    )
    assert (
        str(report.extremes["rr_max"].day) == str(report.extremes["gust_max"].day) == "2024-02-02"
    )
    assert report.counts == {"su": 0, "id": 0, "fd": 2, "tr": 0, "r1mm": 1, "r10mm": 1}


def test_report_command_prints_the_table(
    store_url: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = main(["report", "--store", store_url, "--station", STATION, "--month", "2024-02"])
    out = capsysbinary.readouterr().out.decode()
    assert code == 0
    assert out.startswith("Monthly climate summary 2024-02\n")
    assert "Report School (fi-report-01)" in out and "Europe/Helsinki" in out
    day2 = next(line for line in out.splitlines() if line.startswith("2 "))
    assert day2.split() == ["2", "6.0", "-1.0", "0.2", "12.0", "15.5", "E"]
    assert next(line for line in out.splitlines() if line.startswith("3")).split() == ["3*"]
    month = next(line for line in out.splitlines() if line.startswith("Month!"))
    assert month.split() == ["Month!", "3.8", "-2.3", "-0.2", "12.4", "15.5", "SW", "26"]
    assert "Highest temperature: 6.0 °C  2024-02-02" in out


def test_report_in_finnish(store_url: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    args = ["report", "--store", store_url, "--station", STATION, "--month", "2024-02"]
    assert main([*args, "--lang", "fi"]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert out.startswith("Kuukauden ilmastoyhteenveto 2024-02")
    assert "LO" in out  # lounas, south-west


def test_yearly_report_has_a_line_per_month(store_url: str) -> None:
    with opened_store(store_url, read_only=True) as store:
        report, _ = build_report(store, STATION, Period(2024))
    assert report.lines["label"].tolist() == list(range(1, 13))
    assert report.lines.loc[1, "rr_mm"] == pytest.approx(12.4)
    assert report.lines["missing_days"].iloc[0] == 31
    assert report.total["missing_days"] == 366 - 3 and not report.total["complete"]


def test_missing_store_is_named_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nothere.db"
    code = main(["report", "--store", f"sqlite:///{path}", "--station", STATION, "--year", "2024"])
    assert code == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "no store at " in err and str(path.relative_to("/")) in err
    assert not path.exists()


def test_unknown_station_and_bad_period_are_explained(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--store", store_url, "--station", "xx-none", "--year", "2024"]) == 3
    assert "station xx-none is not in" in capsys.readouterr().err
    assert main(["report", "--store", store_url, "--station", STATION, "--month", "2024"]) == 3
    assert "--month wants YYYY-MM" in capsys.readouterr().err


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium package")
def test_pdf_is_one_page_printed_by_chromium(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    args = ["report", "--store", store_url, "--station", STATION, "--month", "2024-02"]
    assert main([*args, "--format", "pdf", "-o", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_report_applies_the_calibrations_in_stations_toml(
    store_url: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """A thermometer found 0.5 °C warm on calibration day reads 0.5 °C lower everywhere the
    data are read, the report too: day 2's high 6.0 becomes 5.5 (what is stored stays raw)."""
    toml = tmp_path / "stations.toml"
    since = datetime(2024, 1, 1, tzinfo=UTC)
    write_corrections(toml, [Correction(STATION, "temp_c", since, -0.5)])
    args = ["report", "--store", store_url, "--station", STATION, "--month", "2024-02"]
    assert main([*args, "--stations", str(toml)]) == 0
    out = capsysbinary.readouterr().out.decode()
    day2 = next(line for line in out.splitlines() if line.startswith("2 "))
    assert day2.split()[:3] == ["2", "5.5", "-1.5"]
