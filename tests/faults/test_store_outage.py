"""InfluxDB stopped for 60 s under a steady load, then started again on the same port and data
directory: the gateway spools what it cannot write (and keeps acknowledging, because a spooled
batch is safe), then drains the spool in order once the store is back. Exact count and identity
afterwards. This test has its own InfluxDB (the session's shared one cannot be stopped)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import servers
from tests.faults.harness import (
    GatewayProc,
    Publisher,
    influx_count,
    influx_identities,
    observations,
    report,
    wait_until,
)
from tests.waiting import hold

pytestmark = pytest.mark.slow

OUTAGE_S = 60.0
RATE = 300  # observations per second, each its own message, from 100 stations
T0 = time.time() - 86400


def test_influxdb_down_for_60_s_spools_then_drains_exactly(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    influx = servers.start_influxdb(tmp_path / "influx")
    port = influx.port
    servers.influx_query(port, "CREATE DATABASE classnet")
    n = int(RATE * (OUTAGE_S + 12))
    sent = observations(n, stations=100, t0=T0, prefix="de-outage")
    gateway = GatewayProc(
        mosquitto.port,
        f"influxdb://127.0.0.1:{port}/classnet",
        tmp_path / "spool",
        "gw-outage",
        tmp_path / "gateway.log",
        extra=["--batch-ms", "500"],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-outage")
    try:
        publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=RATE)
        wait_until(lambda: influx_count(port, "classnet") > 0, 60, "the first stored batch")
        influx.stop()
        down_at = time.monotonic()
        spool_peak = (0.0, 0.0)
        unacked_peak = 0
        while time.monotonic() - down_at < OUTAGE_S:
            m = gateway.metrics()
            spool_peak = max(spool_peak, (m["classnet_spool_batches"], m["classnet_spool_bytes"]))
            unacked_peak = max(unacked_peak, publisher.unacked())
            hold(0.5, "sample the spool through the outage")
        published_during = publisher.sent
        influx = servers.start_influxdb(tmp_path / "influx", port=port)
        up_at = time.monotonic()
        publisher.wait_all(timeout=120)
        drained = wait_until(
            lambda: (
                gateway.metric("classnet_spool_batches") == 0
                and influx_count(port, "classnet") >= n
            ),
            240,
            "the spool to drain into InfluxDB",
            0.5,
        )
        hold(1.0, "anything still arriving would be a duplicate")
        stored = influx_identities(port, "classnet")
        log = gateway.log_text()
    finally:
        publisher.close()
        gateway.stop()
        influx.stop()
    report(
        f"InfluxDB outage: {OUTAGE_S:.0f} s down at {RATE} obs/s; {published_during} published by "
        f"the end of the outage; spool peak {spool_peak[0]:.0f} batches / "
        f"{spool_peak[1] / 1e6:.1f} MB; publisher's unacked peak {unacked_peak}"
    )
    report(
        f"  store back after {up_at - down_at:.1f} s; spool drained and all {n} stored "
        f"{drained:.1f} s later; stored {len(stored)} points, {len(set(stored))} distinct"
    )
    assert spool_peak[0] > 0, "nothing was spooled: the outage did not bite"
    assert "spool drained" in log
    assert len(stored) == len(set(stored)) == n
    assert set(stored) == {identity for _, _, identity in sent}
