"""The stores' 15-minute bins (issue #17): every QC check applied at roll-up, exact under late,
repeated, replaced and out-of-order readings, and equal to a rebuild from the raw rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from firmware import wire
from gateway import cli
from ingest import rollup, sqlite_bins
from ingest.batch import Batch, empty_obs
from ingest.domain import qc
from ingest.sqlite import SQLiteStore
from tests.ingest.bins import assert_same_bins, whole
from tests.waiting import wait_until

START = pd.Timestamp("2025-03-29 18:00", tz="UTC")
EVER = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
FIELDS = ["temp_c", "rh_pct", "wind_speed_ms", "wind_gust_ms", "wind_dir_deg", "rain_mm"]


def observations(seed: int = 7, hours: int = 30) -> pd.DataFrame:
    """Three stations with what QC catches: a one-reading spike, a stuck hour and more, a calm
    spell, rain after a long silence, failed readings; one station reports every 5 minutes."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, (station, every) in enumerate((("np-ktm", 1), ("fi-tre", 1), ("de-ber", 5))):
        time = pd.date_range(START, periods=hours * 60 // every, freq=f"{every}min")
        n = len(time)
        frame = pd.DataFrame({"station": station, "time": time})
        frame["temp_c"] = (10 + 6 * np.sin(np.arange(n) * every / 200 + i)).round(2)
        frame["rh_pct"] = rng.uniform(40, 99, n).round(1)
        frame["wind_speed_ms"] = rng.uniform(0, 6, n).round(1)
        frame["wind_gust_ms"] = (frame["wind_speed_ms"] + rng.uniform(0, 4, n)).round(1)
        frame["wind_dir_deg"] = rng.uniform(0, 360, n).round(0)
        frame["rain_mm"] = rng.choice([0.0, 0.0, 0.2, 1.4], n)
        frame.loc[rng.random(n) < 0.03, "temp_c"] = np.nan
        if every == 1 and n > 1700:
            frame.loc[100, "temp_c"] += 9.0  # a spike: the step test's
            frame.loc[600:680, "temp_c"] = 12.0  # stuck for 80 minutes: persistence
            frame.loc[900:960, ["wind_speed_ms", "wind_gust_ms"]] = 0.0  # calm: exempt
            frame.loc[1200, "wind_gust_ms"] = 0.1  # gust below the mean wind: consistency
            frame = frame.drop(frame.index[1300:1500])  # silent for 200 minutes, then
            frame.loc[1500, "rain_mm"] = 55.0  # 55 mm: plausible over 200 minutes, not one
            frame.loc[1600, "rain_mm"] = 55.0  # a minute after the last: the range test's
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def bins_by_groupby(obs: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """The bins the hard way, for comparison: screen the whole history, group with pandas."""
    flags = qc.qc_flags(obs, fields)
    frame = pd.DataFrame({"station": obs["station"], "time": obs["time"].dt.floor("15min")})
    frame["t_ms"] = pd.DatetimeIndex(obs["time"]).as_unit("ms").asi8.astype(float)
    aggs: dict[str, tuple[str, str]] = {
        "n_obs": ("t_ms", "size"),
        "first_ms": ("t_ms", "min"),
        "last_ms": ("t_ms", "max"),
    }
    flagged_columns = []
    for field in fields:
        values = obs[field].to_numpy(float)
        keep = qc.usable(values, flags[f"{field}_qc"].to_numpy())
        frame[field] = np.where(keep, values, np.nan)
        frame[f"flagged_{field}"] = np.isfinite(values) & ~keep
        flagged_columns.append(f"flagged_{field}")
        aggs |= {
            f"n_{field}": (field, "count"),
            f"sum_{field}": (field, "sum"),
            f"min_{field}": (field, "min"),
            f"max_{field}": (field, "max"),
        }
        if field == "wind_dir_deg":
            frame["east"], frame["north"] = (
                np.sin(np.radians(frame[field])),
                np.cos(np.radians(frame[field])),
            )
            aggs |= {"east_wind_dir_deg": ("east", "sum"), "north_wind_dir_deg": ("north", "sum")}
    frame["n_flagged"] = frame[flagged_columns].sum(axis=1)
    aggs["n_flagged"] = ("n_flagged", "sum")
    out = frame.groupby(["station", "time"]).agg(**aggs).reset_index()
    for field in fields:
        sums = [f"{s}_{field}" for s in ("sum", "east", "north") if f"{s}_{field}" in out]
        out.loc[out[f"n_{field}"] == 0, sums] = np.nan
    return out


def test_roll_equals_the_screened_rows_grouped() -> None:
    obs = observations()
    got = whole(obs, FIELDS)
    expected = bins_by_groupby(obs, FIELDS)
    assert_same_bins(got[expected.columns], expected)
    assert list(got.columns) == [
        "station",
        "time",
        "n_obs",
        "first_ms",
        "last_ms",
        "n_flagged",
        *[f"{s}_{f}" for f in FIELDS for s in rollup.stats_of(f) if s != "flagged"],
    ]


def test_every_qc_check_keeps_its_values_out() -> None:
    obs = observations()
    flags = qc.qc_flags(obs, FIELDS)
    seen = {bit for field in FIELDS for bit in qc.FLAG_NAMES if (flags[f"{field}_qc"] & bit).any()}
    assert seen == set(qc.FLAG_NAMES)  # the data exercise every check
    bins = whole(obs, FIELDS)
    spike_bin = obs.loc[100, "time"].floor("15min")
    spiked = bins[(bins["station"] == "np-ktm") & (bins["time"] == spike_bin)]
    assert float(spiked["max_temp_c"].iloc[0]) < float(obs.loc[100, "temp_c"]) - 5
    assert int(bins["n_flagged"].sum()) == int(
        sum(
            (obs[f].notna() & (flags[f"{f}_qc"] != 0)).sum()
            for f in FIELDS  # present values set aside
        )
    )


def batch_of(rows: pd.DataFrame) -> Batch:
    obs = empty_obs().reindex(range(len(rows)))
    obs["station"] = rows["station"].to_numpy()
    obs["ts_ms"] = pd.DatetimeIndex(rows["time"]).as_unit("ms").asi8
    for field in FIELDS:
        obs[field] = rows[field].to_numpy(float)
    return Batch(obs=obs, created_ms=int(obs["ts_ms"].max()))


def parts(rows: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    edges = np.linspace(0, len(rows), n + 1).astype(int)
    return [rows.iloc[a:b] for a, b in pairwise(edges)]


def written_before_bins(path: Path, obs: pd.DataFrame) -> None:
    """A store holding `obs` as a release before bins left it."""
    store = SQLiteStore(path)
    store.write(batch_of(obs))
    store._db.executescript("DROP TABLE bins; DROP TABLE bins_dirty;")
    store.close()


def read_all(store: SQLiteStore) -> pd.DataFrame:
    return store.read_bins(
        datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), None, FIELDS
    )


def test_store_bins_are_exact_under_late_repeated_and_out_of_order_readings(
    tmp_path: Path,
) -> None:
    obs = observations()
    rng = np.random.default_rng(3)
    # Mostly in order in small batches, rolled as a gateway would between them; a tenth held back
    # and delivered late in reverse, a stretch sent twice, values first sent wrong then replaced.
    late = rng.random(len(obs)) < 0.1
    wrong = obs.sample(40, random_state=5).assign(temp_c=-30.0)
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(wrong))
    for number, part in enumerate(parts(obs[~late], 60)):
        store.write(batch_of(part))
        if number % 7 == 0:
            store.roll(budget_s=60)
    store.write(batch_of(obs[800:1000]))
    for part in reversed(parts(obs[late], 9)):
        store.write(batch_of(part.iloc[::-1]))
        store.roll(budget_s=60)
    store.write(batch_of(obs.loc[wrong.index]))
    while store.roll(budget_s=60):
        pass
    kept = read_all(store)
    assert_same_bins(kept, whole(obs, FIELDS))
    store.rebuild_bins()
    assert_same_bins(read_all(store), kept)
    store.close()


def test_a_reading_changes_the_flags_of_the_hour_before_it(tmp_path: Path) -> None:
    """The persistence test looks forward: the reading that completes a flat hour condemns the
    whole hour, so a roll must recompute bins an hour back, not only the new reading's."""
    rows = observations(hours=3)
    rows = rows[rows["station"] == "fi-tre"].reset_index(drop=True)
    rows.loc[:, "temp_c"] = 15.0  # flat from the start: stuck once an hour is seen
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(rows[:40]))
    store.roll(budget_s=60)
    assert int(read_all(store)["n_temp_c"].sum()) == 40  # not an hour yet: nothing to suspect
    store.write(batch_of(rows[40:]))
    store.roll(budget_s=60)
    assert int(read_all(store)["n_temp_c"].sum()) == 0
    store.close()


@pytest.mark.parametrize("budget_s", [0.0, 60.0])
def test_a_store_written_before_bins_gets_them_from_its_history(
    tmp_path: Path, budget_s: float
) -> None:
    obs = observations(hours=10 * 24)
    written_before_bins(tmp_path / "obs.db", obs)
    store = SQLiteStore(tmp_path / "obs.db")  # the gateway opens it
    passes = 1
    while store.roll(budget_s=budget_s):
        passes += 1
    assert passes > 1 if budget_s == 0.0 else passes == 1  # a week per station per pass
    assert_same_bins(read_all(store), whole(obs, FIELDS))
    store.close()


def test_bins_read_between_rolls_are_those_of_every_reading_stored(tmp_path: Path) -> None:
    """Marked spans are computed from raw rows at read time: a page never shows bins that miss
    readings the store holds, whether the gateway rolled a second ago or never."""
    obs = observations()
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(obs.iloc[: len(obs) // 2]))
    assert_same_bins(read_all(store), whole(obs.iloc[: len(obs) // 2], FIELDS))  # never rolled
    store.roll(budget_s=60)
    store.write(batch_of(obs.iloc[len(obs) // 2 :].iloc[::-1]))
    store.write(batch_of(obs.sample(50, random_state=1)))  # repeated, not rolled
    assert_same_bins(read_all(store), whole(obs, FIELDS))
    # A window and a few stations: the bins of the whole history starting in it.
    start, end = START + pd.Timedelta("7h05min"), START + pd.Timedelta("20h")
    some = store.read_bins(start, end, ["np-ktm", "de-ber"], ["temp_c", "rain_mm"])
    everything = whole(obs, ["temp_c", "rain_mm"])
    expected = everything[
        everything["station"].isin(["np-ktm", "de-ber"])
        & (everything["time"] >= start)
        & (everything["time"] < end)
    ]
    assert_same_bins(some, expected)
    # The same two as a few schools of many: each school's days sought, the same bins.
    with store._db:
        store._db.executemany(
            "INSERT INTO registry (station) VALUES (?)", [(f"xx-s-{i:02d}",) for i in range(20)]
        )
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert_same_bins(
        store.read_bins(start, end, ["np-ktm", "de-ber"], ["temp_c", "rain_mm"]), expected
    )
    assert any("INDEXED BY bins_by_station" in sql for sql in statements)
    store.close()


def test_a_reader_of_a_store_from_before_bins_gets_them_from_raw_rows(tmp_path: Path) -> None:
    obs = observations(hours=6)
    written_before_bins(tmp_path / "obs.db", obs)
    reader = SQLiteStore(tmp_path / "obs.db", read_only=True)  # the dashboard
    assert_same_bins(read_all(reader), whole(obs, FIELDS))
    reader.close()


def test_classnet_rebuild_bins_recomputes_bins_in_doubt(tmp_path: Path, capsys) -> None:
    obs = observations(hours=6)
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(obs))
    store.roll(budget_s=60)
    with store._db:
        store._db.execute("UPDATE bins SET stats = zeroblob(length(stats))")  # bins in doubt
    store.close()
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    assert cli.main(["rebuild-bins", "--store", url]) == 0
    assert "rebuilt" in capsys.readouterr().out
    reader = SQLiteStore(tmp_path / "obs.db", read_only=True)
    assert_same_bins(read_all(reader), whole(obs, FIELDS))
    reader.close()
    assert cli.main(["rebuild-bins", "--store", f"sqlite:///{tmp_path / 'typo.db'}"]) != 0
    assert "typo.db" in capsys.readouterr().err


def test_classnet_import_leaves_the_bins_rolled(tmp_path: Path) -> None:
    obs = observations(hours=3)
    rows = pd.DataFrame(
        {"station": obs["station"], "ts": obs["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")}
        | {f: obs[f] for f in FIELDS}
    )
    rows.to_csv(tmp_path / "log.csv", index=False)
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    assert cli.main(["import", "--store", url, str(tmp_path / "log.csv")]) in (0, 1)
    store = SQLiteStore(tmp_path / "obs.db", read_only=True)
    assert store._db.execute("SELECT count(*) FROM bins_dirty").fetchone()[0] == 0
    assert_same_bins(read_all(store), whole(store.read(*EVER), FIELDS))
    store.close()


def test_a_roll_finds_a_station_day_by_index_not_by_scanning_the_table(tmp_path: Path) -> None:
    """A live network's roll rewrites thousands of station-days a minute: each must be a seek
    (a scan of the bins table per station-day made a 10,000-school roll quadratic)."""
    store = SQLiteStore(tmp_path / "obs.db")
    for sql in (
        "DELETE FROM bins WHERE day = 1 AND station = 'fi-tre'",
        "SELECT field, stats FROM bins WHERE day = 1 AND station = 'fi-tre'",
    ):
        plan = " ".join(str(row) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "bins_by_station" in plan, plan
    store.close()


def test_a_mark_jumps_over_a_stretch_without_readings(tmp_path: Path) -> None:
    """A reading stamped near the wire contract's lower bound (2020) and readings now make one
    mark five years wide. The roll goes from the old reading's week straight to the station's next
    stored reading (a primary-key seek), not through the ~270 empty weeks between, one transaction
    each; the hour before that reading is still recomputed (QC looks an hour either way)."""
    obs = observations()
    first = pd.Timestamp(wire.TS_MIN, unit="s", tz="UTC")
    stray = obs.groupby("station").head(1).assign(time=first)
    # Flat readings either side of where the first pass's week ends (the next reading 30 minutes
    # after it, within QC's reach of the week's last bins), then on for two and a half hours.
    flat = obs[obs["station"] == "fi-tre"].iloc[:180].assign(temp_c=15.0)
    minutes = np.arange(180) - 40
    minutes[30:] += 40
    flat["time"] = first + pd.Timedelta("7D") + pd.to_timedelta(minutes, unit="min")
    everything = pd.concat([stray, flat, obs], ignore_index=True)
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(everything))
    passes = 0
    while store.roll(budget_s=0.0):  # one transaction a pass
        passes += 1
    assert passes <= 4  # 274 when a pass went on a week further
    assert_same_bins(store.read_bins(*EVER, None, FIELDS), whole(everything, FIELDS))
    # Another such reading while today's wait for the roll: their marks widen into one again.
    another = stray[stray["station"] == "np-ktm"].assign(time=first + pd.Timedelta("3D"))
    store.write(batch_of(obs[obs["station"] == "np-ktm"].tail(5)))
    store.write(batch_of(another))
    passes = 0
    while store.roll(budget_s=0.0):
        passes += 1
    assert passes <= 2
    everything = pd.concat([everything, another], ignore_index=True)
    assert_same_bins(store.read_bins(*EVER, None, FIELDS), whole(everything, FIELDS))
    store.close()


def test_bins_changes_name_the_days_a_late_reading_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that keeps day tables (the dashboard's climate) asks what changed since its last
    answer: the UTC days of each station rolled since, or marked and not rolled yet."""
    # The minute allowed for gateways' clocks would have this test wait for it.
    monkeypatch.setattr(sqlite_bins, "CLOCK_SKEW_MS", 0)
    obs = observations(hours=48)
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(obs))
    store.roll(budget_s=60)
    reader = SQLiteStore(tmp_path / "obs.db", read_only=True)
    since, nothing = reader.bins_changes(None) or (0, {"?": (0, 0)})
    assert since > 0 and nothing == {}
    assert reader.bins_changes(since) == (since, {})
    # The next roll's stamp must come after `since` (rolls within one millisecond share one).
    wait_until(lambda: time.time_ns() // 1_000_000 > since, what="the clock past the last roll")
    # A late reading of the first day; the others' days are unchanged.
    late = obs[obs["station"] == "fi-tre"].head(1).assign(temp_c=4.0)
    store.write(batch_of(late))
    day = int(START.floor("D").value // 1_000_000)
    assert reader.bins_changes(since) == (since, {"fi-tre": (day, day)})  # marked, not rolled
    store.roll(budget_s=60)
    after, changed = reader.bins_changes(since) or (0, {})
    assert after > since and changed == {"fi-tre": (day, day)}
    assert reader.bins_changes(after) == (after, {})
    reader.close()
    store.close()


def test_bins_kept_before_they_said_when_they_were_rolled_get_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_bins, "CLOCK_SKEW_MS", 0)
    obs = observations(hours=6)
    store = SQLiteStore(tmp_path / "obs.db")
    store.write(batch_of(obs))
    store.roll(budget_s=60)
    store._db.executescript("DROP INDEX bins_by_rolled; ALTER TABLE bins DROP COLUMN rolled_ms;")
    store.close()
    reader = SQLiteStore(tmp_path / "obs.db", read_only=True)
    assert reader.bins_changes(None) is None  # it cannot tell: the dashboard reads as before
    reader.close()
    store = SQLiteStore(tmp_path / "obs.db")  # the gateway opens it
    assert store.bins_changes(0) == (0, {})  # the bins kept before count as rolled at 0
    changed = obs.tail(1).assign(temp_c=3.0)
    store.write(batch_of(changed))
    store.roll(budget_s=60)
    assert set((store.bins_changes(0) or (0, {}))[1]) == {changed["station"].iloc[0]}
    assert_same_bins(read_all(store), whole(pd.concat([obs.iloc[:-1], changed]), FIELDS))
    store.close()
