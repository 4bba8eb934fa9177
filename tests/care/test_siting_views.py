"""Siting in the network-wide views, read from a real SQLite store with a coordinator's
stations.toml: Asia vs Europe and the leaderboard keep only well-sited schools when asked, say
how many they left out, and note when the windiest board mixes roof and ground anemometers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.data import Data
from ingest import open_store
from tests.care.store import write_obs

NOW = datetime(2024, 6, 10, 6, 0, tzinfo=UTC)
GOOD = 'surface = "grass"\nheat_source_distance_m = 150\nshaded_below_sun_deg = 3\n'
GOOD += "radiation_shield = true\n"
# On a car park: WMO class 5 for temperature, and 12 °C hotter than its neighbours.
CAR_PARK = 'surface = "artificial"\nheat_source_distance_m = 0\nshaded_below_sun_deg = 0\n'
CAR_PARK += "radiation_shield = true\n"
# (station, lat, lon, zone, temperature, siting, roof anemometer?)
SCHOOLS = (
    ("ph-manila-01", 14.6, 121.0, "Asia/Manila", 30.0, GOOD, False),
    ("th-bangkok-01", 13.7, 100.5, "Asia/Bangkok", 31.0, GOOD, False),
    ("jp-tokyo-01", 35.7, 139.7, "Asia/Tokyo", 22.0, GOOD, True),
    ("sg-carpark-01", 1.3, 103.8, "Asia/Singapore", 43.0, CAR_PARK, False),
    ("fi-tampere-01", 61.5, 23.8, "Europe/Helsinki", 12.0, GOOD, False),
    ("de-berlin-01", 52.5, 13.4, "Europe/Berlin", 17.0, GOOD, False),
    ("pt-lisbon-01", 38.7, -9.1, "Europe/Lisbon", 20.0, GOOD, False),
    ("es-carpark-01", 40.4, -3.7, "Europe/Madrid", 32.0, CAR_PARK, False),
)
LEFT_OUT = ["es-carpark-01", "sg-carpark-01"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    folder: Path = tmp_path_factory.mktemp("siting-views")
    toml = []
    for sid, lat, lon, zone, _, siting, roof in SCHOOLS:
        mounting = "roof" if roof else "ground"
        toml.append(
            f'[{sid}]\nname = "{sid}"\nlat = {lat}\nlon = {lon}\ntimezone = "{zone}"\n'
            f'[{sid}.siting]\n{siting}mounting = "{mounting}"\n'
            "obstacle_height_m = 5\nobstacle_distance_m = 200\n"
        )
    (folder / "stations.toml").write_text("\n".join(toml), encoding="utf-8")
    time = pd.date_range(NOW - timedelta(days=2), NOW, freq="10min")
    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame(
            {
                "station": sid,
                "time": time,
                "temp_c": temp + rng.normal(0, 0.3, time.size),
                "wind_gust_ms": 4.0 + (3.0 if roof else 0.0) + rng.random(time.size),
            }
        )
        for sid, _, _, _, temp, _, roof in SCHOOLS
    ]
    store = open_store(f"sqlite:///{folder / 'classnet.db'}")
    write_obs(store, pd.concat(frames, ignore_index=True))
    return Data(store, stations_path=folder / "stations.toml")


def _medians(out: dict) -> dict[str, float]:
    return {s["region"]: float(np.nanmedian(np.array(s["median"], float))) for s in out["sides"]}


def test_asia_vs_europe_keeps_only_well_sited_schools_when_asked(data: Data) -> None:
    every = data.regions("temp_c", "day", "utc", NOW)
    sited = data.regions("temp_c", "day", "utc", NOW, well_sited=True)
    assert every["left_out"] == [] and sorted(sited["left_out"]) == LEFT_OUT
    assert {s["region"]: max(s["n"]) for s in every["sides"]} == {"asia": 4, "europe": 4}
    assert {s["region"]: max(s["n"]) for s in sited["sides"]} == {"asia": 3, "europe": 3}
    # The median of four schools is pulled up by the car park; of the three well-sited it is not.
    assert _medians(every)["europe"] == pytest.approx(18.5, abs=0.3)
    assert _medians(sited)["europe"] == pytest.approx(17.0, abs=0.3)
    assert _medians(sited)["asia"] == pytest.approx(30.0, abs=0.3)
    # Rain has no siting class: the filter keeps every school.
    assert data.regions("rain_mm", "day", "utc", NOW, well_sited=True)["left_out"] == []


def test_leaderboard_keeps_only_well_sited_schools_when_asked(data: Data) -> None:
    every = data.leaderboard(NOW)
    sited = data.leaderboard(NOW, well_sited=True)
    hottest = [r["station"] for r in every["categories"]["hottest"]]
    assert hottest[0] == "sg-carpark-01" and "es-carpark-01" in hottest
    hottest_sited = [r["station"] for r in sited["categories"]["hottest"]]
    assert hottest_sited[:2] == ["th-bangkok-01", "ph-manila-01"]
    assert not set(hottest_sited) & set(LEFT_OUT) and len(hottest_sited) == 5
    assert not {r["station"] for r in sited["anomaly"]} & set(LEFT_OUT)
    assert every["left_out"] == [] and sited["left_out"] == LEFT_OUT
    # Wind siting is class 1 everywhere: the car parks still rank for gusts.
    assert len(sited["categories"]["windiest"]) == 5
    # Which boards the filter took schools from (so an emptied board can say why).
    assert every["filtered"] == [] and sited["filtered"] == ["hottest", "coldest", "range"]


def test_windiest_board_notes_a_roof_anemometer_among_ground_ones(data: Data) -> None:
    board = data.leaderboard(NOW)
    assert board["categories"]["windiest"][0]["station"] == "jp-tokyo-01"  # on the roof
    assert board["notes"] == ["roof_mixed"]
    assert data.leaderboard(NOW, top=1)["notes"] == []  # a roof alone mixes nothing
