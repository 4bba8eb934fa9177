"""A real chain for dashboard tests: Mosquitto → `classnet gateway` → SQLite ← `classnet dashboard`,
fed by `classnet simulate` and by hand-made messages (an indoor monitor, a station whose name is
an HTML injection attempt, a station sending impossible values), and a headless Chromium.

Session-scoped: one chain, one dashboard and one browser for all browser tests (one backfill).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dashboard.demo import ROOT, Demo, classnet, free_port, wait_for_port
from ingest import open_store
from tests import servers
from tests.waiting import wait_until

# Four schools a side, so Asia vs Europe has a median to draw (it needs at least 3 schools).
TOWNS = ("tampere", "berlin", "lisbon", "warsaw", "manila", "tokyo", "singapore", "seoul")
SCHOOLS = len(TOWNS)
XSS_STATION = "fi-xss-01"
XSS_NAME = "<script>alert('x')</script> <b>Bold</b> School"
INDOOR_STATION = "fi-tampere-room12"
FAULTY_STATION = "ph-faulty-01"
BACKFILL_DAYS = 2.0


@dataclass
class Chain:
    broker_port: int
    store_url: str
    stations: list[str]
    data_dir: Path

    def publish(self, station: str, kind: str, body: Any, retain: bool = False) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{station}-{kind}")
        client.connect("127.0.0.1", self.broker_port)
        client.loop_start()
        payload = body if isinstance(body, bytes) else json.dumps(body)
        info = client.publish(f"classnet/v1/{station}/{kind}", payload, qos=1, retain=retain)
        info.wait_for_publish(10)
        client.loop_stop()
        client.disconnect()

    def wait_stored(self, what: Callable[[Any], bool], timeout_s: float = 30.0) -> None:
        """Wait until the store (through the gateway) satisfies `what(store)`."""
        store = open_store(self.store_url)
        try:
            wait_until(lambda: what(store), timeout_s, "the gateway to store the test data", 0.2)
        except AssertionError as exc:
            # A session-long gateway that stops storing late in a full run: its log says why.
            log = self.data_dir / "gateway.log"
            tail = log.read_text(errors="replace").splitlines()[-25:] if log.exists() else []
            raise AssertionError("\n".join([str(exc), f"last lines of {log}:", *tail])) from None
        finally:
            store.close()


def _meta(name: str, lat: float, lon: float, tz: str, exposure: str = "outdoor") -> dict:
    return {"name": name, "lat": lat, "lon": lon, "elevation_m": 100, "timezone": tz,
            "exposure": exposure, "firmware": "1.0.0"}  # fmt: skip


@pytest.fixture(scope="session")
def chain() -> Iterator[Chain]:
    data_dir = Path(tempfile.mkdtemp(prefix="classnet-dash-"))
    mosquitto = servers.start_mosquitto(data_dir / "mosquitto")
    demo = Demo(data_dir=data_dir, stations=SCHOOLS, backfill_days=BACKFILL_DAYS)
    demo.broker_port = mosquitto.port
    try:
        demo.start_gateway()
        common = ["--broker", demo.broker_url, "--count", str(SCHOOLS),
                  "--towns", ",".join(TOWNS), "--interval", "300"]  # fmt: skip
        subprocess.run(
            classnet("simulate", *common, "--backfill", str(BACKFILL_DAYS)),
            check=True, cwd=ROOT, capture_output=True, timeout=120,
        )  # fmt: skip
        c = Chain(mosquitto.port, demo.store_url, [], data_dir)
        now = time.time()
        for station, meta in (
            (XSS_STATION, _meta(XSS_NAME, 60.2, 24.9, "Europe/Helsinki")),
            (INDOOR_STATION, _meta("Tampere room 12", 61.5, 23.8, "Europe/Helsinki", "indoor")),
            (FAULTY_STATION, _meta("Faulty sensor school", 14.6, 121.0, "Asia/Manila")),
        ):
            c.publish(station, "meta", meta, retain=True)
            c.publish(station, "status", {"state": "online"}, retain=True)
        c.publish(
            XSS_STATION,
            "obs",
            [
                {
                    "ts": now - 600 + 60 * i,
                    "temp_c": 4.0 + i / 10,
                    "rh_pct": 80,
                    "pressure_hpa": 1000,
                }
                for i in range(10)
            ],
        )
        c.publish(INDOOR_STATION, "obs", [{"ts": now - 3600 + 300 * i, "co2_ppm": 600 + 100 * i,
                                           "temp_c": 21.5, "rh_pct": 40, "pm2_5_ugm3": 5}
                                          for i in range(12)])  # fmt: skip
        c.publish(FAULTY_STATION, "obs", {"ts": now - 60, "temp_c": 71.2, "rh_pct": 70})
        c.publish(FAULTY_STATION, "obs", b"temp=21.5<br>")  # not JSON: a dead letter
        made = {XSS_STATION, INDOOR_STATION, FAULTY_STATION}
        c.wait_stored(
            lambda s: (
                made <= set(s.stations().index)
                and len(s.read(_ago(700), _ago(-60), [XSS_STATION])) >= 10
            )
        )
        store = open_store(demo.store_url)
        c.stations = sorted(store.stations().index)
        store.close()
        yield c
    finally:
        demo.stop()
        mosquitto.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _ago(seconds: float) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(seconds=seconds)


@dataclass
class Dashboard:
    url: str
    proc: subprocess.Popen


@pytest.fixture(scope="session")
def dashboard(chain: Chain) -> Iterator[Dashboard]:
    port = free_port()
    log = (chain.data_dir / "dashboard.log").open("ab")
    proc = subprocess.Popen(
        classnet("dashboard", "--store", chain.store_url, "--port", str(port), "--refresh", "1"),
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, "classnet dashboard", timeout_s=30)
        yield Dashboard(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,900",
)


def start_browser(accept_languages: str | None = None) -> tuple[Any, str]:
    """Debian's headless Chromium under Selenium, with its own profile dir (returned), and with
    `accept_languages` as the reader's preference when given."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(binary).exists() or not Path(driver_path).exists():
        pytest.fail(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        )
    profile = tempfile.mkdtemp(prefix="classnet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if accept_languages:
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    return driver, profile


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    driver, profile = start_browser()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save what they saw: a temporary dir, or `--screenshots DIR` (the
    documented way to refresh docs/screenshots/)."""
    chosen = request.config.getoption("screenshots")
    if chosen:
        path = Path(chosen).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")
