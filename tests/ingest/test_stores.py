"""Both real stores through the one interface: shapes, idempotency, readers in other processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from firmware import wire
from gateway.decode_batch import decode_messages
from gateway.importer import import_file
from ingest import open_store
from ingest.base import Store
from ingest.batch import Batch, empty_obs, registry_from_obs
from ingest.domain.siting import Siting

START = datetime(2025, 11, 1, tzinfo=UTC)
END = datetime(2025, 12, 1, tzinfo=UTC)
TS = 1763884800000


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.db'}"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
    s = open_store(url)
    yield s
    s.close()


def batch() -> Batch:
    obs = empty_obs().reindex(range(3))
    obs["station"] = ["sg-store-01", "fi-store-01", "fi-store-01"]
    obs["ts_ms"] = np.array([TS, TS + 1500, TS], dtype="int64")
    obs["seq"] = [1.0, np.nan, 2.0]
    obs["temp_c"] = [30.5, np.nan, -2.25]
    obs["rh_pct"] = [80.0, 55.0, np.nan]
    b = Batch(obs=obs, created_ms=TS)
    b.registry = registry_from_obs(obs)
    return b


def test_read_shape_is_the_documented_one(store: Store) -> None:
    store.write(batch())
    store.write(batch())  # idempotent on (station, ts)
    frame = store.read(START, END)
    assert list(frame.columns) == ["station", "time", *wire.FIELD_NAMES]
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert all(frame[f].dtype == "float64" for f in wire.FIELD_NAMES)
    assert list(frame["station"]) == ["fi-store-01", "fi-store-01", "sg-store-01"]
    assert frame["time"].iloc[1] == pd.Timestamp(TS + 1500, unit="ms", tz="UTC")  # ms kept
    assert frame["temp_c"].iloc[0] == -2.25 and np.isnan(frame["temp_c"].iloc[1])
    some = store.read(START, END, stations=["sg-store-01"], fields=["rh_pct"])
    assert list(some.columns) == ["station", "time", "rh_pct"] and some["rh_pct"].tolist() == [80.0]
    assert store.read(START, datetime.fromtimestamp(TS / 1000, UTC)).empty  # end is exclusive


def test_stations_merge_the_coordinators_file(store: Store, tmp_path: Path) -> None:
    store.write(batch())
    toml = tmp_path / "stations.toml"
    toml.write_text(
        '[fi-store-01]\nname = "Hervanta"\nlat = 61.45\nlon = 23.85\n'
        'timezone = "Europe/Helsinki"\npublic_exact_location = true\n'
    )
    frame = store.stations(toml)
    assert frame.loc["fi-store-01", "name"] == "Hervanta"
    assert bool(frame.loc["fi-store-01", "public_exact_location"])
    assert frame.loc["sg-store-01", "region"] == "asia"
    assert frame.loc["fi-store-01", "last_seen"] == pd.Timestamp(TS + 1500, unit="ms", tz="UTC")
    assert set(frame["state"]) == {"offline"}


def test_registry_keeps_outbox_level_and_siting_from_status_and_meta(
    store: Store, tmp_path: Path
) -> None:
    status = b'{"state": "online", "firmware": "1.0.0", "outbox": 1300, "outbox_max": 2304}'
    meta = (
        b'{"name": "Hervanta", "lat": 61.45, "lon": 23.85, "timezone": "Europe/Helsinki", '
        b'"siting": {"surface": "grass", "heat_source_distance_m": 40, "radiation_shield": true,'
        b' "shaded_below_sun_deg": 4}}'
    )
    messages = [("classnet/v1/fi-care-01/status", status), ("classnet/v1/fi-care-01/meta", meta)]
    store.write(decode_messages(messages, TS / 1000, TS).batch)
    row = store.stations().loc["fi-care-01"]
    assert (row["outbox"], row["outbox_max"], row["firmware"]) == (1300.0, 2304.0, "1.0.0")
    assert row["siting"] == Siting(
        surface="grass", heat_source_distance_m=40.0, radiation_shield=True,
        shaded_below_sun_deg=4.0,
    )  # fmt: skip
    # A later status with a lower level: the registry keeps the last one.
    drained = b'{"state": "online", "outbox": 0, "outbox_max": 2304}'
    store.write(decode_messages([(messages[0][0], drained)], TS / 1000 + 1, TS + 1000).batch)
    assert store.stations().loc["fi-care-01", "outbox"] == 0.0
    # The coordinator's file wins key by key: its surface, the station's other keys.
    toml = tmp_path / "stations.toml"
    toml.write_text('[fi-care-01.siting]\nsurface = "artificial"\nmounting = "roof"\n')
    merged = store.stations(toml).loc["fi-care-01", "siting"]
    assert merged == Siting(
        surface="artificial", mounting="roof", heat_source_distance_m=40.0,
        radiation_shield=True, shaded_below_sun_deg=4.0,
    )  # fmt: skip


def test_registry_of_a_station_without_outbox_or_siting(store: Store) -> None:
    store.write(batch())
    row = store.stations().loc["fi-store-01"]
    assert np.isnan(row["outbox"]) and np.isnan(row["outbox_max"]) and row["siting"] is None


def test_influxdb_registry_is_one_point_per_station_per_batch(
    influxdb: object, influx_db: str
) -> None:
    store = open_store(f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}")  # type: ignore[attr-defined]
    status = b'{"state": "online", "outbox": 12, "outbox_max": 2304}'
    meta = b'{"name": "Hervanta", "siting": {"surface": "grass"}}'
    b = decode_messages(
        [("classnet/v1/fi-care-02/status", status), ("classnet/v1/fi-care-02/meta", meta)],
        TS / 1000,
        TS,
    ).batch
    b.obs = batch().obs
    b.registry["fi-store-01"] = registry_from_obs(b.obs)["fi-store-01"]
    store.write(b)
    ((_, points),) = store.query("SELECT * FROM registry WHERE station = 'fi-care-02'")
    assert len(points) == 1
    assert (points["outbox"].iloc[0], points["name"].iloc[0]) == (12, "Hervanta")
    store.close()


def test_import_jsonl_and_csv_through_the_same_validation(store: Store, tmp_path: Path) -> None:
    jsonl = tmp_path / "sd.jsonl"
    jsonl.write_text(
        '{"station": "fi-sd-01", "ts": 1763884800, "temp_c": 3.5}\n'
        '{"station": "fi-sd-01", "ts": 1763884860, "temp_c": 99}\n'
        "not json\n"
    )
    result = import_file(store, jsonl)
    assert (result.rows, result.stored) == (3, 2)
    assert result.dropped_fields == {"out_of_range": 1}
    assert result.refused_rows == {"bad_json": 1}
    csv = tmp_path / "export.csv"
    csv.write_text(
        "station,ts,temp_c,rh_pct,seq\nsg-csv-01,1763884800,30.1,,1\nsg-csv-01,1763884800.5,,90,2\n"
    )
    assert import_file(store, csv).stored == 2
    frame = store.read(START, END, stations=["sg-csv-01"], fields=["temp_c", "rh_pct"])
    assert frame["temp_c"].iloc[0] == 30.1 and np.isnan(frame["temp_c"].iloc[1])
    assert np.isnan(frame["rh_pct"].iloc[0]) and frame["rh_pct"].iloc[1] == 90.0


def test_sqlite_reader_in_another_process_sees_new_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    writer = open_store(url)
    reader_code = textwrap.dedent(
        f"""
        import sys, time
        from datetime import datetime, UTC
        from ingest import open_store
        s = open_store({url!r})
        span = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)
        print(len(s.read(*span)), flush=True)
        sys.stdin.readline()
        print(len(s.read(*span)), flush=True)
        """
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", reader_code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().strip() == "0"
    writer.write(batch())  # while the reader holds its connection open
    reader.stdin.write("\n")
    reader.stdin.flush()
    assert reader.stdout.readline().strip() == "3"
    reader.wait(10)
    writer.close()


def test_sqlite_reader_threads_see_a_write_while_they_keep_reading(tmp_path: Path) -> None:
    """The dashboard's threads share one read-only connection. While their statements
    overlapped, SQLite kept the connection's old snapshot: a reading written meanwhile stayed
    invisible for seconds (30 s in a browser test) to every read, even ones begun after it."""
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    writer = open_store(url)
    writer.write(big_batch(24, 300))
    reader = open_store(url, read_only=True)
    done = threading.Event()

    def keep_reading() -> None:
        while not done.is_set():
            reader.read(START, END)
            reader.stations()

    threads = [threading.Thread(target=keep_reading) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        reader.stations()
        writer.write(batch())  # committed before every read below begins
        seen = ["sg-store-01" in reader.stations().index for _ in range(20)]
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
        reader.close()
        writer.close()
    assert all(seen), f"{seen.count(False)} of 20 reads begun after the write missed it"


def big_batch(stations: int, per_station: int) -> Batch:
    """Many rows from many stations, some fields missing at random, some never carried."""
    rng = np.random.default_rng(7)
    n = stations * per_station
    obs = empty_obs().reindex(range(n))
    obs["station"] = [f"fi-big-{i % stations:03d}" for i in range(n)]
    obs["ts_ms"] = TS + np.arange(n, dtype="int64") // stations * 60_000
    obs["seq"] = (np.arange(n) // stations).astype("float64")
    for name in ("temp_c", "rh_pct", "pressure_hpa"):
        column = rng.normal(10, 5, n).round(2)
        column[rng.random(n) < 0.1] = np.nan
        obs[name] = column
    b = Batch(obs=obs, created_ms=TS)
    b.registry = registry_from_obs(obs)
    return b


@pytest.mark.parametrize("max_params", [4000, 50, 7])
def test_sqlite_batch_over_several_statements_lands_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_params: int
) -> None:
    # The SQLite store binds many rows per INSERT; a batch spans several statements and the
    # last one is partly filled, with SQLite's own limit or a lower one.
    monkeypatch.setattr("ingest.sqlite.MAX_PARAMS", max_params)
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    written = big_batch(stations=37, per_station=61)
    store.write(written)
    store.write(written)  # a redelivered batch replaces, never duplicates
    frame = store.read(START, END)
    expected = written.obs.sort_values(["station", "ts_ms"], ignore_index=True)
    assert len(frame) == len(expected)
    assert list(frame["station"]) == list(expected["station"])
    assert (frame["time"].astype("int64") // 10**6).tolist() == expected["ts_ms"].tolist()
    for name in wire.FIELD_NAMES:  # exact doubles; NaN for what was missing or never sent
        np.testing.assert_array_equal(frame[name].to_numpy(), expected[name].to_numpy())
    stations = store.stations()
    assert sorted(stations.index) == sorted(written.registry)
    store.close()


def test_a_sqlite_store_from_before_outbox_and_siting_is_read_and_extended(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE obs (station TEXT NOT NULL, ts_ms INTEGER NOT NULL, seq INTEGER, "
        "temp_c REAL, PRIMARY KEY (station, ts_ms)) WITHOUT ROWID;"
        "CREATE TABLE registry (station TEXT PRIMARY KEY, name TEXT, lat REAL, lon REAL, "
        "elevation_m REAL, timezone TEXT, exposure TEXT, sensors TEXT, firmware TEXT, "
        "state TEXT, last_seen_ms INTEGER, battery_v REAL, rssi_dbm REAL);"
        "INSERT INTO registry (station, name, last_seen_ms) VALUES ('fi-old-01', 'Old', 1);"
    )
    old.commit()
    old.close()
    reader = open_store(f"sqlite:///{path}", read_only=True)
    assert np.isnan(reader.stations().loc["fi-old-01", "outbox"])  # read as it is
    reader.close()
    writer = open_store(f"sqlite:///{path}")  # the gateway adds the columns
    status = b'{"state": "online", "outbox": 7, "outbox_max": 2304}'
    writer.write(decode_messages([("classnet/v1/fi-old-01/status", status)], TS / 1000, TS).batch)
    row = writer.stations().loc["fi-old-01"]
    assert (row["name"], row["outbox"], row["outbox_max"]) == ("Old", 7.0, 2304.0)
    writer.close()


def test_latest_is_the_last_value_of_each_field(store: Store) -> None:
    """What the Now map shows: per station and field the newest value that is not missing,
    computed by the store (a seek per station on SQLite, LAST() on InfluxDB)."""
    obs = empty_obs().reindex(range(5))
    obs["station"] = ["fi-last-01", "fi-last-01", "fi-last-01", "sg-last-01", "sg-last-01"]
    obs["ts_ms"] = np.array([TS, TS + 60_000, TS + 120_000, TS, TS + 60_000], dtype="int64")
    obs["temp_c"] = [1.0, 2.0, np.nan, 30.0, 31.0]
    obs["rh_pct"] = [50.0, np.nan, np.nan, 80.0, np.nan]
    b = Batch(obs=obs, created_ms=TS)
    b.registry = registry_from_obs(obs)
    store.write(b)
    fields = ["temp_c", "rh_pct"]
    want = store.read(START, END, fields=fields).groupby("station").last()[fields]
    got = store.latest(START, END, fields)
    pd.testing.assert_frame_equal(got, want, check_names=False)
    assert got.loc["fi-last-01"].tolist() == [2.0, 50.0]
    later = datetime.fromtimestamp((TS + 90_000) / 1000, UTC)
    assert store.latest(later, END, fields).index.tolist() == []  # nothing stored after it
