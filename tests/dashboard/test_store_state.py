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


def test_the_live_version_never_runs_ahead_of_the_registry_the_pages_read(tmp_path: Path) -> None:
    """A page records the version it computed at; if that version were newer than the cached
    registry it computed from, the page would count as current and keep the older data for good
    (seen once as a station stuck at "never" on the Stations page)."""
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    writer = open_store(url)
    data = Data(open_store(url, read_only=True), registry_ttl_s=3600)

    def deliver(station: str, ts: float) -> None:
        body = json.dumps({"ts": ts, "temp_c": 1.5}).encode()
        writer.write(decode_messages([(wire.topic(station, "obs"), body)], ts, 0).batch)

    now = time.time()
    deliver("fi-first-01", now - 60)
    shown = data._stations()["last_seen"].dropna()  # the snapshot a page computes from
    deliver("fi-late-01", now)  # lands while that snapshot is still fresh
    assert set(data.version()) == {str(s) for s in shown.index} == {"fi-first-01"}
    fresh = Data(open_store(url, read_only=True), registry_ttl_s=3600)
    assert set(fresh.version()) == {"fi-first-01", "fi-late-01"}
    writer.close()
