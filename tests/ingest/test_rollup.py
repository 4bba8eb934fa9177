"""15-minute rollups kept by the stores: exact under late, duplicate, replaced and out-of-order
readings; a rebuild from raw rows gives the same bins as the incremental writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.core.qc import QC_TABLE
from firmware import wire
from gateway import cli
from ingest import open_store
from ingest.batch import Batch, empty_obs, registry_from_obs
from ingest.influx import InfluxStore
from ingest.rollup import ROLLUP_RANGES, bins_frame, bins_from_obs, combine_of
from ingest.sqlite import SQLiteStore
from tests import servers

START = datetime(2025, 11, 1, tzinfo=UTC)
END = datetime(2025, 12, 1, tzinfo=UTC)
T0 = 1763884800000  # 2025-11-23 08:00 UTC, on a bin boundary
FIELDS = ["temp_c", "rain_mm", "pressure_hpa", "wind_dir_deg", "wind_gust_ms"]


def make_batch(stations: list[str], ts_ms: list[int], seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    n = len(ts_ms)
    obs = empty_obs().reindex(range(n))
    obs["station"] = stations
    obs["ts_ms"] = np.array(ts_ms, dtype="int64")
    obs["temp_c"] = rng.normal(10, 5, n).round(2)
    obs["rain_mm"] = rng.choice([0.0, 0.2, 0.4], n)
    obs["pressure_hpa"] = rng.normal(1000, 8, n).round(1)
    obs["wind_dir_deg"] = rng.uniform(0, 360, n).round(0)
    obs["wind_gust_ms"] = rng.uniform(0, 20, n).round(1)
    obs.loc[rng.random(n) < 0.15, "temp_c"] = np.nan  # failed readings
    b = Batch(obs=obs, created_ms=T0)
    b.registry = registry_from_obs(obs)
    return b


def stream(seed: int) -> Iterator[Batch]:
    """Batches as a network delivers them: in time order, then a backlog from hours ago, readings
    out of order within a batch, a redelivered batch, and a repeated (station, ts) whose values
    differ (replaces the row: the bin must follow the new value, not add it)."""
    stations = ["fi-roll-01", "in-roll-02", "np-roll-03"]
    minute = 60_000
    first = [(s, T0 + i * minute) for i in range(40) for s in stations]
    yield make_batch([s for s, _ in first], [t for _, t in first], seed)
    late = [(s, T0 - 3 * 3600_000 + i * 37_000) for i in range(50) for s in stations[:2]]
    late.reverse()  # out of order
    again = make_batch([s for s, _ in late], [t for _, t in late], seed + 1)
    yield again
    yield again  # the same batch redelivered after a lost ack
    replaced = [(s, T0 + i * minute) for i in range(5, 12) for s in stations]
    yield make_batch([s for s, _ in replaced], [t for _, t in replaced], seed + 2)
    mixed = [(stations[2], T0 + 7 * minute + 30_000), (stations[0], T0 - 3 * 3600_000 + 37_000)]
    yield make_batch([s for s, _ in mixed], [t for _, t in mixed], seed + 3)


def assert_bins_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    assert list(got["station"]) == list(want["station"])
    assert (got["time"] == want["time"]).all()
    for column in want.columns.drop(["station", "time"]):
        np.testing.assert_allclose(
            got[column].to_numpy(np.float64),
            want[column].to_numpy(np.float64),
            rtol=1e-12,
            atol=1e-9,
            err_msg=column,
        )


def test_rollup_ranges_are_the_qc_range_test() -> None:
    assert {f: (c.low, c.high) for f, c in QC_TABLE.items()} == ROLLUP_RANGES
    assert set(ROLLUP_RANGES) == set(wire.FIELD_NAMES)


@pytest.mark.parametrize("seed", [1, 2])
def test_sqlite_incremental_bins_equal_raw_and_rebuild(tmp_path: Path, seed: int) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    assert isinstance(store, SQLiteStore)
    for batch in stream(seed):
        store.write(batch)
    raw = store.read(START, END, fields=FIELDS)
    incremental = store.read_bins(START, END, fields=FIELDS)
    assert_bins_equal(incremental, bins_from_obs(raw, FIELDS))
    assert store.rebuild_rollups() == len(incremental)
    assert_bins_equal(store.read_bins(START, END, fields=FIELDS), incremental)
    # Replaced readings count once: 40 minutes of readings, plus one at 08:07:30 (a late one).
    np03 = incremental[incremental["station"] == "np-roll-03"]
    assert np03["n_obs"].tolist() == [15 + 1, 15, 10]
    store.close()


def test_sqlite_rollup_leaves_out_of_range_values(tmp_path: Path) -> None:
    # 400 hPa is inside the wire contract (300..1100) but fails QC's range test (500..1100).
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    assert isinstance(store, SQLiteStore)
    batch = make_batch(["fi-qc-01"] * 3, [T0, T0 + 60_000, T0 + 120_000], seed=5)
    batch.obs["pressure_hpa"] = [1000.0, 400.0, 1002.0]
    batch.obs["rain_mm"] = [0.2, 55.0, 0.0]  # 55 mm in a minute: a stuck counter
    store.write(batch)
    bins = store.read_bins(START, END, fields=["pressure_hpa", "rain_mm"])
    assert bins["n_obs"].tolist() == [3]
    assert bins["n_pressure_hpa"].tolist() == [2] and bins["sum_pressure_hpa"].tolist() == [2002]
    assert bins["min_pressure_hpa"].tolist() == [1000.0]
    assert bins["n_rain_mm"].tolist() == [2] and bins["max_rain_mm"].tolist() == [0.2]
    store.close()


def test_sqlite_rebuild_of_a_span_and_of_a_store_from_before_rollups(tmp_path: Path) -> None:
    path = tmp_path / "obs.db"
    store = open_store(f"sqlite:///{path}")
    assert isinstance(store, SQLiteStore)
    for batch in stream(3):
        store.write(batch)
    want = store.read_bins(START, END, fields=FIELDS)
    # A span rebuild touches only its own bins; damaging one bin outside the span survives it.
    store._db.execute("UPDATE rollup_15m SET n_obs = 999 WHERE bin_ms = ?", (T0,))
    store._db.commit()
    span = pd.Timestamp(T0 - 3 * 3600_000, unit="ms", tz="UTC").to_pydatetime()
    assert store.rebuild_rollups(span, span + pd.Timedelta(minutes=20)) == 2 * 2
    assert 999 in store.read_bins(START, END)["n_obs"].tolist()
    store.rebuild_rollups()
    assert_bins_equal(store.read_bins(START, END, fields=FIELDS), want)
    # A store written before rollups existed gets them when a writer opens it.
    store._db.execute("DROP TABLE rollup_15m")
    store._db.commit()
    store.close()
    reopened = open_store(f"sqlite:///{path}")
    assert isinstance(reopened, SQLiteStore)
    assert_bins_equal(reopened.read_bins(START, END, fields=FIELDS), want)
    reopened.close()


def test_influx_bins_equal_raw_and_registry_stays_one_point_per_station(
    influxdb: servers.Server, influx_db: str
) -> None:
    store = open_store(f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}")
    assert isinstance(store, InfluxStore)
    for batch in stream(4):
        store.write(batch)
    out_of_range = make_batch(["fi-roll-01"], [T0 + 60_000 * 45], seed=9)
    out_of_range.obs["pressure_hpa"] = 400.0  # in the contract, outside QC's range
    store.write(out_of_range)
    raw = store.read(START, END, fields=FIELDS)
    bins = store.read_bins(START, END, fields=FIELDS)
    want = bins_from_obs(raw, FIELDS)
    assert_bins_equal(
        bins.drop(columns=["n_obs", "first_ms", "last_ms"]),
        want.drop(columns=["n_obs", "first_ms", "last_ms"]),
    )
    assert (bins["n_obs"] <= want["n_obs"]).all()
    some = store.read_bins(START, END, stations=["in-roll-02"], fields=["temp_c"])
    assert set(some["station"]) == {"in-roll-02"}
    # A bin where the one field asked for has no value is not returned.
    theirs = bins[(bins["station"] == "in-roll-02") & (bins["n_temp_c"] > 0)]
    assert_bins_equal(some.drop(columns="n_obs"), theirs[some.columns.drop("n_obs")])
    points = servers.influx_query(
        influxdb.port, "SELECT count(last_seen_ms) FROM registry GROUP BY station", db=influx_db
    )
    counts = [s["values"][0][1] for s in points["results"][0]["series"]]
    assert counts == [1, 1, 1]  # after six batches
    assert store.stations().loc["fi-roll-01", "last_seen"] == pd.Timestamp(
        T0 + 60_000 * 45, unit="ms", tz="UTC"
    )
    store.close()


def test_classnet_rollup_rebuild_repairs_damaged_bins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    for batch in stream(6):
        store.write(batch)
    want = store.read_bins(START, END, fields=FIELDS)
    store._db.execute("UPDATE rollup_15m SET sum_temp_c = 0, n_obs = 1")  # a hand edit
    store._db.commit()
    assert cli.main(["rollup", "rebuild", "--store", url]) == 0
    assert f"{len(want)} 15-minute bins recomputed" in capsys.readouterr().out
    assert_bins_equal(store.read_bins(START, END, fields=FIELDS), want)
    assert cli.main(["rollup", "rebuild", "--store", url, "--start", "2025-11-23"]) == 0
    assert (
        cli.main(
            ["rollup", "rebuild", "--store", url, "--start", "2025-11-23", "--end", "2025-11-22"]
        )
        == 3
    )
    assert "swap them" in capsys.readouterr().err
    store.close()


def test_influx_rebuild_compacts_a_registry_with_history(
    influxdb: servers.Server, influx_db: str
) -> None:
    # The registry as stores before issue #17 wrote it: a point per station per batch.
    old = "\n".join(
        f"registry,station=fi-old-{s} last_seen_ms={T0 + i * 60_000}i,battery_v={3.0 + i / 10}"
        f" {(T0 + i * 60_000) * 1_000_000}"
        for s in range(2)
        for i in range(5)
    )
    old += f'\nregistry,station=fi-old-0 name="Old School" {T0 * 1_000_000}'
    servers.influx_write(influxdb.port, influx_db, old)
    url = f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"
    assert cli.main(["rollup", "rebuild", "--store", url]) == 0
    store = open_store(url)
    stations = store.stations()
    assert stations.loc["fi-old-0", "name"] == "Old School"
    assert stations.loc["fi-old-1", "battery_v"] == 3.4
    assert stations.loc["fi-old-1", "last_seen"] == pd.Timestamp(
        T0 + 4 * 60_000, unit="ms", tz="UTC"
    )
    points = servers.influx_query(
        influxdb.port, "SELECT count(battery_v) FROM registry", db=influx_db
    )
    assert points["results"][0]["series"][0]["values"][0][1] == 2
    store.close()


def test_sqlite_reads_of_every_station_seek_each_station(tmp_path: Path) -> None:
    # A batch written without registry updates (a direct write, not the gateway's) still gives
    # its stations registry rows, so a read of every station finds them by primary key.
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    assert isinstance(store, SQLiteStore)
    batch = make_batch(["fi-seek-01", "sg-seek-02"], [T0, T0 + 60_000], seed=3)
    batch.registry = {}
    store.write(batch)
    assert store.read(START, END)["station"].tolist() == ["fi-seek-01", "sg-seek-02"]
    assert store.read_bins(START, END)["station"].tolist() == ["fi-seek-01", "sg-seek-02"]
    plan = store._db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM obs WHERE ts_ms >= 0 AND ts_ms < 1"
        " AND station IN (SELECT station FROM registry)"
    ).fetchall()
    assert "USING PRIMARY KEY (station=? AND ts_ms>? AND ts_ms<?)" in str(plan)
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "influxdb"])
def test_latest_is_the_last_value_of_each_field(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.db'}"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
    store = open_store(url)
    for batch in stream(8):
        store.write(batch)
    raw = store.read(START, END, fields=FIELDS)
    want = raw.groupby("station").last()[FIELDS]  # last non-missing value per field
    got = store.latest(START, END, FIELDS)
    pd.testing.assert_frame_equal(got, want, check_names=False)
    since = pd.Timestamp(T0 + 30 * 60_000, unit="ms", tz="UTC").to_pydatetime()
    assert store.latest(since, since + pd.Timedelta(minutes=1), ["temp_c"]).index.tolist() == [
        s
        for s in ["fi-roll-01", "in-roll-02", "np-roll-03"]
        if not raw[(raw["station"] == s) & (raw["time"] == since)]["temp_c"].isna().all()
    ]
    store.close()


def coarser(bins: pd.DataFrame, width_ms: int, shift_ms: int) -> pd.DataFrame:
    """15-minute bins combined in pandas into bins of `width_ms` starting at k * width + shift."""
    t_ms = pd.DatetimeIndex(bins["time"]).as_unit("ms").asi8
    key = (t_ms - shift_ms) // width_ms * width_ms + shift_ms
    how = {c: combine_of(c) for c in bins.columns if c not in ("station", "time")}
    how |= {"first_ms": "min", "last_ms": "max"}
    out = (
        bins.assign(bin_ms=key)
        .groupby(["station", "bin_ms"])
        .agg(
            {
                c: (lambda s, h=h: s.sum(min_count=1) if h == "sum" else s.agg(h))
                for c, h in how.items()
            }
        )
    )
    return bins_frame(out.reset_index(), FIELDS)


@pytest.mark.parametrize("kind", ["sqlite", "influxdb"])
@pytest.mark.parametrize("width_h, shift_min", [(1, 45), (1, 0), (24, 15)])
def test_coarser_bins_are_unions_of_15_minute_bins(
    kind: str, width_h: int, shift_min: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'obs.db'}"
    else:
        server = request.getfixturevalue("influxdb")
        url = f"influxdb://127.0.0.1:{server.port}/{request.getfixturevalue('influx_db')}"
    store = open_store(url)
    for batch in stream(11):
        store.write(batch)
    width, shift = width_h * 3600_000, shift_min * 60_000
    got = store.read_bins(START, END, fields=FIELDS, width_ms=width, shift_ms=shift)
    want = coarser(store.read_bins(START, END, fields=FIELDS), width, shift)
    columns = (
        got.columns.drop(["n_obs", "first_ms", "last_ms"]) if kind == "influxdb" else got.columns
    )
    assert_bins_equal(got[columns], want[columns])
    assert (pd.DatetimeIndex(got["time"]).as_unit("ms").asi8 % width == shift).all()
    with pytest.raises(ValueError, match="whole 15-minute bins"):
        store.read_bins(START, END, width_ms=width, shift_ms=width)
    store.close()
