"""The broker restarted under load (persistence on): publishers keep what the broker has not
acknowledged and resend it when they reconnect (as stations do, and as paho does with a
persistent session); Mosquitto writes its persistence file on a clean stop, so the gateway's
session (its queue of messages not yet acknowledged by the gateway) survives the restart; the
gateway reconnects with the same client id and receives them. Every observation arrives.

The restart is a clean one (SIGTERM, as `systemctl restart mosquitto` does). A broker killed
without warning loses what it acknowledged after its last autosave (`autosave_interval`): that is
a property of Mosquitto's periodic persistence, documented in docs/operations.md, not tested here.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import servers
from tests.faults.harness import (
    GatewayProc,
    Publisher,
    observations,
    report,
    sqlite_count,
    sqlite_identities,
    wait_until,
)
from tests.waiting import hold

pytestmark = pytest.mark.slow

N = 20_000
T0 = time.time() - 86400


def test_broker_restart_under_load_loses_nothing(mosquitto: servers.Server, tmp_path: Path) -> None:
    db = tmp_path / "obs.db"
    sent = observations(N, stations=100, t0=T0, prefix="nl-restart")
    gateway = GatewayProc(
        mosquitto.port,
        f"sqlite:///{db}",
        tmp_path / "spool",
        "gw-restart",
        tmp_path / "gateway.log",
        extra=["--batch-size", "1000", "--batch-ms", "300"],
    )
    gateway.start()
    # Two publishers, like two schools' stations, each with its own persistent session.
    publishers = [Publisher(mosquitto.port, f"pub-restart-{i}") for i in range(2)]
    broker = mosquitto
    try:
        for i, pub in enumerate(publishers):
            pub.publish_in_background([(t, p) for t, p, _ in sent[i::2]], rate=1000)
        wait_until(lambda: sqlite_count(db) > 2000, 60, "the stream to be flowing")
        stored_before = sqlite_count(db)
        published_before = sum(p.sent for p in publishers)
        broker.stop()  # SIGTERM: Mosquitto saves its persistence file and exits
        stopped = time.monotonic()
        hold(2.0, "publishers and gateway find the broker gone")
        unacked_while_down = sum(p.unacked() for p in publishers)
        broker = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
        restarted = time.monotonic()
        down_s = restarted - stopped
        for pub in publishers:
            pub.wait_all(timeout=120)
        wait_until(lambda: sqlite_count(db) >= N, 180, f"all {N} stored", 0.5)
        took = time.monotonic() - restarted
        hold(1.0, "anything still arriving would be a duplicate")
        stored = sqlite_identities(db)
        log = gateway.log_text()
    finally:
        for pub in publishers:
            pub.close()
        gateway.stop()
        broker.stop()
    report(
        f"broker restart: stopped after {published_before} published / {stored_before} stored; "
        f"down {down_s:.1f} s; {unacked_while_down} publishes unacknowledged while it was down "
        f"(kept and resent by the publishers)"
    )
    report(f"  all {N} stored {took:.1f} s after the restart; {len(stored)} rows")
    assert "lost broker" in log and "session resumed" in log
    assert len(stored) == len(set(stored)) == N
    assert set(stored) == {identity for _, _, identity in sent}
