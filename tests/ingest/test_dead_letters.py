"""Dead letters kept within their limits (per station, by age) and stored once per identity, in
both real stores; a SQLite file from before the digest opens and is converted."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import open_store
from ingest.base import Store
from ingest.batch import Batch, DeadLetter
from ingest.dead_letters import DAY_MS, DeadLetterLimits

STATION = "ph-noisy-01"


def letters_batch(received_ms: int, n: int, station: str = STATION) -> Batch:
    batch = Batch(created_ms=received_ms)
    for i in range(n):
        batch.dead_letters.append(
            DeadLetter.of(
                received_ms, station, f"classnet/v1/{station}/obs", "bad_json", "not JSON",
                b"{" + str(i).encode(),
            )
        )  # fmt: skip
        batch.count_reject(station, "bad_json")
    return batch


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    limits = DeadLetterLimits(per_station=10, max_age_days=1)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.db'}"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
    s = open_store(url, dead_letters=limits)
    yield s
    s.close()


def test_a_station_keeps_its_newest_dead_letters_only(store: Store) -> None:
    now = int(time.time() * 1000)
    for k in range(6):
        store.write(letters_batch(now - 6000 + k * 1000, 5))
    store.write(letters_batch(now, 3, station="fi-quiet-01"))
    kept = store.rejects(STATION, limit=1000)
    if store.url.startswith("sqlite"):
        assert len(kept) == 10
        assert kept["time"].min().value // 1_000_000 == now - 2000  # the newest, not the oldest
    else:  # written: the first 10 of the minute (the rest counted only), deleted beyond 10
        assert len(kept) == 10
    assert len(store.rejects("fi-quiet-01")) == 3  # others' are untouched
    counts = store.reject_counts(station=STATION)
    assert counts["count"].sum() == 30  # every reject still counted


def test_old_dead_letters_age_out(store: Store) -> None:
    now = int(time.time() * 1000)
    store.write(letters_batch(now - 2 * DAY_MS, 2))
    store.write(letters_batch(now, 1))
    assert len(store.rejects(STATION)) == 1


def test_a_batch_written_twice_keeps_one_copy(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    batch = letters_batch(int(time.time() * 1000), 4)
    store.write(batch)
    store.write(batch)  # a retry after a write that did land
    assert len(store.rejects(STATION)) == 4
    store.close()


def test_a_store_from_before_the_digest_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL,
            station TEXT NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL,
            detail TEXT NOT NULL, payload BLOB NOT NULL);
        CREATE UNIQUE INDEX dead_letters_once_per_body
            ON dead_letters (received_ms, station, topic, reason, detail, payload);
        INSERT INTO dead_letters VALUES (1, 1, 'ph-noisy-01', 't', 'bad_json', 'x', X'7b');
        """
    )
    db.commit()
    db.close()
    store = open_store(f"sqlite:///{path}")
    store.write(letters_batch(int(time.time() * 1000), 2))
    store.close()
    db = sqlite3.connect(path)
    indexes = {row[1] for row in db.execute("PRAGMA index_list(dead_letters)")}
    assert "dead_letters_once_per_body" not in indexes and "dead_letters_once_by_digest" in indexes
    db.close()
