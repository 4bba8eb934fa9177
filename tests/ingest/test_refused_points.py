"""Points InfluxDB refuses for good, on a real InfluxDB 1.x: the rest of the batch and every
station's registry are stored, the refused points dead-lettered with the store's reason, and the
gateway's counters say what happened."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from firmware import wire
from gateway.decode_batch import decode_messages
from ingest import open_store
from ingest.domain.contract import Reason
from tests import servers
from tests.gateway.chain import start_gateway
from tests.mqtt_clients import publish
from tests.waiting import wait_until

STATIONS = [f"fi-keep-{i:02d}" for i in range(8)]
OLD = "ph-old-01"


def _obs(station: str, ts: float, seq: int, **values: float) -> tuple[str, bytes]:
    return wire.topic(station, "obs"), wire.encode(wire.observation(ts, seq=seq, **values))


def test_retention_policy_refuses_old_points_not_the_batch(
    mosquitto: servers.Server, influxdb: servers.Server, influx_db: str, tmp_path: Path
) -> None:
    # The policy docs/operations.md recommends, an hour long here.
    servers.influx_query(
        influxdb.port,
        f'CREATE RETENTION POLICY "hour" ON "{influx_db}" DURATION 1h REPLICATION 1 DEFAULT',
    )
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    gateway = start_gateway(mosquitto.port, open_store(url), tmp_path / "spool", batch_ms=100)
    now = time.time()
    rounds = 5
    try:
        for r in range(rounds):  # one batch each: valid readings and one stamped 3 h ago
            batch = [_obs(s, now - 600 + r, r, temp_c=20.0) for s in STATIONS]
            publish(mosquitto.port, [*batch, _obs(OLD, now - 3 * 3600 + r, r, temp_c=30.0)])
            stored = (r + 1) * len(STATIONS)
            wait_until(lambda n=stored: gateway.metrics.stored._value.get() >= n, what="a batch")
        refused = gateway.metrics.rejected.labels(Reason.STORE_REFUSED)
        wait_until(lambda: refused._value.get() >= rounds, what="the old points counted")
        assert gateway.metrics.stored._value.get() == rounds * len(STATIONS)
        assert refused._value.get() == rounds
        assert gateway.metrics.store_errors._value.get() == 0
        assert gateway.metrics.spool_refused._value.get() == 0
        assert not list((tmp_path / "spool").rglob("*.batch"))  # nothing set aside
    finally:
        gateway.stop()
    reader = open_store(url)
    try:
        frame = reader.read(
            datetime.fromtimestamp(now - 4 * 3600, UTC), datetime.now(UTC) + timedelta(minutes=1)
        )
        assert sorted(set(frame["station"])) == STATIONS
        assert len(frame) == rounds * len(STATIONS)
        seen = reader.stations()["last_seen"]
        for station in STATIONS:  # every station shown as heard from, none offline for this
            assert seen[station] >= pd.Timestamp(now - 600, unit="s", tz="UTC")
        dead = reader.rejects(OLD)
        assert len(dead) == rounds and set(dead["reason"]) == {Reason.STORE_REFUSED}
        assert dead["detail"].str.contains("retention policy hour").all()
        assert dead["payload"].str.contains('"temp_c": 30.0').all()  # what the station sent
    finally:
        reader.close()


def test_a_field_type_conflict_refuses_only_the_points_that_carry_the_field(
    influxdb: servers.Server, influx_db: str
) -> None:
    # Someone wrote text into uv_index: InfluxDB now refuses any number for it in this shard.
    now = time.time()
    line = f'obs,station=xx-someone uv_index="high" {int(now * 1e9)}'
    servers_write(influxdb.port, influx_db, line)
    messages = [_obs(s, now - 60, 1, temp_c=20.0) for s in STATIONS]
    messages.insert(3, _obs(OLD, now - 60, 1, temp_c=21.0, uv_index=5.0))
    batch = decode_messages(messages, now, int(now * 1000)).batch
    store = open_store(f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}")
    try:
        store.write(batch)
        assert len(batch) == len(STATIONS)  # what was stored
        frame = store.read(
            datetime.fromtimestamp(now - 120, UTC),
            datetime.now(UTC) + timedelta(minutes=1),
            fields=["temp_c"],  # uv_index now holds text, which no reader can take as a number
        )
        assert sorted(set(frame["station"])) == STATIONS
        dead = store.rejects(OLD)
        assert len(dead) == 1 and "field type conflict" in dead["detail"].iloc[0]
        assert OLD in store.stations().index  # its registry entry written with the rest
    finally:
        store.close()


def servers_write(port: int, db: str, line: str) -> None:
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/write?db={db}", data=line.encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204
