"""One station floods the gateway with bad messages (real Mosquitto, real gateway, SQLite):
the store and the log grow by bounded amounts (docs/operations.md, "Hostile input"), every
reject is counted, and the valid messages that follow are stored."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware import wire
from gateway.reject_log import REJECTS
from gateway.service import Gateway, Settings
from ingest import open_store
from ingest.dead_letters import DeadLetterLimits
from ingest.domain.broker import BrokerURL
from tests import servers
from tests.mqtt_clients import publish
from tests.waiting import wait_until

HOSTILE = "ph-flood-01"
N_HOSTILE = 20_000
KEEP = 1000  # dead letters kept per station (the documented default)
# The bounds docs/operations.md states: KEEP dead letters at ~3 KB each in the file (with the pages
# freed by trimming), plus a write-ahead log SQLite reuses (measured 6 MB: the size of a few
# flood batches, not of the flood), and a few log lines a minute per station.
STORE_BOUND = 12 << 20
LOG_BOUND = 8 << 10


class _Bytes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.bytes += len(line) + 1
        self.lines.append(line)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "influxdb"])
def test_a_flood_from_one_station_is_bounded(
    kind: str,
    mosquitto: servers.Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if kind == "sqlite":
        url, folder = f"sqlite:///{tmp_path / 'store' / 'obs.db'}", tmp_path / "store"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
        folder = server.data_dir
    store = open_store(url, dead_letters=DeadLetterLimits(per_station=KEEP))
    gateway = Gateway(
        Settings(BrokerURL("127.0.0.1", mosquitto.port), "gw-flood", tmp_path / "spool"), store
    )
    handler = _Bytes()
    logger = logging.getLogger("classnet.gateway")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    gateway.start()
    try:
        assert gateway.wait_ready(10)
        # Subscribed once a retained status reaches the registry (no sleep).
        publish(mosquitto.port, [(wire.topic(HOSTILE, "status"), b'{"state":"online"}')], True)
        reader = open_store(url, read_only=True)
        wait_until(lambda: HOSTILE in reader.stations().index, what="the subscription")
        before, logged = _size(folder), handler.bytes
        topic = wire.topic(HOSTILE, "obs")
        # 1.1 KB each, all different and hardly compressible: nothing de-duplicates them
        hostile = [
            (topic, b'{"ts": %d, ' % i + os.urandom(550).hex().encode()) for i in range(N_HOSTILE)
        ]
        publish(mosquitto.port, hostile)
        received = gateway.metrics.received.labels("obs")
        wait_until(lambda: received._value.get() >= N_HOSTILE, timeout=120, what="the flood")
        now = time.time()
        valid = [
            (
                wire.topic(f"fi-calm-{i:02d}", "obs"),
                wire.encode(wire.observation(now - i, seq=i, temp_c=20.0)),
            )
            for i in range(10)
        ]
        publish(mosquitto.port, valid)
        start, end = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(1)
        wait_until(lambda: len(reader.read(start, end)) == 10, timeout=60, what="valid messages")
        REJECTS.flush(time.monotonic() + 60)  # the minute is over: its summary line
        grown, log_grown = _size(folder) - before, handler.bytes - logged
        kept = len(reader.rejects(HOSTILE, limit=10 * KEEP))
        counted = reader.reject_counts(station=HOSTILE)["count"].sum()
        reader.close()
    finally:
        gateway.stop()
        logger.removeHandler(handler)
    with capsys.disabled():
        print(
            f"\n[figures] flood of {N_HOSTILE} x 1.1 KB from one station: {kind} +{grown} B, "
            f"log +{log_grown} B ({len(handler.lines)} lines), {kept} dead letters kept"
        )
    assert kept == KEEP  # InfluxDB: only the first KEEP of the minute were written
    assert counted == N_HOSTILE  # every reject counted, whatever is kept
    assert grown < STORE_BOUND
    assert log_grown < LOG_BOUND
    assert any(f"more rejects from {HOSTILE} in the last minute" in line for line in handler.lines)
