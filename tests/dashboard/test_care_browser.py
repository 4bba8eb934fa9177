"""Siting and calibration in the dashboard, in real headless Chromium: the Stations page shows
each school's WMO siting class and its calibration, and Compare can keep only well-sited schools.

The store is a real SQLite file written as the gateway writes it, read by a real `classnet
dashboard` process with the coordinator's stations.toml. One school is in no stations.toml: its
position and siting come only from its own `meta` message, decoded as the gateway decodes it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from dashboard.demo import ROOT, classnet, free_port, wait_for_port
from gateway.decode_batch import decode_messages
from ingest import open_store
from tests.care.store import write_obs
from tests.dashboard.conftest import Dashboard
from tests.dashboard.test_browser import open_page, plot_data, text_of, wait, wait_for_text

pytestmark = pytest.mark.slow

GOOD, WALL, UNKNOWN, OWN = "fi-field-01", "fi-wall-01", "fi-plain-01", "fi-own-01"
# What OWN says about itself: an open field (temperature class 1), no anemometer siting.
OWN_META = (
    b'{"name": "Own Words School", "lat": 61.3, "lon": 23.6, "timezone": "Europe/Helsinki", '
    b'"siting": {"surface": "grass", "heat_source_distance_m": 150, "shaded_below_sun_deg": 4, '
    b'"radiation_shield": true, "mounting": "ground"}}'
)
CALIBRATED_FROM = datetime.now(UTC) - timedelta(days=30)
STATIONS_TOML = f"""\
# Three schools around Tampere
[{GOOD}]
name = "Field School"
lat = 61.40
lon = 23.70
timezone = "Europe/Helsinki"

[{GOOD}.siting]
surface = "grass"
heat_source_distance_m = 120
shaded_below_sun_deg = 3
radiation_shield = true
obstacle_height_m = 6
obstacle_distance_m = 200

[[{GOOD}.calibration]]
field = "temp_c"
from = {CALIBRATED_FROM:%Y-%m-%dT%H:%M:%SZ}
offset = -0.8
slope = 1.0

[{WALL}]
name = "Wall School"
lat = 61.50
lon = 23.80
timezone = "Europe/Helsinki"

[{WALL}.siting]
surface = "grass"
heat_source_distance_m = 2     # on the sunny south wall
shaded_below_sun_deg = 15
radiation_shield = true

[{UNKNOWN}]
name = "Plain School"
lat = 61.60
lon = 23.90
timezone = "Europe/Helsinki"
"""


@pytest.fixture(scope="module")
def care_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("care-dashboard")
    url = f"sqlite:///{folder / 'classnet.db'}"
    stations = folder / "stations.toml"
    stations.write_text(STATIONS_TOML, encoding="utf-8")
    now = pd.Timestamp.now(tz="UTC").floor("min")
    time = pd.date_range(now - pd.Timedelta(hours=3), now, freq="1min")
    rng = np.random.default_rng(7)
    frames = [
        pd.DataFrame(
            {
                "station": sid,
                "time": time,
                "temp_c": 5.0 + i + rng.normal(0, 0.2, time.size),
                "wind_speed_ms": 3.0 + rng.random(time.size),
            }
        )
        for i, sid in enumerate((GOOD, WALL, UNKNOWN, OWN))
    ]
    store = open_store(url)
    write_obs(store, pd.concat(frames, ignore_index=True))
    meta = decode_messages([(f"classnet/v1/{OWN}/meta", OWN_META)], now.timestamp(), 0)
    assert meta.problems == []
    store.write(meta.batch)
    store.close()
    port = free_port()
    log = (folder / "dashboard.log").open("ab")
    proc = subprocess.Popen(
        classnet("dashboard", "--store", url, "--stations", str(stations), "--port", str(port),
                 "--refresh", "1"),
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, "classnet dashboard", timeout_s=30)
        yield Dashboard(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _row(driver: Any, station: str) -> dict[str, str]:
    """The Stations table row of `station`, by column heading."""
    heads = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#stations-table th")]
    for row in driver.find_elements(By.CSS_SELECTOR, "#stations-table tbody tr"):
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        if cells and cells[0] == station:
            return dict(zip(heads, cells, strict=True))
    return {}


def test_stations_page_shows_siting_class_and_calibration(
    browser: Any, care_dashboard: Dashboard
) -> None:
    open_page(browser, care_dashboard.url + "/stations", "Stations (for teachers)")
    wait_for_text(browser, "#stations-table", "Siting (temperature)")
    wait(browser, lambda d: len(_row(d, UNKNOWN)) > 0 and len(_row(d, OWN)) > 0)
    good, wall, unknown, own = (_row(browser, s) for s in (GOOD, WALL, UNKNOWN, OWN))
    assert good["Siting (temperature)"] == "1" and good["Siting (wind)"] == "1"
    assert wall["Siting (temperature)"] == "4" and wall["Siting (wind)"] == "–"
    assert unknown["Siting (temperature)"] == "–"
    # From the station's meta alone: no stations.toml table names it.
    assert own["Siting (temperature)"] == "1" and own["Siting (wind)"] == "–"
    assert good["Calibration"].startswith("temp_c −0.80 since")
    assert wall["Calibration"] == "–"


def test_compare_keeps_only_well_sited_schools_when_asked(
    browser: Any, care_dashboard: Dashboard
) -> None:
    schools = ",".join((GOOD, WALL, UNKNOWN, OWN))
    open_page(browser, f"{care_dashboard.url}/compare?schools={schools}", "Compare schools")
    wait(browser, lambda d: len([t for t in plot_data(d, "compare-graph") if t["x"]]) == 4)
    # The y values as plotly.js decoded them (the figure ships them as typed arrays).
    corrected = browser.execute_script(
        "const gd = document.querySelector('#compare-graph .js-plotly-plot');"
        "return Object.fromEntries(gd._fullData.map(t => { const y = Array.from(t.y)"
        ".filter(v => v !== null); return [t.name, y.reduce((a, b) => a + b, 0) / y.length]; }));"
    )
    # Written 5, 6, 7 °C on average; the field school's −0.8 °C calibration is applied on read.
    assert corrected["Field School"] == pytest.approx(4.2, abs=0.1)
    assert corrected["Wall School"] == pytest.approx(6.0, abs=0.1)

    browser.find_element(By.CSS_SELECTOR, "#compare-well-sited input").click()
    wait(
        browser,
        lambda d: (
            sorted(t["name"] for t in plot_data(d, "compare-graph"))
            == ["Field School", "Own Words School"]
        ),
    )
    note = text_of(browser, "#compare-siting-note")
    assert WALL in note and UNKNOWN in note and GOOD not in note and OWN not in note

    browser.find_element(By.CSS_SELECTOR, "#compare-well-sited input").click()
    wait(browser, lambda d: len(plot_data(d, "compare-graph")) == 4)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#compare-siting-note").text == "")


def test_leaderboard_keeps_only_well_sited_schools_when_asked(
    browser: Any, care_dashboard: Dashboard
) -> None:
    open_page(browser, care_dashboard.url + "/leaderboard", "Today's leaderboard")

    def hottest(driver: Any) -> list[str]:
        return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#leaderboard-hottest .who")]

    everyone = ["Own Words School", "Plain School", "Wall School", "Field School"]
    wait(browser, lambda d: hottest(d) == everyone)
    assert browser.find_element(By.CSS_SELECTOR, "#leaderboard-siting-note").text == ""
    browser.find_element(By.CSS_SELECTOR, "#leaderboard-well-sited input").click()
    # Own Words School is class 1 by the siting in its own meta.
    wait(browser, lambda d: hottest(d) == ["Own Words School", "Field School"])
    # The wall school is class 4 for temperature; the plain one describes no siting at all; Own
    # Words describes no anemometer, so the Windiest board leaves it out.
    wait_for_text(browser, "#leaderboard-siting-note", "3 schools left out")
    # The filter, not the weather, empties a board: it says so.
    wait_for_text(browser, "#leaderboard-windiest", "No well-sited school has a reading to rank")
