"""`classnet demo` as a student runs it: one command, a URL, Ctrl-C, and a second run that
reuses the data."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.data import Data
from dashboard.demo import ROOT, classnet, free_port
from ingest import open_store
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _run_until(
    data_dir: Path, port: int, ready: Callable[[], bool], timeout_s: float
) -> tuple[str, set[int]]:
    proc = subprocess.Popen(
        classnet("demo", "--data-dir", str(data_dir), "--port", str(port)),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Dashboard: http://" in line:
                break

        def up() -> bool:
            assert proc.poll() is None, "".join(lines)
            return ready() and _listening(port)

        wait_until(up, timeout_s, "the demo to get ready:\n" + "".join(lines), every=0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
        children = _children(proc.pid)
        assert len(children) >= 3  # broker, gateway, simulator
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
    assert "ClassNet demo stopped." in rest
    return "".join(lines) + rest, children


def test_demo_runs_stops_and_reuses_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "classnet-data"
    url = f"sqlite:///{data_dir / 'classnet.db'}"

    def backfilled() -> bool:
        if not (data_dir / "classnet.db").exists():
            return False
        store = open_store(url)
        try:
            stations = store.stations()
            if len(stations) < 28 or set(stations["region"]) != {"asia", "europe"}:
                return False
            # 24 schools and 4 classroom monitors.
            return "simulated 28 stations" in (data_dir / "backfill.log").read_text()
        finally:
            store.close()

    out, children = _run_until(data_dir, free_port(), backfilled, timeout_s=240)
    assert "backfilling 7.00 days" in out and "mosquitto" in out
    assert not [pid for pid in children if _alive(pid)], "demo left processes running"
    # The Classrooms page has rooms to show: CO₂ from monitors in both Asia and Europe.
    store = open_store(url)
    rooms = Data(store).classrooms()["rooms"]
    assert len(rooms) == 4
    assert all(any(v is not None for v in room["co2_ppm"]) for room in rooms)
    # Over the backfilled week every room had lessons (the page's last day may be a weekend).
    week = store.read(
        datetime.now(UTC) - timedelta(days=7), datetime.now(UTC),
        stations=[room["station"] for room in rooms], fields=["co2_ppm"],
    )  # fmt: skip
    assert (week.groupby("station", observed=True)["co2_ppm"].max() > 800).sum() == 4
    regions = store.stations()["region"]
    assert {regions[room["station"]] for room in rooms} == {"asia", "europe"}
    store.close()

    out, children = _run_until(data_dir, free_port(), lambda: True, timeout_s=60)
    assert re.search(r"reusing stored data, backfilling 0\.\d+ days", out), out
    assert not [pid for pid in children if _alive(pid)]


def test_amqtt_broker_when_mosquitto_is_missing(tmp_path: Path) -> None:
    """The pure-Python broker the demo falls back to carries the chain end to end."""
    import json

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from dashboard.demo import Demo

    demo = Demo(data_dir=tmp_path, broker="amqtt")
    try:
        assert demo.start_broker() == "amqtt"
        demo.start_gateway()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-amqtt")
        client.connect("127.0.0.1", demo.broker_port)
        client.loop_start()
        meta = {"name": "A", "lat": 60.2, "lon": 24.9, "timezone": "Europe/Helsinki"}
        client.publish("classnet/v1/fi-amqtt-01/meta", json.dumps(meta), qos=1, retain=True)
        obs = {"ts": time.time(), "temp_c": 5.5}
        client.publish("classnet/v1/fi-amqtt-01/obs", json.dumps(obs), qos=1).wait_for_publish(10)
        client.loop_stop()
        client.disconnect()

        def registered() -> bool:
            store = open_store(demo.store_url)
            try:
                return "fi-amqtt-01" in store.stations().index
            finally:
                store.close()

        wait_until(registered, 30, "fi-amqtt-01 in the store (see gateway.log)", every=0.3)
    finally:
        demo.stop()
    assert all(proc.poll() is not None for _, proc in demo.procs) and not demo.procs
