"""Two gateways in one shared-subscription group (`--share-group`) on one Mosquitto, writing to
one InfluxDB: the broker splits the observations between them; one is SIGKILLed mid-stream.

What Mosquitto 2.0.11 does then (measured here, printed): a shared subscription keeps the killed
gateway's persistent session in the group, so the broker goes on handing that member its share
of new messages and queues them for it, and the messages in flight to it when it died stay in its
session too. Neither goes to the surviving member. The survivor carries on with its own share;
the dead member's share waits at the broker (nothing is lost) until that gateway comes back with
the same client id, i.e. the same command line. So in production each gateway must be restarted
by its supervisor (systemd `Restart=always`); docs/operations.md says so. The test restarts the
killed gateway with its own command line and then requires every observation exactly once.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import open_store, rollup
from ingest.influx import InfluxStore
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
from tests.ingest.bins import assert_same_bins, influx_rolled, whole
from tests.waiting import hold

pytestmark = pytest.mark.slow

N = 30_000
RATE = 2500
T0 = time.time() - 86400
STORED = "classnet_stored_observations_total"
EVER = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def test_two_gateways_split_the_load_and_survive_one_being_killed(
    mosquitto: servers.Server, influxdb: servers.Server, influx_db: str, tmp_path: Path
) -> None:
    store = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    gateways = [
        GatewayProc(
            mosquitto.port,
            store,
            tmp_path / f"spool-{name}",
            None,  # the same command line but for the spool dir: ids derived, and distinct
            tmp_path / f"gateway-{name}.log",
            # Rolls every 31 s, past the 30 s InfluxDB's bin marks take to settle.
            extra=["--share-group", "classnet", "--batch-ms", "300", "--roll-every", "31"],
        )
        for name in ("a", "b")
    ]
    for g in gateways:
        g.start()
    a, b = gateways
    ids = [re.search(r"gateway (classnet-gw-\w+)", g.log_text()).group(1) for g in gateways]  # type: ignore[union-attr]
    sent = observations(N, stations=100, t0=T0, prefix="pl-share")
    publisher = Publisher(mosquitto.port, "pub-share")
    try:
        publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=RATE)
        wait_until(lambda: a.metric(STORED) > 2000 and b.metric(STORED) > 2000, 60, "both")
        a_before, b_before = a.metric(STORED), b.metric(STORED)
        a.kill()
        killed_at = publisher.sent
        publisher.wait_all(timeout=120)
        # The survivor stores its share of the rest, then nothing more arrives for it.
        wait_until(
            lambda: b.metric('classnet_received_messages_total{kind="obs"}') > 0 and _settled(b),
            120,
            "the surviving gateway to go idle",
            0.5,
        )
        b_alone = b.metric(STORED)
        stored_without_a = influx_count(influxdb.port, influx_db)
        a.start()  # same command line: same client id, same session
        took = wait_until(
            lambda: influx_count(influxdb.port, influx_db) >= N, 120, f"all {N} stored", 0.5
        )
        hold(1.0, "anything still arriving would be a duplicate")
        a_after = a.metric(STORED)
        stored = influx_identities(influxdb.port, influx_db)
        a_log = a.log_text()
        # Both gateways roll the bins of what either wrote (ingest/influx_bins.py).
        reader = open_store(store, read_only=True)
        assert isinstance(reader, InfluxStore)
        wait_until(lambda: influx_rolled(reader), 150, "the gateways' bins up to date", 1.0)
        kept = reader.read_bins(*EVER, None, rollup.FIELDS)
        raw = whole(reader.read(*EVER), rollup.FIELDS)
        reader.close()
    finally:
        publisher.close()
        for g in gateways:
            g.stop()
    report(
        f"share group: 2 gateways ({ids[0]}, {ids[1]}), {N} observations at {RATE}/s; "
        f"before the kill A stored {a_before:.0f}, B {b_before:.0f}"
    )
    report(
        f"  A SIGKILLed after {killed_at} published; B went on and stored {b_alone:.0f} in all; "
        f"the store held {stored_without_a} of {N} with A dead: {N - stored_without_a} waited "
        f"in A's session at the broker (Mosquitto 2.0.11 keeps the dead member in the group)"
    )
    report(
        f"  A restarted with the same command line: session resumed, it stored {a_after:.0f}; "
        f"all {N} stored {took:.1f} s after the restart; {len(stored)} points"
    )
    assert ids[0] != ids[1], "two gateways of a group must not share a client id"
    assert a_before > 0 and b_before > 0, "the broker did not split the load"
    assert b_alone > b_before, "the surviving gateway stopped"
    assert "session resumed" in a_log.split("--- start 1 ---")[1]
    assert len(stored) == len(set(stored)) == N
    assert set(stored) == {identity for _, _, identity in sent}
    assert_same_bins(kept, raw)


def _settled(g: GatewayProc, quiet_s: float = 3.0) -> bool:
    """No new observations received for `quiet_s`."""
    first = g.metric('classnet_received_messages_total{kind="obs"}')
    hold(quiet_s, "a quiet period")
    return g.metric('classnet_received_messages_total{kind="obs"}') == first
