"""The dashboard over an InfluxDB that is not running yet (issue #15): a visible banner instead
of an empty map and a traceback per refresh, then the data once InfluxDB starts. Real InfluxDB,
started by the test on the port the dashboard was given; real headless Chromium."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dashboard.demo import ROOT, classnet, free_port, wait_for_port
from firmware import wire
from gateway.decode_batch import decode_messages
from ingest import open_store
from tests import servers
from tests.dashboard.test_browser import plot_data, wait

pytestmark = pytest.mark.slow

STATION = "fi-banner-01"
DOWN = "the data store is not answering"


def _banner(driver: Any) -> Any:
    return driver.find_element(By.ID, "app-store-banner")


def _one_station(url: str) -> None:
    """A school with metadata and a reading from a minute ago, decoded as the gateway would."""
    now = time.time()
    meta = {"name": "Banner School", "lat": 61.5, "lon": 23.8, "timezone": "Europe/Helsinki"}
    messages = [
        (wire.topic(STATION, "meta"), json.dumps(meta).encode()),
        (wire.topic(STATION, "obs"), json.dumps({"ts": now - 60, "temp_c": 3.5}).encode()),
    ]
    store = open_store(url)
    try:
        store.write(decode_messages(messages, now, int(now * 1000)).batch)
    finally:
        store.close()


def test_banner_while_influxdb_is_down_then_the_data(browser: Any, tmp_path: Path) -> None:
    influx_port, port = servers.free_port(), free_port()
    url = f"influxdb://127.0.0.1:{influx_port}/classnet"
    log_path = tmp_path / "dashboard.log"
    influx = None
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            classnet("dashboard", "--store", url, "--port", str(port), "--refresh", "1"),
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, proc, "classnet dashboard", timeout_s=30)
        browser.get(f"http://127.0.0.1:{port}/")
        wait(browser, lambda d: _banner(d).is_displayed() and DOWN in _banner(d).text)
        # Ten more requests (refreshes) with the store down: the log says so once, no traceback.
        ticks = browser.execute_script("return performance.getEntriesByType('resource').length")
        wait(
            browser,
            lambda d: (
                d.execute_script("return performance.getEntriesByType('resource').length")
                > ticks + 10
            ),
        )
        text = log_path.read_text()
        assert "Traceback" not in text, text
        assert text.count("Connection refused") == 1, text

        influx = servers.start_influxdb(tmp_path / "influxdb", port=influx_port)
        servers.influx_query(influx_port, "CREATE DATABASE classnet")
        _one_station(url)

        wait(browser, lambda d: not _banner(d).is_displayed())

        def on_map(driver: Any) -> bool:
            points = [c[0] for t in plot_data(driver, "now-map") for c in (t["customdata"] or [])]
            return STATION in points

        wait(browser, on_map)
        text = log_path.read_text()
        assert "Traceback" not in text, text
        assert "readable again" in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if influx is not None:
            influx.stop()
