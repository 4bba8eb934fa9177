"""The real chain: Mosquitto → gateway → SQLite or InfluxDB 1.x (all real servers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware import wire
from gateway.service import Gateway
from ingest import open_store
from ingest.base import Store
from tests import servers
from tests.gateway.chain import start_gateway
from tests.mqtt_clients import publish
from tests.waiting import hold, wait_until

T0 = time.time() - 3600
START = datetime.fromtimestamp(T0 - 10, UTC)
END = datetime.now(UTC) + timedelta(minutes=5)


@pytest.fixture(params=["sqlite", "influxdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'obs.db'}"
    server = request.getfixturevalue("influxdb")
    db = request.getfixturevalue("influx_db")
    return f"influxdb://127.0.0.1:{server.port}/{db}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def obs_messages(n: int, stations: int = 10, start: float = T0) -> list[tuple[str, bytes]]:
    return [
        (
            wire.topic(f"fi-chain-{i % stations:02d}", "obs"),
            wire.encode(
                wire.observation(
                    start + i * 0.5, seq=i, temp_c=20 + i % 7, rh_pct=50.0, battery_v=3.9
                )
            ),
        )
        for i in range(n)
    ]


def stored(store_url: str) -> int:
    s = open_store(store_url)
    try:
        return len(s.read(START, END))
    finally:
        s.close()


def run_gateway(mosquitto: servers.Server, store_url: str, tmp_path: Path, **opts: int) -> Gateway:
    return start_gateway(mosquitto.port, open_store(store_url), tmp_path / "spool", **opts)


def test_n_published_are_n_stored(
    mosquitto: servers.Server, store_url: str, tmp_path: Path
) -> None:
    gateway = run_gateway(mosquitto, store_url, tmp_path, batch_size=500, batch_ms=200)
    try:
        publish(mosquitto.port, obs_messages(2000))
        wait_until(lambda: stored(store_url) >= 2000, what="2000 observations in the store")
        hold(0.5, "anything more arriving would be an extra")
        assert stored(store_url) == 2000
    finally:
        gateway.stop()
    s = open_store(store_url)
    frame = s.read(START, END, stations=["fi-chain-03"], fields=["temp_c"])
    s.close()
    assert list(frame.columns) == ["station", "time", "temp_c"]
    assert len(frame) == 200 and (frame["station"] == "fi-chain-03").all()
    assert frame["time"].is_monotonic_increasing


def test_the_same_observation_twice_is_one_point(
    mosquitto: servers.Server, store_url: str, tmp_path: Path
) -> None:
    gateway = run_gateway(mosquitto, store_url, tmp_path, batch_ms=100)
    try:
        messages = obs_messages(50)
        publish(mosquitto.port, messages)
        publish(mosquitto.port, messages[:20])  # a station resending after a lost PUBACK
        wait_until(lambda: gateway.metrics.received.labels("obs")._value.get() >= 70)
        hold(0.5, "a duplicate, if stored, would arrive now")
        assert stored(store_url) == 50
    finally:
        gateway.stop()


def test_invalid_fields_are_dropped_and_counted_the_rest_stored(
    mosquitto: servers.Server, store_url: str, tmp_path: Path
) -> None:
    station = "sg-chain-bad"
    good = [
        (wire.topic(station, "obs"), wire.encode(wire.observation(T0 + i, temp_c=25.0)))
        for i in range(20)
    ]
    bad_field = [
        (
            wire.topic(station, "obs"),
            json.dumps({"ts": T0 + 100 + i, "temp_c": 71.2, "rh_pct": 40}).encode(),
        )
        for i in range(10)
    ]
    bad_message = [(wire.topic(station, "obs"), b'{"ts": 17638')]
    gateway = run_gateway(mosquitto, store_url, tmp_path, batch_ms=100)
    try:
        publish(mosquitto.port, good + bad_field + bad_message)
        wait_until(lambda: gateway.metrics.received.labels("obs")._value.get() >= 31)
        wait_until(lambda: stored(store_url) >= 30, what="30 observations")
    finally:
        gateway.stop()
    s = open_store(store_url)
    try:
        frame = s.read(START, END, stations=[station], fields=["temp_c", "rh_pct"])
        assert len(frame) == 30
        assert frame["temp_c"].notna().sum() == 20 and frame["rh_pct"].notna().sum() == 10
        counts = s.reject_counts(station=station).set_index("reason")["count"].to_dict()
        assert counts == {"out_of_range": 10, "bad_json": 1}
        letters = s.rejects(station)
        assert list(letters["reason"]) == ["bad_json"]
        assert letters["payload"].iloc[0] == '{"ts": 17638'
    finally:
        s.close()
    assert gateway.metrics.rejected.labels("out_of_range")._value.get() == 10


def test_status_and_meta_update_the_registry(
    mosquitto: servers.Server, store_url: str, tmp_path: Path
) -> None:
    station = "ph-manila-01"
    meta = {
        "name": "Manila Science HS",
        "lat": 14.6,
        "lon": 121.0,
        "timezone": "Asia/Manila",
        "firmware": "1.2.0",
    }
    publish(mosquitto.port, [(wire.topic(station, "meta"), json.dumps(meta).encode())], retain=True)
    publish(mosquitto.port, [(wire.topic(station, "status"), b'{"state": "online"}')], retain=True)
    gateway = run_gateway(mosquitto, store_url, tmp_path, batch_ms=100)
    try:
        publish(
            mosquitto.port,
            [(wire.topic(station, "obs"), wire.encode(wire.observation(T0, battery_v=3.7)))],
        )
        wait_until(lambda: stored(store_url) >= 1)
        publish(
            mosquitto.port, [(wire.topic(station, "status"), b'{"state": "offline"}')], retain=True
        )
        hold(0.6, "the retained status reaches the gateway")
    finally:
        gateway.stop()
    s = open_store(store_url)
    try:
        row = s.stations().loc[station]
    finally:
        s.close()
    assert row["name"] == "Manila Science HS" and row["timezone"] == "Asia/Manila"
    assert (row["country"], row["region"]) == ("PH", "asia")
    assert row["state"] == "offline" and row["firmware"] == "1.2.0"
    assert row["battery_v"] == 3.7
    assert row["last_seen"] == datetime.fromtimestamp(round(T0 * 1000) / 1000, UTC)


@pytest.mark.slow
def test_a_paused_gateway_loses_nothing(mosquitto: servers.Server, tmp_path: Path) -> None:
    """More messages than Mosquitto's default max_queued_messages (1000) arrive while the gateway
    is down; its persistent session keeps them all, and it stores them all when it returns."""
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    gateway = run_gateway(mosquitto, url, tmp_path, batch_ms=100)
    publish(mosquitto.port, obs_messages(100))
    wait_until(lambda: stored(url) >= 100)
    gateway.stop()
    publish(mosquitto.port, obs_messages(3000, start=T0 + 100))
    gateway = run_gateway(mosquitto, url, tmp_path, batch_ms=100)
    try:
        wait_until(lambda: stored(url) >= 3100, what="the backlog to be stored")
        hold(0.5, "anything more arriving would be an extra")
        assert stored(url) == 3100
    finally:
        gateway.stop()


@pytest.mark.slow
def test_store_down_spools_then_drains_in_order(mosquitto: servers.Server, tmp_path: Path) -> None:
    port = servers.free_port()
    url = f"influxdb://127.0.0.1:{port}/classnet"
    gateway = run_gateway(mosquitto, url, tmp_path, batch_ms=100)
    try:
        publish(mosquitto.port, obs_messages(300))
        wait_until(lambda: len(gateway.spool) > 0, what="batches in the spool")
        influx = servers.start_influxdb(tmp_path / "influx", port=port)
        try:
            servers.influx_query(port, "CREATE DATABASE classnet")
            wait_until(lambda: len(gateway.spool) == 0, timeout=60, what="the spool to drain")
            assert stored(url) == 300
        finally:
            gateway.stop()
            influx.stop()
    finally:
        gateway.stop()


@pytest.mark.slow
def test_full_spool_stops_acking_so_the_broker_keeps_the_rest(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    down = f"influxdb://127.0.0.1:{servers.free_port()}/classnet"  # nothing listens there
    gateway = start_gateway(
        mosquitto.port,
        open_store(down),
        tmp_path / "spool",
        "gw-full",
        spool_max_bytes=1,
        batch_ms=100,
    )
    try:
        publish(mosquitto.port, obs_messages(50))
        wait_until(lambda: not gateway.health()[0], what="/healthz to report the full spool")
        assert "spool full" in gateway.health()[1] and len(gateway.spool) == 0
    finally:
        gateway.stop(timeout=5)
    # Same session, a store that works: everything is still at the broker.
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    gateway = start_gateway(
        mosquitto.port, open_store(url), tmp_path / "spool2", "gw-full", batch_ms=100
    )
    try:
        wait_until(lambda: stored(url) >= 50, what="the unacknowledged messages")
    finally:
        gateway.stop()
    assert stored(url) == 50
