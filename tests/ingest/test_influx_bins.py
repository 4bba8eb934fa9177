"""InfluxDB's 15-minute bins (issue #17, ingest/influx_bins.py) on a real InfluxDB 1.6: exact
under late, repeated, replaced and out-of-order readings, at +5:45 and across DST, equal to a
rebuild, read from the kept points once rolled, and saying which days a late reading changed.

Not tested here: a v2-API server (2.x, 3.x, Cloud), which cannot run on this machine; the bins
reach it through the same InfluxQL reads and line-protocol writes, but not its rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from gateway import cli
from ingest import influx_bins, open_store, rollup
from ingest.influx import InfluxStore
from tests import servers
from tests.core.test_bins import SPRING
from tests.core.test_bins import observations as offsets_and_dst
from tests.ingest.bins import assert_same_bins, whole
from tests.ingest.test_rollup import FIELDS, START, batch_of, observations, parts
from tests.waiting import wait_until

YEAR = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def url(influxdb: servers.Server, influx_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # Marks roll as soon as they are written (the wait for them to settle has its own test).
    monkeypatch.setattr(influx_bins, "SETTLE", "0s")
    return f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}"


@pytest.fixture
def store(url: str) -> Iterator[InfluxStore]:
    opened = open_store(url)
    assert isinstance(opened, InfluxStore)
    yield opened
    opened.close()


def roll_all(store: InfluxStore) -> None:
    while store.roll(budget_s=60):
        pass


def read_all(store: InfluxStore, fields: list[str] = FIELDS) -> pd.DataFrame:
    return store.read_bins(*YEAR, None, fields)


def kept_points(store: InfluxStore) -> int:
    found = store.query(f"SELECT count(n_obs) FROM {influx_bins.BINS}")
    return int(found[0][1]["count"].iloc[0]) if found else 0


def test_bins_are_exact_under_late_repeated_and_out_of_order_readings(
    store: InfluxStore,
) -> None:
    obs = observations()
    rng = np.random.default_rng(3)
    # As the SQLite test: small batches rolled between, a tenth late and reversed, a stretch
    # twice, values first sent wrong then replaced.
    late = rng.random(len(obs)) < 0.1
    wrong = obs.sample(40, random_state=5).assign(temp_c=-30.0)
    store.write(batch_of(wrong))
    for number, part in enumerate(parts(obs[~late], 30)):
        store.write(batch_of(part))
        if number % 7 == 0:
            roll_all(store)
    store.write(batch_of(obs[800:1000]))
    for part in reversed(parts(obs[late], 5)):
        store.write(batch_of(part.iloc[::-1]))
        roll_all(store)
    store.write(batch_of(obs.loc[wrong.index]))
    roll_all(store)
    # Read from the kept points alone: a read that recomputed anything from raw rows fails.
    computed = store._bins._recent
    store._bins._recent = lambda *args: pytest.fail("read from raw rows")  # type: ignore[assignment,method-assign,return-value]
    kept = read_all(store)
    store._bins._recent = computed
    # The raw rows as InfluxDB keeps them: a replaced reading keeps a field its replacement
    # lacks (a point written again merges fields), so they are not quite `obs`.
    assert_same_bins(kept, whole(store.read(*YEAR), FIELDS))
    store.rebuild_bins()
    assert_same_bins(read_all(store), kept)


def test_local_days_at_quarter_hour_offsets_and_across_dst(store: InfluxStore) -> None:
    """The bins tests/core/test_bins.py turns into hours and local days (+5:45, +5:30, +8:45,
    both EU clock changes) come out of InfluxDB as they go in."""
    obs = offsets_and_dst(SPRING, 3, np.random.default_rng(11))
    fields = ["temp_c", "rain_mm", "wind_gust_ms", "wind_dir_deg", "rh_pct"]
    for part in parts(obs, 4):
        store.write(batch_of(part.assign(wind_speed_ms=np.nan)))
    roll_all(store)
    assert kept_points(store) > 0
    assert_same_bins(read_all(store, fields), whole(obs, fields))


def test_bins_read_between_rolls_are_those_of_every_reading_stored(
    store: InfluxStore, url: str
) -> None:
    obs = observations()
    reader = open_store(url, read_only=True)  # the dashboard
    store.write(batch_of(obs.iloc[: len(obs) // 2]))
    assert_same_bins(read_all(reader), whole(obs.iloc[: len(obs) // 2], FIELDS))  # never rolled
    roll_all(store)
    store.write(batch_of(obs.iloc[len(obs) // 2 :].iloc[::-1]))
    store.write(batch_of(obs.sample(50, random_state=1)))  # repeated, not rolled
    assert_same_bins(read_all(reader), whole(obs, FIELDS))
    start, end = START + pd.Timedelta("7h05min"), START + pd.Timedelta("20h")
    some = reader.read_bins(start, end, ["np-ktm", "de-ber"], ["temp_c", "rain_mm"])
    everything = whole(obs, ["temp_c", "rain_mm"])
    expected = everything[
        everything["station"].isin(["np-ktm", "de-ber"])
        & (everything["time"] >= start)
        & (everything["time"] < end)
    ]
    assert_same_bins(some, expected)
    reader.close()


def test_a_kept_read_follows_the_rolls_reading_only_the_points_they_changed(
    store: InfluxStore, url: str
) -> None:
    """A dashboard reads the same days on every refresh: after the first read, only the points
    of the marks rolled since, and the same bins as a reader that keeps nothing."""
    obs = observations().sort_values("time", kind="stable", ignore_index=True)
    live = parts(obs, 6)
    reader = open_store(url, read_only=True)  # the dashboard
    assert isinstance(reader, InfluxStore)
    asked: list[int] = []  # where each read of kept points began
    points = reader._bins._points
    reader._bins._points = lambda start, *rest: asked.append(start) or points(start, *rest)  # type: ignore[method-assign]

    days = (START.floor("D"), START.floor("D") + pd.Timedelta("3D"))  # every reading's

    def same_as_a_fresh_read() -> None:
        fresh = open_store(url, read_only=True)
        kept = reader.read_bins(*days, None, FIELDS)
        assert_same_bins(kept, fresh.read_bins(*days, None, FIELDS))
        assert_same_bins(kept, whole(store.read(*YEAR), FIELDS))
        fresh.close()

    store.write(batch_of(live[0]))
    roll_all(store)
    same_as_a_fresh_read()
    assert asked == [days[0].value // 10**6]  # every day kept, once
    read_all(reader)  # a year: read once, as a dashboard reads its past days, and not kept
    assert len(reader._bins._kept) == 1
    for part in live[1:]:  # readings as they come, a roll between refreshes
        store.write(batch_of(part))
        roll_all(store)
        asked.clear()
        same_as_a_fresh_read()
        first_new = int(part["time"].min().value // 10**6)
        assert asked == [rollup.affected(first_new, first_new)[0]]  # from the new readings on
    # Late, repeated and replaced readings of the first hours: read from where they reach.
    store.write(batch_of(live[0].sample(60, random_state=2).assign(temp_c=-5.0)))
    store.write(batch_of(live[1].iloc[::-1]))
    roll_all(store)
    asked.clear()
    same_as_a_fresh_read()
    assert asked and min(asked) < rollup.affected(int(live[1]["time"].min().value // 10**6), 0)[0]
    store.rebuild_bins()  # the cursor and bins anew: read as written since
    same_as_a_fresh_read()
    reader.close()


def test_reads_between_rolls_keep_their_raw_rows_and_read_what_the_marks_name(
    store: InfluxStore, url: str
) -> None:
    """Between two rolls a read computes the last readings' bins from raw rows, QC's hours of
    context included. A dashboard asking again reads only the readings marked since (and a
    school anew when a late reading lands before the rows it kept): the same bins as a reader
    that keeps nothing, for every school and for a few."""
    obs = observations().sort_values("time", kind="stable", ignore_index=True)
    live = parts(obs, 8)
    reader = open_store(url, read_only=True)  # the dashboard
    assert isinstance(reader, InfluxStore)
    recent = reader._bins._recent
    reads: list[tuple[str, int]] = []  # ("anew" | "marked", where the read began)
    context, between = recent._context, recent._between
    recent._context = lambda st, span, f: reads.append(("anew", span[0])) or context(st, span, f)  # type: ignore[method-assign]
    recent._between = lambda st, lo, *rest: reads.append(("marked", lo)) or between(st, lo, *rest)  # type: ignore[method-assign]
    two = ["np-ktm", "de-ber"]

    def same_as_a_fresh_read() -> None:
        fresh = open_store(url, read_only=True)
        assert_same_bins(read_all(reader), read_all(fresh))
        start, end = START + pd.Timedelta("2h"), START + pd.Timedelta("40h")
        some = reader.read_bins(start, end, two, ["temp_c", "rain_mm"])
        assert_same_bins(some, fresh.read_bins(start, end, two, ["temp_c", "rain_mm"]))
        fresh.close()

    store.write(batch_of(live[0]))
    roll_all(store)
    for number, part in enumerate(live[1:], 1):
        store.write(batch_of(part))  # not rolled yet
        if number == 4:  # late, and replacing readings of the first hours
            store.write(batch_of(live[0].sample(30, random_state=4).assign(temp_c=3.0)))
        if number == 6:
            roll_all(store)
        reads.clear()
        same_as_a_fresh_read()
        if number in (2, 3, 5):  # only what was written since the last refresh
            assert reads and {kind for kind, _ in reads} == {"marked"}
            assert min(lo for _, lo in reads) >= int(part["time"].min().value // 10**6)
        if number == 4:  # the late readings' schools read anew, from before them
            assert any(kind == "anew" for kind, _ in reads)
    reader.close()


def test_a_window_read_on_every_refresh_is_what_a_plain_read_gives(
    store: InfluxStore, url: str
) -> None:
    """The leaderboard's last hour, asked for on every refresh (`read_recent`): kept rows
    brought up to date, equal to a plain read, late and replaced readings included."""
    obs = observations().sort_values("time", kind="stable", ignore_index=True)
    reader = open_store(url, read_only=True)
    assert isinstance(reader, InfluxStore)
    stations, fields = ["np-ktm", "fi-tre", "de-ber"], ["temp_c", "rain_mm", "wind_gust_ms"]
    for number, part in enumerate(parts(obs, 12)):
        store.write(batch_of(part))
        end = part["time"].max() + pd.Timedelta("1min")
        if number == 7:  # replaced readings of the last hour, arriving late
            store.write(batch_of(part.iloc[::3].assign(temp_c=-9.0)))
        if number == 9:
            roll_all(store)
        got = reader.read_recent(end - pd.Timedelta("1h"), end, stations, fields)
        pd.testing.assert_frame_equal(
            got, store.read(end - pd.Timedelta("1h"), end, stations, fields)
        )
    assert len(reader._bins._windows._kept) == 1  # kept, and apart from the bins' rows
    reader.close()


def test_a_store_written_before_bins_gets_them_from_its_history(store: InfluxStore) -> None:
    obs = observations(hours=10 * 24)
    store.write(batch_of(obs))
    store.query(f"DROP MEASUREMENT {influx_bins.MARKS}")  # as a release before bins left it
    assert_same_bins(read_all(store), whole(obs, FIELDS))  # from raw rows meanwhile
    passes = 1
    while store.roll(budget_s=0.0):
        passes += 1
    assert passes > 1  # a week per station per pass
    assert kept_points(store) > 0 and store._bins.cursor() is not None
    assert_same_bins(read_all(store), whole(obs, FIELDS))


def test_marks_wait_to_settle_and_pages_lose_nothing_meanwhile(
    store: InfluxStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mark younger than SETTLE is left to the next roll (the cursor never passes one still
    arriving); reads compute its bins from raw rows until then."""
    obs = observations(hours=6)
    store.write(batch_of(obs))
    monkeypatch.setattr(influx_bins, "SETTLE", "1h")
    assert store.roll(budget_s=60) is False
    assert store._bins.cursor() is None and kept_points(store) == 0
    assert_same_bins(read_all(store), whole(obs, FIELDS))
    monkeypatch.setattr(influx_bins, "SETTLE", "0s")
    roll_all(store)
    assert store._bins.cursor() is not None and kept_points(store) > 0
    assert_same_bins(read_all(store), whole(obs, FIELDS))


def test_bins_changes_name_the_days_a_late_reading_changed(
    store: InfluxStore, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(influx_bins, "CLOCK_SKEW_MS", 0)
    obs = observations(hours=48)
    store.write(batch_of(obs))
    roll_all(store)
    reader = open_store(url, read_only=True)
    assert isinstance(reader, InfluxStore)
    since, nothing = reader.bins_changes(None) or (0, {"?": (0, 0)})
    assert since > 0 and nothing == {}
    assert reader.bins_changes(since) == (since, {})
    # The server stamps the next mark; its clock must be past the last one's millisecond.
    wait_until(
        lambda: datetime.now(UTC).timestamp() * 1000 > since + 1, what="the clock past the mark"
    )
    late = obs[obs["station"] == "fi-tre"].head(1).assign(temp_c=4.0)
    store.write(batch_of(late))
    day = int(START.floor("D").value // 1_000_000)
    after, changed = reader.bins_changes(since) or (0, {})
    assert after > since and changed == {"fi-tre": (day, day)}
    roll_all(store)
    assert reader.bins_changes(after) == (after, {})
    now = pd.concat([obs, late]).drop_duplicates(["station", "time"], keep="last")
    assert_same_bins(read_all(reader), whole(now, FIELDS))
    reader.close()


def test_classnet_rebuild_bins_on_influxdb(store: InfluxStore, url: str, capsys) -> None:
    obs = observations(hours=6)
    store.write(batch_of(obs))
    roll_all(store)
    # Bins gone wrong (written by hand, say): the rebuild recomputes them from the raw rows.
    at_ms = int(START.value // 1_000_000)
    store.write_lines(f"{influx_bins.BINS},station=np-ktm n_obs=99i {at_ms}".encode(), "ms")
    assert cli.main(["rebuild-bins", "--store", url]) == 0
    assert "rebuilt" in capsys.readouterr().out
    assert_same_bins(read_all(store), whole(obs, FIELDS))
