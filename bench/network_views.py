"""The network-wide views on a grown network (issues #17, #21): time and peak memory of one
dashboard process computing the Now map, Asia vs Europe, the leaderboard and the climate views
(records, partner months, a year's indices) over every school, and of `classnet summary` and
`classnet export` over the month.

    .venv/bin/python bench/network_views.py [--schools 200] [--days 30] [--runs 3]
    .venv/bin/python bench/network_views.py --code /path/to/other/checkout   # the same, before
    .venv/bin/python bench/network_views.py --schools 500 --history 335      # a year of bins

`--influx` measures the same readings on a private InfluxDB 1.x (Debian's influxd, a temporary
folder): written through `InfluxStore.write` a school-day a batch, then rolled as a gateway rolls
them, both timed; give it a small network (it writes every reading again).

`--history DAYS` measures a copy of the same store with DAYS of bins before its readings,
written directly (`add_history`), so a month's views and a year's climate compare with the
store of the month alone in one run.

Builds (once, kept in --store-dir) a SQLite store of N schools × D days of 1-minute readings
with `bench/compare_view.py`'s `synthetic_store` (its 15-minute bins rolled once, as a gateway
rolls them between batches, the time it took printed; then every school's last minute marked as
written since, as a live store is between two rolls), then computes each view in a fresh process
(`Data` over the store, as the dashboard does, `now` fixed at the store's last reading; the
command as `classnet summary` runs it) and prints the median wall time of its first call, the
p50 and p95 of the `--again` calls after it in the same process (a running dashboard's
registry, time-zone tables and kept climate days are warm; `--again 1` where a call takes
minutes, as `classnet export` of 500 schools' month does), and the process's peak RSS. `--code`
measures another checkout's `dashboard` on the same store, so two versions compare in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402

VIEWS = {
    "Now map (latest values and the figure)": "now_map('temp_c')",
    "Asia vs Europe, month, local clock": "data.regions('temp_c', 'month', 'local', now=now)",
    "Asia vs Europe, week, UTC": "data.regions('temp_c', 'week', 'utc', now=now)",
    "Asia vs Europe, week, solar time (the page's default)": "data.regions('temp_c', 'week', "
    "'solar', now=now)",
    "leaderboard": "data.leaderboard(now=now)",
    "classnet summary, 29 days": "cli.main(['summary', '--store', sys.argv[1], '--start', "
    "str((now - timedelta(days=29)).date()), '--end', str(now.date()), '--format', 'csv'])",
    "classnet export, 29 days": "cli.main(['export', '--store', sys.argv[1], '--start', "
    "str((now - timedelta(days=29)).date()), '--end', str(now.date()), '-o', os.devnull])",
    "Climate: records, every school's whole history": "climate.records(now)",
    "Climate: partner months, two schools and the regions": "partners()",
    "Climate: 18 indices of every school, the last 365 days": "indices()",
}

CHILD = """
import json, os, resource, sys, time
from datetime import UTC, datetime, timedelta
from dashboard.data import Data
from gateway import cli
from ingest import open_store
data = Data(open_store(sys.argv[1], read_only=True))
now = datetime.fromtimestamp(float(sys.argv[2]), UTC)
from dashboard import units
from dashboard.pages import now as page
def now_map(variable):
    points = page.points_of(data.latest(variable, now=now), variable)
    return page.render_map(points, [], "en", units.DEFAULT_UNITS).to_plotly_json()
from dashboard.climate_data import Climate
from dashboard.core.indices import climate_indices
climate = Climate(data)
def partners():
    month = now.replace(day=1) - timedelta(days=1)
    schools = list(data.registry(now).index[:2])
    return climate.partners(schools, month.year, month.month, now=now)
def indices():
    meta = data.registry(now)
    last = now.date() - timedelta(days=1)
    days = climate.days(last - timedelta(days=364), last, list(meta.index), now=now)
    return [climate_indices(days, "month"), climate_indices(days, "year")]
start = time.perf_counter()
result = {view}
elapsed = time.perf_counter() - start
# Again in the same process, as a running dashboard computes a view on each refresh: its
# registry, time-zone tables and kept climate days are warm.
warm = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    result = {view}
    warm.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# Tables (the indices: no page sends them whole) are counted as the JSON they would make.
parts = result if isinstance(result, list) else [result]
size = sum(
    len(part.to_json()) if hasattr(part, "to_json") else len(json.dumps(part, default=str))
    for part in parts
)
print(json.dumps({{"s": elapsed, "warm_s": warm, "rss_mib": peak, "bytes": size}}))
"""


def _compare_view() -> Any:
    spec = importlib.util.spec_from_file_location("compare_view", ROOT / "bench/compare_view.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(path: Path, schools: int, days: float) -> None:
    print(f"building {path}: {schools} schools × {days:g} days of 1-minute readings", flush=True)
    _compare_view().synthetic_store(f"sqlite:///{path}", schools, days)


def roll(path: Path) -> None:
    """Bring the store's 15-minute bins up to date, as a running gateway keeps them: the build
    writes a school's days in one batch, so every bin is still to roll (printed: how long)."""
    from ingest.sqlite import SQLiteStore

    store = SQLiteStore(path)
    started = time.perf_counter()
    rounds = 0
    while store.roll(budget_s=10.0):
        rounds += 1
        print(".", end="", flush=True)
    store.close()
    if rounds:
        print(f"\nbins rolled in {time.perf_counter() - started:.0f} s", flush=True)
    # As a live store is between two of a gateway's rolls: every school's last minute written
    # since, so the pages compute the bins it changes (the last hour or two) from raw rows.
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO bins_dirty"
            " SELECT station, last_seen_ms - 60000, last_seen_ms FROM registry"
        )


def add_history(path: Path, schools: int, days: int) -> None:
    """`days` of 15-minute bins before the store's first reading, written straight into its
    bins table: each school's 1-minute readings made in memory (`compare_view.synthetic_rows`)
    and rolled by `rollup.roll`, as a gateway rolls them, but not stored as rows (a year of 500
    schools is 262 M rows: about 10 GB and an hour to write and roll). Outside the last hour
    or two the pages read only bins, so what they cost depends on the bins a period holds."""
    from ingest import rollup, sqlite_bins
    from ingest.base import obs_frame
    from simulators import towns

    module = _compare_view()
    with sqlite3.connect(path) as db:
        (first_ms,) = db.execute("SELECT min(ts_ms) FROM obs").fetchone()
    hi_ms = rollup.floor_bin(first_ms)
    lo_ms = hi_ms - days * rollup.DAY_MS
    print(f"adding {days} days of bins before the readings to {path}", flush=True)
    started = time.perf_counter()
    rng = np.random.default_rng(2)
    db = sqlite3.connect(path)
    fleet = towns.stations(schools)
    for k, school in enumerate(fleet):
        rows = module.synthetic_rows(school, np.arange(lo_ms // 1000, hi_ms // 1000, 60), rng)
        fields = {f: rows[f].to_numpy() for f in rollup.FIELDS if f in rows}
        obs = obs_frame(rows["station"].to_numpy(), rows["ts_ms"].to_numpy(), fields)
        with db:
            sqlite_bins.write_days(db, rollup.roll(obs, lo_ms, hi_ms))
        if (k + 1) % 25 == 0:
            print(f"  {k + 1}/{len(fleet)} schools", flush=True)
    db.close()
    print(f"history written in {time.perf_counter() - started:.0f} s", flush=True)


def to_influx(path: Path, url: str) -> None:
    """The SQLite store's readings and registry written into InfluxDB through `InfluxStore.write`,
    a school-day a batch, then its bins rolled as a gateway rolls them (printed: how long each
    took); then every school's last minute marked again, as a live store is between two rolls."""
    from ingest import influx_bins, open_store
    from ingest.batch import Batch, empty_obs
    from ingest.influx import InfluxStore
    from ingest.sqlite import SQLiteStore

    source = SQLiteStore(path, read_only=True)
    target = open_store(url)
    assert isinstance(target, InfluxStore)
    registry = source.stations()
    started = time.perf_counter()
    with sqlite3.connect(path) as db:
        (first_ms, last_ms) = db.execute("SELECT min(ts_ms), max(ts_ms) FROM obs").fetchone()
    day_ms = 86_400_000
    for k, station in enumerate(registry.index):
        for lo in range(first_ms // day_ms * day_ms, last_ms + 1, day_ms):
            rows = source.read(*(_utc(lo), _utc(lo + day_ms)), [station])
            if rows.empty:
                continue
            obs = empty_obs().reindex(range(len(rows)))
            obs["station"] = station
            obs["ts_ms"] = rows["time"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
            for field in rows.columns.drop(["station", "time"]):
                if field in obs:
                    obs[field] = rows[field].to_numpy()
            said = registry.loc[station]
            target.write(
                Batch(
                    obs=obs,
                    registry={
                        station: {
                            k: said[k].item() if hasattr(said[k], "item") else said[k]
                            for k in ("name", "lat", "lon", "timezone", "elevation_m")
                            if k in said and said[k] == said[k]
                        }
                    },
                    created_ms=int(obs["ts_ms"].max()),
                )
            )
        if (k + 1) % 25 == 0:
            print(f"  {k + 1}/{len(registry)} schools written", flush=True)
    print(f"readings written to InfluxDB in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    settle, influx_bins.SETTLE = influx_bins.SETTLE, "0s"
    while target.roll(budget_s=10.0):
        print(".", end="", flush=True)
    influx_bins.SETTLE = settle
    print(f"\nbins rolled in {time.perf_counter() - started:.0f} s", flush=True)
    last = [
        (str(s), int(t) - 60_000, int(t))
        for s, t in registry["last_seen"].astype("datetime64[ms, UTC]").astype("int64").items()
    ]
    target.write_lines(influx_bins._marks_of(last, "bench"), "ns")
    target.close()
    source.close()


def _utc(ms: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC)


def measure(code: Path, url: str, now_s: float, view: str, again: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(view=view), url, str(now_s), str(again)],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{code}: {view} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per view")
    parser.add_argument(
        "--again", type=int, default=5, help="calls after the first in each process (p50, p95)"
    )
    parser.add_argument("--code", type=Path, action="append", help="checkout(s) to measure")
    parser.add_argument("--store-dir", type=Path, default=Path("/tmp/classnet-bench"))
    parser.add_argument(
        "--only",
        metavar="TEXT",
        action="append",
        help="only the views whose name holds TEXT (repeatable)",
    )
    parser.add_argument(
        "--influx",
        action="store_true",
        help="measure on a private InfluxDB 1.x holding the same readings (written, then rolled)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="DAYS",
        help="also DAYS of bins before the readings, written directly (see add_history)",
    )
    args = parser.parse_args()
    if args.influx and args.history:
        parser.error("--history writes SQLite bins directly; --influx copies readings only")
    args.store_dir.mkdir(parents=True, exist_ok=True)
    name = f"network-{args.schools}x{args.days:g}"
    path = (
        args.store_dir / f"{name}+{args.history}.db"
        if args.history
        else args.store_dir / f"{name}.db"
    )
    base = args.store_dir / f"{name}.db"
    if not base.exists():
        build(base, args.schools, args.days)
    if not path.exists():
        # The same readings with history before them: both stores answer in one run.
        roll(base)
        with sqlite3.connect(base) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy must hold every page
        shutil.copyfile(base, path)
        add_history(path, args.schools, args.history)
    url = f"sqlite:///{path}"
    roll(path)
    with sqlite3.connect(path) as db:
        (last_ms,) = db.execute("SELECT max(ts_ms) FROM obs").fetchone()
    now_s = last_ms / 1000 + 60
    rows = (
        f"{args.schools} schools × {args.days:g} days ({args.schools * args.days * 1440:,.0f} rows)"
    )
    history = f", and {args.history} days of bins before them" if args.history else ""
    with contextlib.ExitStack() as stack:
        if args.influx:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="classnet-bench-"))
            server = servers.start_influxdb(Path(folder))
            stack.callback(server.stop)
            servers.influx_query(server.port, "CREATE DATABASE bench")
            url = f"influxdb://127.0.0.1:{server.port}/bench"
            to_influx(path, url)
        print(f"store: {rows}{history}, {'InfluxDB 1.6' if args.influx else 'SQLite'}")
        table(args, url, now_s)


def table(args: argparse.Namespace, url: str, now_s: float) -> None:
    print(
        "| code | view | first call s (median) | again s, p50 | again s, p95 | peak RSS MiB "
        "| response bytes |"
    )
    print("|---|---|--:|--:|--:|--:|--:|")
    for code in args.code or [ROOT]:
        for name, view in VIEWS.items():
            if args.only and not any(text in name for text in args.only):
                continue
            runs = [measure(code.resolve(), url, now_s, view, args.again) for _ in range(args.runs)]
            median = statistics.median(r["s"] for r in runs)
            warm = np.array([s for r in runs for s in r["warm_s"]])
            rss = max(r["rss_mib"] for r in runs)
            print(
                f"| {code.name} | {name} | {median:.2f} | {np.percentile(warm, 50):.2f} "
                f"| {np.percentile(warm, 95):.2f} | {rss:.0f} | {runs[0]['bytes']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
