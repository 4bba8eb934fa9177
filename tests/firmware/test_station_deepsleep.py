"""Deep sleep end to end (issue 4): a battery station with `"deep_sleep": true` under the real
MicroPython unix port. On an ESP32 or a Pico W deep sleep ends in a reset: RAM is lost, the flash
(config.json, the outbox) is kept. The emulated board's deepsleep(ms) prints the time and exits;
the test sleeps that long and starts the firmware again on the same directory, as the wake."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path

import pytest

from firmware import config
from tests import servers
from tests.firmware.conftest import NTP_SKEW_S, unsent, write_board
from tests.firmware.test_station import observations
from tests.waiting import hold

INTERVAL_S = 2


def wake(start_station, fs: Path) -> str:
    """Boot the station, let it run until it deep-sleeps, check it asked to sleep for what
    remained of the interval (which starts at the boot's first reading, so the sleep is shorter
    than the interval by at most the time the station was awake), sleep that long, and return
    the station's output."""
    log = fs / "station.log"
    seen = len(log.read_text()) if log.exists() else 0
    started = time.monotonic()
    proc = start_station(fs)
    assert proc.proc.wait(30) == 0, proc.output()[seen:]
    awake_ms = (time.monotonic() - started) * 1000
    out = proc.output()[seen:]
    sleeps = re.findall(r"^deepsleep (\d+)$", out, re.M)
    assert len(sleeps) == 1, out
    sleep_ms = int(sleeps[0])
    assert 0 < INTERVAL_S * 1000 - sleep_ms <= awake_ms, (sleep_ms, awake_ms, out)
    hold(sleep_ms / 1000, "the board sleeps")
    return out


def sleepy_board(fs: Path, station: str, broker_port: int, ntp_port: int) -> None:
    # No rain gauge or anemometer: they count pulses, which a sleeping board cannot.
    sensors = [{"type": "bme280", "address": 0x76}, {"type": "vane", "pin": 34}]
    write_board(
        fs, station, broker_port, ntp_port, interval_s=INTERVAL_S, deep_sleep=True, sensors=sensors
    )


def assert_once_in_order_each_from_its_own_wake(obs: list[dict], wakes: int) -> None:
    assert len(obs) == wakes, obs
    assert all(o["seq"] == 0 for o in obs), "seq counts since boot, and every wake is a boot"
    assert not any(o["stamped"] for o in obs), "each wake asks NTP again: RAM lost the clock"
    ts = [o["ts"] for o in obs]
    assert all(abs(t - (time.time() + NTP_SKEW_S)) < 60 for t in ts), ts
    gaps = [b - a for a, b in itertools.pairwise(ts)]
    # whole-second stamps; a wake is the interval after the last one plus the boot time
    assert all(INTERVAL_S - 1 <= g <= INTERVAL_S + 1 for g in gaps), gaps


@pytest.mark.slow
def test_each_wake_reads_publishes_and_sleeps_what_remains_of_the_interval(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-deepsleep"
    fs = tmp_path / "fs"
    sleepy_board(fs, station, mosquitto.port, sntp.port)
    sub = subscribe(mosquitto.port, station)
    for n in range(1, 5):
        out = wake(start_station, fs)
        assert f"station {station} is online" in out, out
        sub.wait(lambda n=n: len(observations(sub, station)) == n)
        assert unsent(fs) == 0, "sent before sleeping"
    assert_once_in_order_each_from_its_own_wake(observations(sub, station), 4)
    assert {o["temp_c"] for o in observations(sub, station)} == {25.08}
    # Sleeping is a planned absence: the station says goodbye, so the broker does not publish
    # its last will and the dashboard does not show it offline between wakes.
    states = [p for t, p, _ in sub.messages if t.endswith("/status")]
    assert len(states) == 4 and all(json.loads(p)["state"] == "online" for p in states), states


@pytest.mark.slow
def test_readings_of_wakes_without_a_broker_wait_in_flash_and_all_arrive_once(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-deepsleep-outage"
    fs = tmp_path / "fs"
    sleepy_board(fs, station, mosquitto.port, sntp.port)
    sub = subscribe(mosquitto.port, station)
    wake(start_station, fs)
    sub.wait(lambda: len(observations(sub, station)) == 1)
    mosquitto.stop()
    for n in range(1, 4):
        out = wake(start_station, fs)
        assert f"error broker: cannot reach the broker at 127.0.0.1:{mosquitto.port}" in out
        assert unsent(fs) == n, "each wake's reading kept in the outbox across sleeps"
    restarted = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
    try:
        sub.wait_ready()
        wake(start_station, fs)  # sends the backlog, then its own reading, before sleeping
        sub.wait(lambda: len(observations(sub, station)) >= 5)
        hold(0.5, "anything sent twice would arrive now")
        assert_once_in_order_each_from_its_own_wake(observations(sub, station), 5)
        assert unsent(fs) == 0
    finally:
        restarted.stop()


def test_config_refuses_deep_sleep_with_sensors_that_count_pulses() -> None:
    doc = {"station": "fi-x-01", "wifi": {"ssid": "s"}, "broker": {"host": "h"}}
    doc["sensors"] = [{"type": "bme280"}, {"type": "rain", "pin": 27}]
    config.validate(doc)
    with pytest.raises(config.ConfigError) as caught:
        config.validate({**doc, "deep_sleep": True})
    assert (
        "deep_sleep: sensor 2 (rain) counts pulses only while the station is awake, so it "
        "would report 0 after every sleep" in str(caught.value)
    )
