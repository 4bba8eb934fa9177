"""When the gateway cuts a batch: while the store takes writes, once the stream pauses for
`quiet_ms` (the last message of a burst, or a station's single message, is queryable a fraction
of a second after it arrived, not `batch_ms` later); while the store is failing, every
`batch_ms` whatever the stream does (an outage makes a few large spool files, not many small
ones)."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.spool import decode, pending_batches
from ingest import open_store
from tests import servers
from tests.gateway.chain import start_gateway
from tests.gateway.test_chain import END, START, obs_messages
from tests.mqtt_clients import publish
from tests.waiting import hold, wait_until


def test_with_the_store_taking_writes_a_message_is_stored_without_waiting_for_batch_ms(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    gateway = start_gateway(mosquitto.port, store, tmp_path / "spool", batch_ms=30_000)
    try:
        publish(mosquitto.port, obs_messages(1))
        # quiet_ms (0.2 s) plus a write; the 10 s bound only leaves room for a busy machine.
        wait_until(lambda: len(store.read(START, END)) == 1, timeout=10, what="1 stored")
    finally:
        gateway.stop()


def spooled_observations(spool_dir: Path) -> list[int]:
    return [len(decode(path.read_bytes())) for path in pending_batches(spool_dir)]


def test_with_the_store_down_a_batch_is_spooled_every_batch_ms(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    down = f"influxdb://127.0.0.1:{servers.free_port()}/classnet"  # nothing listens there
    spool_dir = tmp_path / "spool"
    gateway = start_gateway(mosquitto.port, open_store(down), spool_dir, batch_ms=4000)
    messages = obs_messages(40)
    try:
        started = time.monotonic()
        for i in range(0, 40, 5):  # 5 messages, then a pause, 8 times over about 2.4 s
            publish(mosquitto.port, messages[i : i + 5])
            hold(max(0.0, started + (i + 5) * 0.06 - time.monotonic()), "the stream's pace")
        wait_until(lambda: sum(spooled_observations(spool_dir)) == 40, what="40 spooled")
    finally:
        gateway.stop()
    # The first batch goes to the store and fails; the rest wait their 4 s behind it. Cutting at
    # each pause in the stream would have made about eight files.
    assert len(spooled_observations(spool_dir)) <= 3, spooled_observations(spool_dir)
