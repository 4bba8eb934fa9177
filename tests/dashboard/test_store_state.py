"""What the dashboard's banner is computed from: `Data.store_state` over real stores."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from dashboard.data import Data
from firmware import wire
from gateway.decode_batch import decode_messages
from ingest import open_store


def test_empty_then_showing_then_down_logged_once_per_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    writer = open_store(url)
    data = Data(open_store(url, read_only=True), registry_ttl_s=0)
    caplog.set_level(logging.INFO, "classnet.dashboard")
    assert data.store_state() == "empty"
    assert data.store_state() == "empty"
    now = time.time()
    body = json.dumps({"ts": now, "temp_c": 1.5}).encode()
    writer.write(decode_messages([(wire.topic("fi-state-01", "obs"), body)], now, 0).batch)
    assert data.store_state() is None
    writer.close()
    down = Data(open_store("influxdb://127.0.0.1:1/classnet", read_only=True))
    assert down.store_state() == down.store_state() == "down"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"store {data.store.url}: no station has delivered anything yet",
        f"store {data.store.url}: readable again",
        "store influxdb://127.0.0.1:1/classnet: influxdb://127.0.0.1:1/classnet: "
        "[Errno 111] Connection refused",
    ]
