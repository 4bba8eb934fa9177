"""Views over the whole network (Asia vs Europe, the leaderboard, `classnet summary`) on a grown
network (issue #17): one computation of a view at a time, shared by every tab, again only when a
station delivered or the live tick passed, a bounded cache (one tab left on Asia vs Europe drove a
dashboard to 11.8 GB with overlapping computations); raw rows read a few schools at a time, with
the same answers as one read."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard.climate_data import Climate
from dashboard.climate_store import read_climate_days
from dashboard.data import Data, utcnow
from dashboard.viewcache import ViewCache
from gateway import cli
from ingest import Batch, open_store
from ingest.batch import OBS_COLUMNS
from ingest.domain.calibration import Correction, write_corrections
from ingest.sqlite import SQLiteStore
from simulators import towns
from tests.waiting import wait_until


def test_concurrent_requests_for_one_view_share_one_computation() -> None:
    cache = ViewCache(ttl_s=60)
    running = threading.Event()
    release = threading.Event()
    overlapping = []

    def compute() -> dict[str, int]:
        overlapping.append(running.is_set())
        running.set()
        release.wait(10)
        return {"n": len(overlapping)}

    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("regions", compute)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    assert running.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == [{"n": 1}] * 5
    assert cache.computed == 1 and overlapping == [False]


def test_results_expire_after_the_tick_and_the_cache_stays_bounded() -> None:
    cache = ViewCache(max_entries=3, ttl_s=0.05)
    calls = []
    assert cache.get("a", lambda: calls.append("a") or 1) == 1
    assert cache.get("a", lambda: calls.append("a") or 2) == 1  # within the tick
    wait_until(lambda: cache.get("a", lambda: 3) == 3, 5, "the tick to pass")
    for key in range(10):
        cache.get(key, lambda: "x" * 1000)
    assert len(cache) == 3


def _registry(s: towns.Station, last_seen_ms: int) -> dict[str, dict[str, Any]]:
    """The registry row an outdoor school's messages give."""
    return {
        s.station: {
            "name": s.name, "lat": s.lat, "lon": s.lon, "elevation_m": s.elevation_m,
            "timezone": s.timezone, "exposure": "outdoor", "state": "online",
            "last_seen_ms": last_seen_ms,
        }
    }  # fmt: skip


def _deliver(store: Any, stations: tuple[towns.Station, ...], end_s: int, hours: int = 24) -> None:
    """`hours` (a day) of 10-minute readings up to `end_s` for each station, and its registry
    row."""
    t = np.arange(end_s - hours * 3600, end_s + 1, 600, dtype=np.int64)
    for s in stations:
        columns: dict[str, Any] = {name: np.nan for name in OBS_COLUMNS[2:]}
        temp = np.round(20 + 3 * np.sin(t / 7200), 2)  # a steady value would fail QC persistence
        columns.update(station=s.station, ts_ms=t * 1000, temp_c=temp, rain_mm=0.0)
        store.write(
            Batch(
                obs=pd.DataFrame(columns, columns=list(OBS_COLUMNS)),
                registry=_registry(s, int(t[-1]) * 1000),
            )
        )


def test_the_leaderboard_of_a_network_whose_first_day_is_today(tmp_path) -> None:
    """No school has a day before today yet, so nothing is kept for yesterday's comparison
    (a new network, or the browser tests' three hours): the boards rank today all the same."""
    now = datetime(2025, 6, 10, 20, 0, tzinfo=UTC)  # 02:00 in Tokyo, three hours after 23:00
    fleet = towns.stations(4, only=("tampere", "berlin", "manila", "tokyo"))
    writer = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    _deliver(writer, fleet, int(now.timestamp()) - 60, hours=3)
    writer.close()
    store = open_store(f"sqlite:///{tmp_path / 'new.db'}", read_only=True)
    board = Data(store).leaderboard(now=now, top=4)
    assert len(board["categories"]["hottest"]) == 4
    assert all(row["value"] is None for row in board["anomaly"])  # no yesterday to compare
    _close(board, Data(_WithoutBins(store)).leaderboard(now=now, top=4))


def _six_schools(
    tmp_path, days: int, now: datetime | None = None
) -> tuple[str, datetime, tuple[towns.Station, ...]]:
    """A SQLite store of six schools on both continents, `days` days of readings up to `now`
    (the clock's when not given)."""
    url = f"sqlite:///{tmp_path / 'views.db'}"
    fleet = towns.stations(6, only=("tampere", "berlin", "lisbon", "manila", "tokyo", "bangkok"))
    writer = open_store(url)
    now = now or utcnow()
    for days_back in range(days):
        _deliver(writer, fleet, int(now.timestamp()) - 120 - days_back * 86400)
    writer.close()
    return url, now, fleet


def test_tabs_share_one_leaderboard_until_a_station_delivers(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'views.db'}"
    fleet = towns.stations(4, only=("tampere", "berlin", "manila", "tokyo"))
    writer = open_store(url)
    now_s = int(utcnow().timestamp())
    _deliver(writer, fleet, now_s - 120)
    data = Data(open_store(url, read_only=True), registry_ttl_s=0)
    data.views.ttl_s = 600  # longer than the test: only a delivery may start a new computation

    with ThreadPoolExecutor(8) as tabs:
        boards = list(tabs.map(lambda _: data.leaderboard(), range(8)))
        regions = list(tabs.map(lambda _: data.regions("temp_c", "day", "utc"), range(8)))
    assert data.views.computed == 2, "eight tabs, one computation per view"
    assert all(b == boards[0] for b in boards) and boards[0]["categories"]["hottest"]
    assert all(r == regions[0] for r in regions) and regions[0]["sides"]

    data.leaderboard()
    assert data.views.computed == 2, "nothing delivered: the same board"
    _deliver(writer, fleet[:1], now_s - 60)
    data.leaderboard()
    assert data.views.computed == 3, "a station delivered: computed again"
    writer.close()


def test_asia_vs_europe_read_a_few_schools_at_a_time_equals_all_at_once(
    tmp_path, monkeypatch
) -> None:
    url, now, _ = _six_schools(tmp_path, days=1)
    data = Data(open_store(url, read_only=True))
    for clock in ("utc", "local", "solar"):
        whole = data.regions("temp_c", "day", clock, now=now)
        monkeypatch.setattr("dashboard.reads.READ_ROWS", 2 * 1440)  # two schools' day a time
        monkeypatch.setattr("dashboard.reads.BINS_ROWS", 2 * 96)  # two schools' bins a time
        assert data.regions("temp_c", "day", clock, now=now) == whole, clock
        monkeypatch.undo()
        assert len(whole["sides"]) == 2 and max(whole["sides"][0]["n"]) == 3


def test_the_leaderboard_read_a_few_schools_at_a_time_equals_all_at_once(
    tmp_path, monkeypatch
) -> None:
    # Every school has the same readings: every board is a tie, ordered by station either way.
    # At 06:00 UTC every school's today has begun hours ago (at 15:00 UTC Tokyo's had not, and
    # its board had five schools): ten days and today, the anomaly's reach.
    url, now, fleet = _six_schools(tmp_path, days=11, now=datetime(2026, 6, 15, 6, tzinfo=UTC))
    data = Data(open_store(url, read_only=True))
    whole = data.leaderboard(now=now, top=6)
    monkeypatch.setattr("dashboard.reads.READ_ROWS", 2 * 14401)  # two schools' ten days a time
    monkeypatch.setattr("dashboard.reads.BINS_ROWS", 2 * 96 * 11)  # two schools' ten days a time
    assert data.leaderboard(now=now, top=6) == whole
    assert len(whole["categories"]["hottest"]) == 6 and len(whole["anomaly"]) == 6
    assert {r["station"] for r in whole["anomaly"] if r["anomaly"] is not None} == {
        s.station for s in fleet
    }


def test_classnet_summary_read_a_few_schools_at_a_time_equals_all_at_once(
    tmp_path, monkeypatch, capsys
) -> None:
    store, now, fleet = _six_schools(tmp_path, days=3)
    first, last = (now - timedelta(days=2)).date().isoformat(), now.date().isoformat()
    command = ["summary", "--store", store, "--start", first, "--end", last, "--format", "csv"]
    assert cli.main(command) == 0
    whole = capsys.readouterr().out
    monkeypatch.setattr("dashboard.reads.READ_ROWS", 2 * 4 * 1440)  # two schools a time
    assert cli.main(command) == 0
    assert capsys.readouterr().out == whole
    assert {line.split(",")[0] for line in whole.splitlines()[1:]} == {s.station for s in fleet}


def _noting_reads(monkeypatch) -> list[list[str]]:
    """The schools each SQLite read asks for, the read itself unchanged."""
    reads: list[list[str]] = []
    real = SQLiteStore.read

    def read(self, start, end, stations=None, fields=None):  # type: ignore[no-untyped-def]
        reads.append(list(stations or []))
        return real(self, start, end, stations, fields)

    monkeypatch.setattr(SQLiteStore, "read", read)
    return reads


def test_classnet_export_written_a_few_schools_at_a_time_equals_one_read(
    tmp_path, monkeypatch
) -> None:
    """Both formats, with a calibration at one school (its `temp_c_raw` column then holds, for
    the schools read in a part without it, the values as stored) and the derived columns."""
    store, now, fleet = _six_schools(tmp_path, days=2)
    stations = tmp_path / "stations.toml"
    stations.write_text("", encoding="utf-8")
    calibrated = Correction(fleet[4].station, "temp_c", now - timedelta(hours=12), -0.5, 1.02)
    write_corrections(stations, [calibrated])
    first, last = (now - timedelta(days=1)).date().isoformat(), now.date().isoformat()
    for fmt in ("csv", "parquet"):
        command = ["export", "--store", store, "--start", first, "--end", last, "--derived",
                   "--stations", str(stations), "--format", fmt]  # fmt: skip
        assert cli.main([*command, "-o", str(tmp_path / f"whole.{fmt}")]) == 0
        # two schools a time: the window is the two days and 26 hours of every time zone
        monkeypatch.setattr("dashboard.reads.READ_ROWS", 2 * 4440)
        reads = _noting_reads(monkeypatch)
        assert cli.main([*command, "-o", str(tmp_path / f"parts.{fmt}")]) == 0
        monkeypatch.undo()
        assert [len(r) for r in reads] == [2, 2, 2], reads
        whole, parts = (tmp_path / f"whole.{fmt}").read_bytes(), (tmp_path / f"parts.{fmt}")
        if fmt == "csv":
            assert parts.read_bytes() == whole
            table = pd.read_csv(parts)
        else:
            table = pd.read_parquet(parts)
            pd.testing.assert_frame_equal(table, pd.read_parquet(tmp_path / "whole.parquet"))
        assert sorted(set(table["station"])) == sorted(s.station for s in fleet)
        assert list(table["station"]) == sorted(table["station"])
        corrected = table["temp_c"] != table["temp_c_raw"]
        assert set(table.loc[corrected, "station"]) == {calibrated.station}, fmt


def test_an_export_that_fails_leaves_no_file_and_an_earlier_export_whole(tmp_path, capsys) -> None:
    store, _now, _fleet = _six_schools(tmp_path, days=1)
    out = tmp_path / "export.csv"
    out.write_text("an earlier export\n", encoding="utf-8")
    command = ["export", "--store", store, "--start", "2020-01-01", "--end", "2020-01-31"]
    assert cli.main([*command, "-o", str(out)]) != 0
    assert "no observations from any station" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "an earlier export\n"
    assert [p.name for p in tmp_path.iterdir() if "export" in p.name] == ["export.csv"]


class _WithoutBins:
    """The same SQLite store with its bins hidden: the pages read raw rows, as on InfluxDB."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "read_bins":
            raise AttributeError(name)
        return getattr(self._store, name)


def _messy_network(tmp_path) -> tuple[str, datetime]:
    """Nine schools at +5:30, +6:30, +7, +8, +9, +2/+3 and +1/+2 over the EU's spring change,
    eleven days of minute readings with spikes, a stuck sensor, gaps and heavy rain (issue #17)."""
    url = f"sqlite:///{tmp_path / 'messy.db'}"
    fleet = towns.stations(
        9,
        only=(
            "delhi",
            "yangon",
            "bangkok",
            "manila",
            "tokyo",
            "tampere",
            "berlin",
            "lisbon",
            "athens",
        ),
    )
    now = datetime(2025, 4, 3, 9, 7, tzinfo=UTC)
    t = np.arange(int(now.timestamp()) - 11 * 86400, int(now.timestamp()) - 30, 60, dtype=np.int64)
    rng = np.random.default_rng(17)
    writer = open_store(url)
    for i, s in enumerate(fleet):
        n = t.size
        temp = np.round(15 + i + 6 * np.sin(t / 13751 + i) + rng.normal(0, 0.2, n), 2)
        temp[rng.choice(n, 12, replace=False)] += 9.0  # spikes: the step test's
        stuck = int(rng.integers(2000, n - 2000))
        temp[stuck : stuck + 90] = temp[stuck]  # 90 flat minutes: persistence
        rain = np.where(rng.random(n) < 0.02, rng.choice([0.2, 1.0, 45.0], n), 0.0)
        gust = np.round(rng.uniform(0, 14, n), 1)
        keep = rng.random(n) > 0.03  # lost readings
        # From a generator of its own: the draws above stay those the tests were written on
        # (a spike in a window's first minute is screened with the readings before it from
        # bins, without them from raw rows read from the window's start).
        noise = np.random.default_rng(100 + i).normal(0, 30, n)
        wind = np.round((200 + 120 * np.sin(t / 40000 + i) + noise) % 360)
        columns: dict[str, Any] = {name: np.nan for name in OBS_COLUMNS[2:]}
        columns.update(
            station=s.station, ts_ms=t[keep] * 1000, temp_c=temp[keep], rain_mm=rain[keep],
            wind_gust_ms=gust[keep], wind_dir_deg=wind[keep],
        )  # fmt: skip
        writer.write(
            Batch(
                obs=pd.DataFrame(columns, columns=list(OBS_COLUMNS)),
                registry=_registry(s, int(t[-1]) * 1000),
            )
        )
    writer.close()
    return url, now


def _close(got: Any, want: Any, path: str = "") -> None:
    """Equal; floats to 1e-9, or by one step of the 0.001 the pages round to (the bins sum in
    another order, so a mean at a rounding tie may round the other way)."""
    if isinstance(want, dict):
        assert got.keys() == want.keys(), path
        for key in want:
            _close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _close(a, b, f"{path}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1.0001e-3), path
    else:
        assert got == want, path


def test_pages_from_the_stores_bins_equal_those_from_raw_rows(tmp_path) -> None:
    url, now = _messy_network(tmp_path)
    store = open_store(url, read_only=True)
    binned, raw = Data(store), Data(_WithoutBins(store))
    board = binned.leaderboard(now=now, top=9)
    _close(board, raw.leaderboard(now=now, top=9))
    assert len(board["categories"]["hottest"]) == 9 and len(board["anomaly"]) == 9
    # Yesterday against the week before it, from the days the dashboard keeps (binned) and from
    # ten days of raw rows: the same numbers, and there are numbers.
    assert all(r["baseline"] is not None and r["value"] is not None for r in board["anomaly"])
    assert all(r["value"] < 40 for r in board["categories"]["hottest"])  # no spike tops it
    for period in ("week", "month"):
        for clock in ("utc", "local"):
            sides = binned.regions("temp_c", period, clock, now=now)
            _close(sides, raw.regions("temp_c", period, clock, now=now), f"{period} {clock}")
            assert [len(side["x"]) for side in sides["sides"]] > [100, 100]


def test_asia_vs_europe_from_kept_hours_follows_new_days_and_late_readings(
    tmp_path, monkeypatch
) -> None:
    """Asia vs Europe keeps the hours of the days before each school's today (dashboard/hourly.py):
    two days later, and after a late reading of a kept day, it equals a fresh computation."""
    monkeypatch.setattr("ingest.sqlite_bins.CLOCK_SKEW_MS", 0)  # no minute to wait for
    url, now = _messy_network(tmp_path)
    writer = SQLiteStore(tmp_path / "messy.db")
    while writer.roll(budget_s=60):  # as a gateway does
        pass
    store = open_store(url, read_only=True)
    data = Data(store)
    earlier = now - timedelta(days=2, hours=5)
    # First asked before the network's first day: the keepers' first reads find nothing.
    for moment in (now - timedelta(days=40), earlier, now):
        for clock in ("local", "utc", "solar"):
            got = data.regions("temp_c", "month", clock, now=moment)
            _close(got, Data(store).regions("temp_c", "month", clock, now=moment), clock)
    # Readings of five days ago sent again, warmer (a station replaying its outbox).
    school = str(store.stations(None).index[3])
    old = store.read(now - timedelta(days=5, hours=3), now - timedelta(days=5), [school])
    assert len(old) > 100
    late = old.assign(temp_c=old["temp_c"] + 4.0)
    late["ts_ms"] = pd.DatetimeIndex(late["time"]).as_unit("ms").asi8
    writer.write(Batch(obs=late.reindex(columns=list(OBS_COLUMNS))))
    writer.roll(budget_s=60)
    for clock in ("local", "solar"):
        monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 300.0)
        before = data.regions("temp_c", "month", clock, now=now)
        assert before == data.regions("temp_c", "month", clock, now=now)  # not asked yet
        monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 0.0)
        after = data.regions("temp_c", "month", clock, now=now)
        _close(after, Data(store).regions("temp_c", "month", clock, now=now), clock)
        assert after != before, clock
    # A week's first, partial day is kept apart (it changes when the window's start moves, or
    # a late reading reaches it): readings of it sent again reach the page too.
    monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 300.0)
    weeks = {clock: data.regions("temp_c", "week", clock, now=now) for clock in ("local", "utc")}
    first = now - timedelta(days=7)
    old = store.read(first + timedelta(minutes=30), first + timedelta(hours=3), [school])
    late = old.assign(temp_c=old["temp_c"] - 6.0)
    late["ts_ms"] = pd.DatetimeIndex(late["time"]).as_unit("ms").asi8
    writer.write(Batch(obs=late.reindex(columns=list(OBS_COLUMNS))))
    writer.roll(budget_s=60)
    for clock, before in weeks.items():
        monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 300.0)
        assert data.regions("temp_c", "week", clock, now=now) == before  # not asked yet
        monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 0.0)
        after = data.regions("temp_c", "week", clock, now=now)
        _close(after, Data(store).regions("temp_c", "week", clock, now=now), clock)
        assert after != before, clock
    writer.close()


def test_the_leaderboards_usual_follows_late_readings_of_the_kept_days(
    tmp_path, monkeypatch
) -> None:
    """Yesterday against the week before it is computed once per version of the kept days: a
    late reading of yesterday reaches it at the next check, and equals a fresh computation."""
    monkeypatch.setattr("ingest.sqlite_bins.CLOCK_SKEW_MS", 0)
    url, now = _messy_network(tmp_path)
    writer = SQLiteStore(tmp_path / "messy.db")
    while writer.roll(budget_s=60):
        pass
    store = open_store(url, read_only=True)
    data = Data(store)
    monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 300.0)
    before = data.leaderboard(now=now, top=9)["anomaly"]
    school = before[0]["station"]
    old = store.read(now - timedelta(days=1, hours=20), now - timedelta(days=1, hours=8), [school])
    late = old.assign(temp_c=old["temp_c"] + 5.0)
    late["ts_ms"] = pd.DatetimeIndex(late["time"]).as_unit("ms").asi8
    writer.write(Batch(obs=late.reindex(columns=list(OBS_COLUMNS))))
    writer.roll(budget_s=60)
    assert data.leaderboard(now=now, top=9)["anomaly"] == before  # not asked yet
    monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 0.0)
    after = data.leaderboard(now=now, top=9)["anomaly"]
    _close(after, Data(store).leaderboard(now=now, top=9)["anomaly"])
    assert after != before
    writer.close()


def test_climate_from_the_stores_bins_equals_it_from_raw_rows(tmp_path) -> None:
    """The climate day table, the records (today's broken ones too) and the partner months, from
    bins and from raw rows: equal, with one school calibrated (read as rows either way)."""
    url, now = _messy_network(tmp_path)
    stations = tmp_path / "stations.toml"
    stations.write_text("", encoding="utf-8")
    store = open_store(url, read_only=True)
    calibrated = str(store.stations(None).index[3])
    write_corrections(stations, [Correction(calibrated, "temp_c", now - timedelta(days=30), 1.5)])
    binned, raw = Climate(Data(store, stations)), Climate(Data(_WithoutBins(store), stations))
    meta = binned.data.registry(now)
    first, last = (now - timedelta(days=10)).date(), now.date()
    days = read_climate_days(store, meta, first, last, list(meta.index), binned.data.corrections())
    want = read_climate_days(
        _WithoutBins(store), meta, first, last, list(meta.index), raw.data.corrections()
    )
    pd.testing.assert_frame_equal(days, want, rtol=1e-9)
    assert days["station"].nunique() == 9 and days["wind_dir_deg"].notna().sum() > 9 * 8
    assert days["tx_c"].max() < 40  # no spike in it
    uncorrected = read_climate_days(store, meta, first, last, [calibrated])
    mine = days[days["station"] == calibrated].reset_index(drop=True)
    assert mine["tx_c"].to_numpy() == pytest.approx(uncorrected["tx_c"] + 1.5, nan_ok=True)
    # The days the dashboard keeps (before each school's today) and today's read afresh: the same.
    for climate in (binned, raw):
        kept = climate.days(first, last, list(meta.index), now=now)
        pd.testing.assert_frame_equal(kept, days, rtol=1e-9)
    _close(binned.records(now), raw.records(now))
    assert len(binned.records(now)["records"]) == 9 * 4
    schools = list(meta.index[:3])
    _close(binned.partners(schools, 2025, 3), raw.partners(schools, 2025, 3))


def test_classnet_summary_from_the_stores_bins_equals_it_from_raw_rows(
    tmp_path, monkeypatch, capsys
) -> None:
    url, now = _messy_network(tmp_path)
    first, last = (now - timedelta(days=10)).date().isoformat(), now.date().isoformat()
    command = ["summary", "--store", url, "--start", first, "--end", last, "--format", "csv"]
    assert cli.main(command) == 0
    from_bins = pd.read_csv(io.StringIO(capsys.readouterr().out))
    # As a store without bins (InfluxDB): no store is one that keeps them.
    monkeypatch.setattr("dashboard.report_cmd.KeepsBins", type("Nothing", (), {}))
    assert cli.main(command) == 0
    from_rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(from_bins, from_rows, rtol=1e-9)
    assert len(from_rows) > 9 * 9 and from_rows["temp_c_max"].max() < 40  # no spike in it


def test_the_now_map_takes_latest_values_from_the_store_and_calibrates_them(tmp_path) -> None:
    """The map's values come from the store's `latest` (a seek per school, not an hour of rows
    each: 10,000 schools, issue #17); a calibrated school's value is its corrected reading."""
    url, now, fleet = _six_schools(tmp_path, days=1)
    stations = tmp_path / "stations.toml"
    stations.write_text("", encoding="utf-8")
    write_corrections(
        stations, [Correction(fleet[2].station, "temp_c", now - timedelta(hours=12), -0.5, 1.02)]
    )
    store = open_store(url, read_only=True)
    shown = Data(store, stations).latest("temp_c", now=now)
    obs = store.read(now - timedelta(hours=1), now + timedelta(minutes=1), fields=["temp_c"])
    raw = obs.groupby("station").last()["temp_c"]
    expected = raw.where(raw.index != fleet[2].station, -0.5 + 1.02 * raw)
    assert shown["value"].to_dict() == pytest.approx(expected.to_dict())
    assert shown.at[fleet[2].station, "value"] != raw[fleet[2].station]
