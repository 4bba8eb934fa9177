"""A slow store: every write delayed. The gateway must not buffer the backlog in its own memory:
its writer queue is bounded (4 batches), so the MQTT network thread waits, stops reading the
socket, and the backlog stays with the broker (which is built to hold it). Nothing is dropped.

The slow store is the real InfluxDB behind a small HTTP proxy on loopback that holds every
`/write` request for `DELAY_S` before forwarding it (queries pass straight through). A proxy
rather than a SQLite file locked by another process, because a lock does not make writes slow:
it makes them fail after the busy timeout, and the gateway then spools them (the outage tests
cover that path). A delay is what an overloaded or distant InfluxDB (Cloud over a school's
uplink) looks like. After the slow phase the delay is lifted so the backlog drains within the
test's time budget.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from firmware import wire
from tests import servers
from tests.faults.harness import (
    GatewayProc,
    Publisher,
    influx_count,
    report,
    rss_mib,
    wait_until,
)
from tests.waiting import hold

pytestmark = pytest.mark.slow

DELAY_S = 1.0
SLOW_PHASE_S = 20.0
MESSAGES = 2000
PER_MESSAGE = 250  # a reconnecting station's backlog flush
STATIONS = 40
T0 = time.time() - 7 * 86400
GROWTH_BOUND_MIB = 16  # what the bounded queue allows, with room; the backlog is ~32 MB


class DelayingProxy:
    """HTTP proxy to one backend; each POST /write waits `delay` seconds first."""

    def __init__(self, backend_port: int) -> None:
        self.delay = DELAY_S
        self.writes = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.path.startswith("/write"):
                    proxy.writes += 1
                    hold(proxy.delay, "the slow store")
                conn = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_influx(influxdb: servers.Server, influx_db: str) -> Iterator[tuple[DelayingProxy, str]]:
    proxy = DelayingProxy(influxdb.port)
    yield proxy, influx_db
    proxy.close()


def backlog_messages(start: int, count: int) -> list[tuple[str, bytes]]:
    out = []
    for m in range(start, start + count):
        station = f"it-slow-{m % STATIONS:02d}"
        k0 = (m // STATIONS) * PER_MESSAGE
        body = json.dumps(
            [
                {"ts": T0 + (k0 + k) * 2, "seq": k0 + k, "temp_c": 18.5, "rh_pct": 61.0}
                for k in range(PER_MESSAGE)
            ],
            separators=(",", ":"),
        ).encode()
        out.append((wire.topic(station, "obs"), body))
    return out


def test_slow_store_keeps_memory_bounded_and_drops_nothing(
    mosquitto: servers.Server,
    influxdb: servers.Server,
    slow_influx: tuple[DelayingProxy, str],
    tmp_path: Path,
) -> None:
    proxy, db = slow_influx
    gateway = GatewayProc(
        mosquitto.port,
        f"influxdb://127.0.0.1:{proxy.port}/{db}",
        tmp_path / "spool",
        "gw-slow",
        tmp_path / "gateway.log",
        extra=["--batch-size", "2000", "--batch-ms", "500"],
    )
    gateway.start()
    warm = backlog_messages(0, 40)
    backlog = backlog_messages(40, MESSAGES - 40)
    n = MESSAGES * PER_MESSAGE
    backlog_mb = sum(len(p) for _, p in backlog) / 1e6
    publisher = Publisher(mosquitto.port, "pub-slow")
    try:
        # Warm up (imports, first batches) at full speed, then take the baseline.
        proxy.delay = 0.0
        publisher.publish(warm)
        wait_until(
            lambda: influx_count(influxdb.port, db) >= len(warm) * PER_MESSAGE, 60, "warm-up"
        )
        baseline = rss_mib(gateway.pid)
        broker_before = rss_mib(mosquitto.pid)
        proxy.delay = DELAY_S
        writes_before = proxy.writes
        publisher.publish(backlog)
        publisher.wait_all(timeout=120)  # the whole backlog is at the broker
        slow_started = time.monotonic()
        peak = baseline
        broker_peak = broker_before
        while time.monotonic() - slow_started < SLOW_PHASE_S:
            peak = max(peak, rss_mib(gateway.pid))
            broker_peak = max(broker_peak, rss_mib(mosquitto.pid))
            hold(0.2, "sample memory through the slow phase")
        stored_slow = influx_count(influxdb.port, db)
        slow_writes = proxy.writes - writes_before
        spool_batches = gateway.metric("classnet_spool_batches")
        proxy.delay = 0.0
        drained = wait_until(
            lambda: influx_count(influxdb.port, db) >= n, 240, f"all {n} stored", 0.5
        )
        hold(1.0, "anything still arriving would be a duplicate")
        per_station = servers.influx_query(
            influxdb.port, 'SELECT count("temp_c") FROM "obs" GROUP BY station', db
        )["results"][0]["series"]
        assert gateway.alive()
    finally:
        publisher.close()
        gateway.stop()
    counts = {s["tags"]["station"]: s["values"][0][1] for s in per_station}
    report(
        f"slow store: every /write held {DELAY_S:.1f} s for {SLOW_PHASE_S:.0f} s; backlog "
        f"{n - len(warm) * PER_MESSAGE} observations = {backlog_mb:.1f} MB of bodies at the broker"
    )
    report(
        f"  gateway RSS {baseline:.0f} MiB -> peak {peak:.0f} MiB (+{peak - baseline:.1f} MiB); "
        f"broker RSS {broker_before:.0f} -> {broker_peak:.0f} MiB; {slow_writes} slow writes "
        f"stored {stored_slow} observations; spool {spool_batches:.0f} batches"
    )
    report(f"  delay lifted: the rest drained in {drained:.1f} s; {sum(counts.values())} stored")
    assert peak - baseline < GROWTH_BOUND_MIB < backlog_mb
    assert stored_slow < n / 2, "the store was not slow enough for the backlog to build up"
    assert spool_batches == 0, "a slow store is not a failed one: nothing should be spooled"
    assert counts == {f"it-slow-{s:02d}": n // STATIONS for s in range(STATIONS)}
