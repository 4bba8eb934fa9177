"""A flagged value never reaches what students read: daily summaries, rankings, regional medians,
anomalies, daily bars. Two real SQLite stores hold the same week of six schools; one also holds a
45 °C one-reading spike and a 60 mm one-reading rain value at a Berlin school. Every aggregate must
come out the same from both, and the summary must say it set two values aside."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from dashboard.core.actions import SUMMARY_FIELDS, summary_table
from dashboard.data import Data
from dashboard.pages.compare import render_daily
from ingest import Batch, open_store
from ingest.batch import OBS_COLUMNS
from simulators import towns

NOW = datetime(2024, 6, 10, 15, 2, tzinfo=UTC)
INTERVAL_S = 300
# One minute after a regular reading: 45 °C and 60 mm in one minute (the limit is 40 mm/min).
SPIKE_AT = NOW - timedelta(hours=2, minutes=31)
TOWNS = ("tampere", "berlin", "lisbon", "manila", "tokyo", "bangkok")


def _fleet() -> tuple[towns.Station, ...]:
    return towns.stations(len(TOWNS), only=TOWNS)


def _write(url: str, spike: bool) -> str:
    store = open_store(url)
    end_s = int(NOW.timestamp()) // INTERVAL_S * INTERVAL_S
    t = np.arange(end_s - 8 * 86400, end_s + 1, INTERVAL_S, dtype=np.int64)
    rng = np.random.default_rng(7)
    victim = ""
    for s in _fleet():
        solar_h = (t / 3600 + s.lon / 15) % 24
        temp = 28 - 0.3 * abs(s.lat) + 5 * np.sin((solar_h - 9) / 24 * 2 * np.pi)
        columns: dict[str, Any] = {name: np.nan for name in OBS_COLUMNS[2:]}
        columns.update(
            station=s.station,
            ts_ms=t * 1000,
            temp_c=np.round(temp + rng.normal(0, 0.2, t.size), 2),
            rain_mm=np.where(rng.random(t.size) < 0.05, 0.2, 0.0),
            wind_gust_ms=np.round(5 + np.abs(rng.normal(0, 1, t.size)), 1),
        )
        obs = pd.DataFrame(columns, columns=list(OBS_COLUMNS))
        if spike and s.station.startswith("de-"):
            victim = s.station
            extra = {name: np.nan for name in OBS_COLUMNS[2:]}
            extra.update(station=s.station, ts_ms=int(SPIKE_AT.timestamp() * 1000))
            extra.update(temp_c=45.0, rain_mm=60.0)
            obs = pd.concat([obs, pd.DataFrame([extra], columns=list(OBS_COLUMNS))])
            obs = obs.sort_values("ts_ms", ignore_index=True)
        registry = {
            s.station: {
                "name": s.name, "lat": s.lat, "lon": s.lon, "elevation_m": s.elevation_m,
                "timezone": s.timezone, "exposure": "outdoor", "state": "online",
                "last_seen_ms": int(t[-1]) * 1000,
            }
        }  # fmt: skip
        store.write(Batch(obs=obs, registry=registry))
    store.close()
    return victim


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Data, Data, str]:
    folder: Path = tmp_path_factory.mktemp("usable")
    _write(f"sqlite:///{folder / 'clean.db'}", spike=False)
    victim = _write(f"sqlite:///{folder / 'spiked.db'}", spike=True)
    assert victim
    return (
        Data(open_store(f"sqlite:///{folder / 'clean.db'}")),
        Data(open_store(f"sqlite:///{folder / 'spiked.db'}")),
        victim,
    )


def test_the_spike_is_in_the_store_raw(stores: tuple[Data, Data, str]) -> None:
    _, spiked, victim = stores
    raw = spiked.store.read(NOW - timedelta(days=1), NOW, stations=[victim], fields=["temp_c"])
    assert raw["temp_c"].max() == 45.0


def test_daily_summary(stores: tuple[Data, Data, str]) -> None:
    clean, spiked, victim = stores

    def table(d: Data) -> pd.DataFrame:
        obs = d.store.read(NOW - timedelta(days=8), NOW, fields=list(SUMMARY_FIELDS))
        meta = d.registry(NOW)
        return summary_table(obs, meta, date(2024, 6, 3), date(2024, 6, 10))

    before, after = table(clean), table(spiked)
    values = ["temp_c_min", "temp_c_max", "temp_c_mean", "rain_mm_sum", "wind_gust_ms_max"]
    pd.testing.assert_frame_equal(before[values], after[values])
    flagged = after.set_index(["station", "date"])["n_flagged"]
    assert flagged.loc[(victim, pd.Timestamp(SPIKE_AT.date()))] == 2  # the 45 °C and the 60 mm
    assert flagged.sum() == 2 and before["n_flagged"].sum() == 0


def test_rankings_now_today_and_range(stores: tuple[Data, Data, str]) -> None:
    clean, spiked, _ = stores
    before, after = clean.leaderboard(NOW), spiked.leaderboard(NOW)
    assert before["categories"] == after["categories"]
    hottest = after["categories"]["hottest"]
    assert hottest and all((row["value"] or 0) < 45 for row in hottest)


def test_anomaly_table(stores: tuple[Data, Data, str]) -> None:
    clean, spiked, victim = stores
    table = spiked.leaderboard(NOW)["anomaly"]
    assert clean.leaderboard(NOW)["anomaly"] == table
    row = next(r for r in table if r["station"] == victim)
    assert row["anomaly"] is not None and row["today_max"] is not None and row["today_max"] < 45


@pytest.mark.parametrize("clock", ["utc", "local", "solar"])
def test_regional_medians(stores: tuple[Data, Data, str], clock: Any) -> None:
    clean, spiked, _ = stores
    for variable in ("temp_c", "rain_mm"):
        before = clean.regions(variable, "week", clock, NOW)
        after = spiked.regions(variable, "week", clock, NOW)
        for side_before, side_after in zip(before["sides"], after["sides"], strict=True):
            assert side_before["median"] == side_after["median"]
            assert side_before["q75"] == side_after["q75"]


def test_daily_bars(stores: tuple[Data, Data, str]) -> None:
    clean, spiked, victim = stores
    stations = list(clean.registry(NOW).index)
    before, after = clean.daily(stations, 7, NOW), spiked.daily(stations, 7, NOW)
    for bars in (*before["daily"], *after["daily"]):
        bars.pop("flagged")  # compared below
        bars.pop("aside")
    assert before == after
    after = spiked.daily(stations, 7, NOW)
    bars = next(d for d in after["daily"] if d["station"] == victim)
    assert max(v for v in bars["max"] if v is not None) < 45
    assert sum(bars["flagged"]) == 2  # the bar's hover says two readings were set aside
    # ... and the chart marks both at their raw value on the school's local date.
    day = SPIKE_AT.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert bars["aside"]["temp_c"] == {"date": [day], "y": [45.0], "why": ["step"]}
    assert bars["aside"]["rain_mm"]["date"] == [day] and bars["aside"]["rain_mm"]["y"] == [60.0]
    fig = render_daily(after, "en", {})
    marks = [tr for tr in fig.data if tr.type == "scatter"]
    assert [(tr.yaxis, list(tr.x), list(tr.y)) for tr in marks] == [
        ("y", [day], [45.0]),
        ("y2", [day], [60.0]),
    ]
    clean_bars = clean.daily(stations, 7, NOW)
    assert not [tr for tr in render_daily(clean_bars, "en", {}).data if tr.type == "scatter"]


def test_compare_chart_marks_the_flagged_reading_and_leaves_it_out_of_the_line(
    stores: tuple[Data, Data, str],
) -> None:
    _, spiked, victim = stores
    out = spiked.compare([victim], "temp_c", "day", "utc", NOW)
    series = out["series"][0]
    assert max(series["y"]) < 45
    assert series["flagged"]["y"] == [45.0] and series["flagged"]["why"] == ["step"]
    assert series["flagged"]["x"] == [SPIKE_AT.strftime("%Y-%m-%dT%H:%M:%S")]
