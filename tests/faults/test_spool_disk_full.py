"""The spool's disk fills up while the store is down: the gateway stops acknowledging (the broker
keeps the rest), says so in its log and in `/metrics` (`classnet_spool_full 1`) and `/healthz`
(503), then resumes by itself once the store is back and the spool drains. Nothing is lost.

The full disk is real: a 1 MiB tmpfs mounted on the spool directory (this test runs as root, as
CI does here), with `--spool-max` left at its default of 1 GiB, so what stops the spool is the
kernel's ENOSPC, not the gateway's own bound. Where mounting is not allowed the test falls back to
a tiny `--spool-max` on an ordinary directory and prints that it did; that path exercises the
gateway's bound, not a full disk.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
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

N = 20_000
T0 = time.time() - 86400


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """(spool directory, True if it is a real 1 MiB file system)."""
    spool = tmp_path / "spool"
    spool.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(spool)],
            capture_output=True,
        ).returncode
        == 0
    )
    yield spool, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(spool)], check=False)


def test_full_spool_disk_stops_acking_says_so_then_resumes(
    mosquitto: servers.Server, tmp_path: Path, small_disk: tuple[Path, bool]
) -> None:
    spool, mounted = small_disk
    port = servers.free_port()  # InfluxDB starts here later; for now nothing listens
    sent = observations(N, stations=50, t0=T0, prefix="se-diskfull")
    gateway = GatewayProc(
        mosquitto.port,
        f"influxdb://127.0.0.1:{port}/classnet",
        spool,
        "gw-diskfull",
        tmp_path / "gateway.log",
        extra=["--batch-size", "1000", "--batch-ms", "200"]
        + ([] if mounted else ["--spool-max", "600KiB"]),
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-diskfull")
    influx = None
    try:
        publisher.publish(t_p[:2] for t_p in sent)
        publisher.wait_all(timeout=60)  # the broker has them all; the gateway cannot store them
        wait_until(lambda: gateway.metric("classnet_spool_full") == 1.0, 60, "/metrics to say full")
        status, health = gateway.http("/healthz")
        full_at = gateway.metrics()
        hold(2.0, "stays full and keeps running: no more acks, no crash")
        assert gateway.alive()
        log_full = gateway.log_text()
        influx = servers.start_influxdb(tmp_path / "influx", port=port)
        servers.influx_query(port, "CREATE DATABASE classnet")
        back = time.monotonic()
        took = wait_until(
            lambda: influx_count(port, "classnet") >= N, 240, f"all {N} in InfluxDB", 0.5
        )
        wait_until(lambda: gateway.metric("classnet_spool_full") == 0.0, 30, "full to clear")
        status_after, _ = gateway.http("/healthz")
        stored = influx_identities(port, "classnet")
        resumed_s = time.monotonic() - back
    finally:
        publisher.close()
        gateway.stop()
        if influx is not None:
            influx.stop()
    report(
        f"spool disk full ({'1 MiB tmpfs, ENOSPC' if mounted else '--spool-max 600KiB (no mount)'}"
        f"): spool held {full_at['classnet_spool_batches']:.0f} batches / "
        f"{full_at['classnet_spool_bytes'] / 1024:.0f} KiB when it refused; "
        f"/healthz {status}: {health.strip()}"
    )
    report(f"  store back: all {N} stored after {took:.1f} s; /healthz {status_after} again")
    # Only a few batches fit on the disk; the rest reached the store, so the broker kept them.
    assert full_at["classnet_spool_batches"] * 1000 < N / 2
    assert status == 503 and "spool full" in health
    assert "not acknowledging" in log_full
    if mounted:
        assert "No space left on device" in log_full
    assert status_after == 200 and resumed_s < 240
    assert len(stored) == len(set(stored)) == N
    assert set(stored) == {identity for _, _, identity in sent}
