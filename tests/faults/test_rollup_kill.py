"""SIGKILL the gateway while it writes raw rows and their 15-minute bins; the bins it leaves must
equal a rebuild from the raw rows (the two are one transaction), with every message delivered
again after each restart and part of the stream published twice."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.rollup import bins_from_obs
from ingest.sqlite import SQLiteStore
from tests import servers
from tests.faults.harness import GatewayProc, Publisher, observations, sqlite_count, wait_until
from tests.ingest.test_rollup import assert_bins_equal

pytestmark = pytest.mark.slow

N = 12_000
KILLS = 3
T0 = time.time() - 2 * 86400


def test_bins_equal_a_rebuild_after_sigkills(mosquitto: servers.Server, tmp_path: Path) -> None:
    rng = random.Random(int(time.time()))
    db = tmp_path / "obs.db"
    sent = observations(N, stations=40, t0=T0, prefix="fi-rollkill")
    messages = [(t, p) for t, p, _ in sent]
    # Redelivery the broker would do anyway, plus a publisher that sends a stretch again.
    messages += messages[N // 3 : N // 2]
    gateway = GatewayProc(
        mosquitto.port,
        f"sqlite:///{db}",
        tmp_path / "spool",
        "gw-rollkill",
        tmp_path / "gateway.log",
        extra=["--batch-size", "500", "--batch-ms", "200"],
    )
    gateway.start()
    publisher = Publisher(mosquitto.port, "pub-rollkill")
    try:
        publisher.publish_in_background(messages, rate=3000)
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 2.0))
            gateway.kill()
            gateway.start()
        publisher.wait_all(timeout=180)
        wait_until(lambda: sqlite_count(db) >= N, 300, f"{N} observations in the store", 0.5)
    finally:
        publisher.close()
        gateway.stop()
    store = SQLiteStore(db)
    start, end = datetime.fromtimestamp(T0 - 86400, UTC), datetime.now(UTC) + timedelta(hours=1)
    kept = store.read_bins(start, end, fields=["temp_c"])
    raw = store.read(start, end, fields=["temp_c"])
    assert len(raw) == N and kept["n_obs"].sum() == N
    assert_bins_equal(kept, bins_from_obs(raw, ["temp_c"]))
    store.rebuild_rollups()
    assert_bins_equal(store.read_bins(start, end, fields=["temp_c"]), kept)
    store.close()
