"""SIGKILL the gateway at random moments during a 50,000-observation stream; restart it each time.

What makes this safe is the chain of guarantees in docs/gateway.md: the gateway acks a message
only after its batch is committed (SQLite, synchronous=FULL) or fsync'd into the spool; a kill
leaves everything else unacked in the broker's copy of the persistent session, which the restarted
gateway (same client id) resumes and receives again; writing an observation twice leaves one row
(primary key (station, ts_ms)). So after any number of kills the store must hold exactly the
observations published: none missing, none extra. The 15-minute bins it keeps beside them
(ingest/sqlite_bins.py: marks written with the rows, rolled in transactions of their own) must
equal those computed from the rows.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import influx_bins, open_store, rollup
from ingest.influx import InfluxStore
from ingest.sqlite import SQLiteStore
from tests import servers
from tests.faults.harness import (
    GatewayProc,
    Publisher,
    influx_count,
    influx_identities,
    observations,
    report,
    sqlite_count,
    sqlite_identities,
    sqlite_marked,
    wait_until,
)
from tests.ingest.bins import assert_same_bins, influx_rolled, whole
from tests.waiting import hold

pytestmark = pytest.mark.slow

N = 50_000
KILLS = 6
T0 = time.time() - 2 * 86400  # inside the contract's window, a second apart per station

EVER = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    db = tmp_path / "obs.db"
    sent = observations(N, stations=200, t0=T0)
    gateway = GatewayProc(
        mosquitto.port,
        f"sqlite:///{db}",
        tmp_path / "spool",
        "gw-kill",
        tmp_path / "gateway.log",
        extra=["--batch-size", "1000", "--batch-ms", "200", "--roll-every", "2"],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-kill")
    started = time.monotonic()
    try:
        publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=3000)
        kills = []
        for _ in range(KILLS):
            # Random moments: some while messages stream in, some during the backlog drain
            # after a restart, some in the middle of a batch write.
            hold(rng.uniform(0.2, 2.5), "the gateway runs a random while before the next kill")
            before = sqlite_count(db)
            gateway.kill()
            kills.append((round(time.monotonic() - started, 2), publisher.sent, before))
            gateway.start()
        publisher.wait_all(timeout=180)
        wait_until(lambda: sqlite_count(db) >= N, 300, f"{N} observations in the store", 0.5)
        hold(1.0, "anything still arriving would be a duplicate or an extra")
        elapsed = time.monotonic() - started
        stored = sqlite_identities(db)
        wait_until(lambda: sqlite_marked(db) == 0, 120, "the gateway's bins up to date", 0.5)
    finally:
        publisher.close()
        gateway.stop()
    expected = {identity for _, _, identity in sent}
    report(f"gateway SIGKILL: seed {seed}, {len(kills)} kills (s since start, published, stored):")
    for at, published, before in kills:
        report(f"  kill at {at:6.2f} s: {published:>6} published, {before:>6} stored")
    report(
        f"  published {N}, stored {len(stored)} rows, {len(set(stored))} distinct (station, ts);"
        f" {elapsed:.1f} s in all"
    )
    assert len(kills) >= 5
    assert len(stored) == len(set(stored)) == N
    missing = expected - set(stored)
    extra = set(stored) - expected
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} not published"
    # The bins the killed and restarted gateway kept equal the raw rows' and a rebuild's.
    store = SQLiteStore(db)
    kept = store.read_bins(EVER[0], EVER[1], None, rollup.FIELDS)
    assert_same_bins(kept, whole(store.read(*EVER), rollup.FIELDS))
    store.rebuild_bins()
    assert_same_bins(store.read_bins(EVER[0], EVER[1], None, rollup.FIELDS), kept)
    store.close()


def test_sigkill_on_influxdb_leaves_its_bins_equal_to_the_raw_rows(
    mosquitto: servers.Server, influxdb: servers.Server, influx_db: str, tmp_path: Path
) -> None:
    """The same kills with InfluxDB behind the gateway (ingest/influx_bins.py: a mark written
    after each batch's readings, before its ack; rolls that a kill leaves half done are done
    again). The rolls run every 31 s, just past the marks' 30 s to settle."""
    seed = int(time.time())
    rng = random.Random(seed)
    n = 20_000
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    sent = observations(n, stations=100, t0=T0)
    gateway = GatewayProc(
        mosquitto.port,
        url,
        tmp_path / "spool",
        "gw-kill-influx",
        tmp_path / "gateway.log",
        extra=["--batch-size", "1000", "--batch-ms", "200", "--roll-every", "31"],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-kill-influx")
    store = open_store(url, read_only=True)
    assert isinstance(store, InfluxStore)
    try:
        publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=2000)
        kills = 0
        for _ in range(4):
            hold(rng.uniform(0.5, 2.5), "the gateway runs a random while before the next kill")
            gateway.kill()
            kills += 1
            gateway.start()
        publisher.wait_all(timeout=180)
        port = influxdb.port
        wait_until(lambda: influx_count(port, influx_db) >= n, 300, f"{n} points", 0.5)
        stored = influx_identities(port, influx_db)
        wait_until(lambda: influx_rolled(store), 150, "the gateway's bins up to date", 1.0)
    finally:
        publisher.close()
        gateway.stop()
    report(f"gateway SIGKILL on InfluxDB: seed {seed}, {kills} kills, {len(stored)} points")
    assert len(stored) == len(set(stored)) == n
    # The roll is the gateway's (this reader computes nothing from raw rows), and equals them.
    assert store._bins.cursor() is not None
    kept = store.read_bins(EVER[0], EVER[1], None, rollup.FIELDS)
    assert_same_bins(kept, whole(store.read(*EVER), rollup.FIELDS))
    writer = open_store(url)
    assert isinstance(writer, InfluxStore)
    writer.rebuild_bins()
    assert_same_bins(writer.read_bins(EVER[0], EVER[1], None, rollup.FIELDS), kept)
    writer.close()
    store.close()
    assert influx_bins.SETTLE == "30s"  # what --roll-every 31 above is chosen against


def test_a_gateway_restarted_before_its_last_marks_settle_still_rolls_them(
    mosquitto: servers.Server, influxdb: servers.Server, influx_db: str, tmp_path: Path
) -> None:
    """A gateway stopped within 30 s of its last write (an update, a reboot) leaves marks that
    have not settled. Started again with nothing more to store, it rolls them all the same."""
    n = 600
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    sent = observations(n, stations=20, t0=T0)
    gateway = GatewayProc(
        mosquitto.port,
        url,
        tmp_path / "spool",
        "gw-settle",
        tmp_path / "gateway.log",
        extra=["--batch-ms", "200", "--roll-every", "31"],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-settle")
    store = open_store(url, read_only=True)
    assert isinstance(store, InfluxStore)
    try:
        publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=2000)
        publisher.wait_all(timeout=60)
        port = influxdb.port
        wait_until(lambda: influx_count(port, influx_db) >= n, 60, f"{n} points", 0.2)
        gateway.stop()  # seconds after its last write: no roll has taken those marks
        assert store._bins.cursor() is None
        gateway.start()
        wait_until(lambda: influx_rolled(store), 120, "the last run's marks rolled", 1.0)
    finally:
        publisher.close()
        gateway.stop()
        store.close()
