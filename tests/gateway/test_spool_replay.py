"""A batch the store refuses for good is kept in the spool's refused/ folder with the store's
reason, `classnet spool` shows it, and `classnet spool --replay` stores it once the cause is
fixed: real Mosquitto, real gateway, real InfluxDB 1.6 refusing with a field type conflict."""

from __future__ import annotations

import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware import wire
from gateway import cli
from gateway.spool import REFUSED, set_aside_batches
from ingest import open_store
from tests import servers
from tests.gateway.chain import start_gateway
from tests.mqtt_clients import publish
from tests.waiting import wait_until

STATION = "fi-spool-01"
T0 = time.time() - 3600


def influx_write(port: int, db: str, line: str) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/write?db={db}&precision=ms", line.encode()
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204


def test_refused_batch_is_kept_shown_and_replayed(
    mosquitto: servers.Server,
    influxdb: servers.Server,
    influx_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    # Someone wrote temp_c as text into this shard: InfluxDB now answers every float temp_c in
    # it with 400 "field type conflict", which no retry can fix.
    influx_write(
        influxdb.port, influx_db, f'obs,station=fi-other-01 temp_c="warm" {int(T0 * 1000)}'
    )
    spool_dir = tmp_path / "spool"
    store = open_store(url)
    gateway = start_gateway(mosquitto.port, store, spool_dir, batch_ms=200)
    try:
        # One message (a station's backlog flush) is always one batch: the gateway cuts a batch
        # whenever its writer is free, so 30 single messages could be several.
        backlog = [wire.observation(T0 + i * 60, seq=i, temp_c=20 + i / 10) for i in range(30)]
        publish(mosquitto.port, [(wire.topic(STATION, "obs"), wire.encode(backlog))])
        wait_until(lambda: set_aside_batches(spool_dir), what="a batch in refused/")
        # Every point refused: the store is at fault, the batch is kept whole and counted.
        wait_until(lambda: gateway.metrics.spool_refused._value.get() == 1, what="the gauge")
    finally:
        gateway.stop()

    [item] = set_aside_batches(spool_dir)
    assert "field type conflict" in item.why
    assert cli.main(["spool", "--spool-dir", str(spool_dir)]) == 0
    shown = capsys.readouterr().out
    assert "0 batches (0 bytes) waiting to drain" in shown
    assert f"1 refused by the store, in {spool_dir / REFUSED}" in shown
    assert item.path.name in shown and "field type conflict" in shown
    assert "classnet spool --replay" in shown

    # Not fixed yet: the replay says so, names the file, and keeps it.
    assert cli.main(["spool", "--spool-dir", str(spool_dir), "--replay", "--store", url]) == 3
    err = capsys.readouterr().err
    assert item.path.name in err and "still refuses" in err
    assert set_aside_batches(spool_dir) == [item]

    servers.influx_query(influxdb.port, "DROP MEASUREMENT obs", db=influx_db)  # the fix
    assert cli.main(["spool", "--spool-dir", str(spool_dir), "--replay", "--store", url]) == 0
    assert "replayed 1 batches (30 observations)" in capsys.readouterr().out
    assert set_aside_batches(spool_dir) == []
    start = datetime.fromtimestamp(T0 - 10, UTC)
    frame = store.read(start, datetime.now(UTC) + timedelta(minutes=5), stations=[STATION])
    assert frame["temp_c"].round(1).tolist() == [round(20 + i / 10, 1) for i in range(30)]
    store.close()
