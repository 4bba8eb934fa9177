"""The InfluxDB station registry read on every live tick (issue #17): its cost must not grow with
the history. What stations said in the last minutes is read each time over the last tick's
answer, which began as a full read kept ten minutes. Together they must give what LAST() over
everything gives: each field's latest value, however old, on a real InfluxDB 1.x."""

from __future__ import annotations

import time

import pytest

from ingest import Batch, influx, open_store
from ingest.influx import InfluxStore
from tests import servers
from tests.waiting import hold

DAY_MS = 86_400_000


def _said(store: InfluxStore, at_ms: int, station: str, **values: object) -> None:
    store.write(Batch(created_ms=at_ms, registry={station: values}))


def test_the_registry_is_each_fields_latest_value_without_reading_all_history_each_tick(
    influxdb: servers.Server, influx_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    store = open_store(url)  # the gateway's
    reader = open_store(url, read_only=True)  # the dashboard's
    assert isinstance(store, InfluxStore) and isinstance(reader, InfluxStore)
    now_ms = int(time.time() * 1000)
    # A month ago both schools described themselves; only Tampere has spoken since.
    for station, name in (("fi-tampere-01", "Tampere"), ("th-bangkok-01", "Bangkok")):
        _said(store, now_ms - 30 * DAY_MS, station, name=name, timezone="UTC", state="online")
        _said(store, now_ms - 30 * DAY_MS + 1, station, last_seen_ms=now_ms - 30 * DAY_MS)
    _said(store, now_ms - 60_000, "fi-tampere-01", last_seen_ms=now_ms - 60_000)

    asked: list[str] = []
    query = reader.query_table
    monkeypatch.setattr(reader, "query_table", lambda q, *a: asked.append(q) or query(q, *a))
    first = reader.stations()
    assert first.loc["fi-tampere-01", "name"] == "Tampere"  # a month old, still its latest
    assert first.loc["fi-tampere-01", "last_seen"].value // 1_000_000 == now_ms - 60_000
    assert first.loc["th-bangkok-01", "last_seen"].value // 1_000_000 == now_ms - 30 * DAY_MS

    # The next tick reads only the last minutes, and still sees what changed since the last one.
    asked.clear()
    _said(store, now_ms, "th-bangkok-01", name="Bangkok school", state="offline")
    second = reader.stations()
    assert asked == [f"SELECT LAST(*) FROM registry WHERE time > now() - {influx.REGISTRY_RECENT}"
                     " GROUP BY station"]  # fmt: skip
    assert second.loc["th-bangkok-01", "name"] == "Bangkok school"
    assert second.loc["th-bangkok-01", "state"] == "offline"
    assert second.loc["th-bangkok-01", "last_seen"] == first.loc["th-bangkok-01", "last_seen"]
    assert second.loc["fi-tampere-01", "name"] == "Tampere"
    # What a tick saw stays after it leaves the window: each tick builds on the last.
    monkeypatch.setattr(influx, "REGISTRY_RECENT", "1s")
    hold(1.5, "Bangkok's renaming leaves the window")
    assert reader.stations().loc["th-bangkok-01", "name"] == "Bangkok school"
    # What a store wrote itself it reads back at once, however old its stamp.
    _said(store, now_ms - 30 * DAY_MS + 2, "th-bangkok-01", firmware="1.0.1")
    assert store.stations().loc["th-bangkok-01", "firmware"] == "1.0.1"
    store.close()
    reader.close()
