"""100,000 generated hostile and broken messages (tests/fuzz/generate.py: random bytes, deep
nesting, huge arrays, NaN/Infinity, wrong types, out-of-range values, oversized bodies, unicode
in ids and field names, bad status and meta), with valid observations mixed in, published to a
real Mosquitto at a real `classnet gateway` writing to SQLite.

The gateway must never crash or stall; every reject must be counted by reason, in `/metrics` and
in the store's reject counts, exactly as the contract (decoding each message on its own in this
process) says; every valid observation must land, and nothing else on the valid stations.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from firmware import wire
from tests import servers
from tests.faults.harness import (
    GatewayProc,
    Publisher,
    report,
    wait_until,
)
from tests.fuzz.generate import expected_rejects, generate

pytestmark = pytest.mark.slow

TOTAL = 100_000
WHOLE_MESSAGE = {
    "bad_topic",
    "too_large",
    "empty",
    "not_utf8",
    "bad_json",
    "not_object",
    "too_many_observations",
    "station_mismatch",
    "bad_state",
    "decode_error",
}
SEED = 20251123


def test_hostile_stream_never_stops_the_gateway_and_is_counted(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    now = time.time()
    made = time.monotonic()
    fuzz = generate(TOTAL, SEED, now)
    expected, distinct_whole = expected_rejects(fuzz.messages, now)
    generated_s = time.monotonic() - made
    db = tmp_path / "obs.db"
    # Room for every dead letter (the default keeps 1,000 per station): each is checked below.
    gateway = GatewayProc(
        mosquitto.port,
        f"sqlite:///{db}",
        tmp_path / "spool",
        "gw-fuzz",
        tmp_path / "gw.log",
        extra=["--dead-letters", str(TOTAL)],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-fuzz")
    started = time.monotonic()
    try:
        publisher.publish(fuzz.messages)
        publisher.wait_all(timeout=300)
        published_s = time.monotonic() - started
        wait_until(
            lambda: (
                gateway.metric('classnet_received_messages_total{kind="obs"}')
                + gateway.metric('classnet_received_messages_total{kind="status"}')
                + gateway.metric('classnet_received_messages_total{kind="meta"}')
                >= TOTAL
            ),
            300,
            f"the gateway to receive all {TOTAL} messages",
            0.5,
        )
        processed_s = time.monotonic() - started
        # Not stalled: fresh valid observations still go through at once.
        probe = [
            (wire.topic("kr-probe-01", "obs"), wire.encode(wire.observation(now - 30 + i)))
            for i in range(10)
        ]
        publisher.publish(probe)
        probe_s = wait_until(lambda: _count(db, "kr-probe-01") == 10, 60, "the probe")
        metrics = gateway.metrics()
        health, _ = gateway.http("/healthz")
        alive = gateway.alive()
        log = gateway.log_text()
    finally:
        publisher.close()
        gateway.stop()
    rejected_metrics = {
        name.split('"')[1]: int(v)
        for name, v in metrics.items()
        if name.startswith("classnet_rejected_total{")
    }
    db_conn = sqlite3.connect(db)
    stored_counts = dict(
        db_conn.execute("SELECT reason, sum(count) FROM reject_counts GROUP BY reason").fetchall()
    )
    valid_rows = set(
        db_conn.execute("SELECT station, ts_ms FROM obs WHERE station LIKE 'kr-valid-%'")
    )
    dead_letters = db_conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    db_conn.close()
    received = {
        kind: int(metrics.get(f'classnet_received_messages_total{{kind="{kind}"}}', 0))
        for kind in wire.KINDS
    }

    report(
        f"fuzz: {TOTAL} messages (seed {SEED}; generated and checked in {generated_s:.1f} s), "
        f"{sum(len(p) for _, p in fuzz.messages) / 1e6:.1f} MB"
    )
    report("  generated: " + ", ".join(f"{k} {n}" for k, n in sorted(fuzz.kinds.items())))
    report(
        f"  published in {published_s:.1f} s, all received and decoded in {processed_s:.1f} s "
        f"({TOTAL / processed_s:,.0f} msg/s); probe through in {probe_s:.1f} s; /healthz {health}"
    )
    report(
        f"  received by kind {received}; {len(fuzz.valid)} valid observations, "
        f"{len(valid_rows)} stored; {dead_letters} dead-letter rows "
        f"({distinct_whole} distinct bodies rejected whole)"
    )
    report(f"  {'reason':<22} {'expected':>9} {'/metrics':>9} {'store':>9}")
    for reason in sorted(set(expected) | set(rejected_metrics) | set(stored_counts)):
        report(
            f"  {reason:<22} {expected.get(reason, 0):>9} {rejected_metrics.get(reason, 0):>9}"
            f" {stored_counts.get(reason, 0):>9}"
        )
    assert alive and health == 200
    assert "Traceback" not in log, "the gateway logged an exception"
    assert received == dict(fuzz.received) | {"obs": fuzz.received["obs"] + len(probe)}
    assert rejected_metrics == dict(expected)
    assert stored_counts == dict(expected)
    assert valid_rows == fuzz.valid
    # Every rejected message is kept as a dead letter; only a byte-identical body from the same
    # station, rejected in the same batch for the same reason, is the same dead letter.
    whole = sum(n for reason, n in expected.items() if reason in WHOLE_MESSAGE)
    assert distinct_whole <= dead_letters <= whole


def _count(db: Path, station: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            conn.execute("SELECT count(*) FROM obs WHERE station = ?", [station]).fetchone()[0]
        )
    finally:
        conn.close()
