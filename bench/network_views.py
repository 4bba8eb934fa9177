"""The network-wide views on a grown network (issue #17): time and peak memory of one dashboard
process computing Asia vs Europe and the leaderboard over every school, and of `classnet summary`
and `classnet export` over the month.

    .venv/bin/python bench/network_views.py [--schools 200] [--days 30] [--runs 3]
    .venv/bin/python bench/network_views.py --code /path/to/other/checkout   # the same, before

Builds (once, kept in --store-dir) a SQLite store of N schools × D days of 1-minute readings
with `bench/compare_view.py`'s `synthetic_store` (its 15-minute bins rolled once, as a gateway
rolls them between batches, the time it took printed; then every school's last minute marked as
written since, as a live store is between two rolls), then computes each view in a fresh process
(`Data` over the store, as the dashboard does, `now` fixed at the store's last reading; the
command as `classnet summary` runs it) and prints the median wall time of its first call and of
a second call in the same process (a running dashboard's registry and time-zone tables are
warm), and the process's peak RSS. `--code` measures another checkout's
`dashboard` on the same store, so two versions compare in one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VIEWS = {
    "Now map (latest values and the figure)": "now_map('temp_c')",
    "Asia vs Europe, month, local clock": "data.regions('temp_c', 'month', 'local', now=now)",
    "Asia vs Europe, week, UTC": "data.regions('temp_c', 'week', 'utc', now=now)",
    "leaderboard": "data.leaderboard(now=now)",
    "classnet summary, 29 days": "cli.main(['summary', '--store', sys.argv[1], '--start', "
    "str((now - timedelta(days=29)).date()), '--end', str(now.date()), '--format', 'csv'])",
    "classnet export, 29 days": "cli.main(['export', '--store', sys.argv[1], '--start', "
    "str((now - timedelta(days=29)).date()), '--end', str(now.date()), '-o', os.devnull])",
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
start = time.perf_counter()
result = {view}
elapsed = time.perf_counter() - start
# Again in the same process: a running dashboard's registry and time-zone tables are warm.
start = time.perf_counter()
result = {view}
warm = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
size = len(json.dumps(result, default=str))
print(json.dumps({{"s": elapsed, "warm_s": warm, "rss_mib": peak, "bytes": size}}))
"""


def build(path: Path, schools: int, days: float) -> None:
    spec = importlib.util.spec_from_file_location("compare_view", ROOT / "bench/compare_view.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"building {path}: {schools} schools × {days:g} days of 1-minute readings", flush=True)
    module.synthetic_store(f"sqlite:///{path}", schools, days)


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
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO bins_dirty"
            " SELECT station, last_seen_ms - 60000, last_seen_ms FROM registry"
        )


def measure(code: Path, url: str, now_s: float, view: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(view=view), url, str(now_s)],
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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, action="append", help="checkout(s) to measure")
    parser.add_argument("--store-dir", type=Path, default=Path("/tmp/classnet-bench"))
    parser.add_argument("--only", metavar="TEXT", help="only the views whose name holds TEXT")
    args = parser.parse_args()
    args.store_dir.mkdir(parents=True, exist_ok=True)
    path = args.store_dir / f"network-{args.schools}x{args.days:g}.db"
    if not path.exists():
        build(path, args.schools, args.days)
    url = f"sqlite:///{path}"
    roll(path)
    import sqlite3

    with sqlite3.connect(path) as db:
        (last_ms,) = db.execute("SELECT max(ts_ms) FROM obs").fetchone()
    now_s = last_ms / 1000 + 60
    rows = (
        f"{args.schools} schools × {args.days:g} days ({args.schools * args.days * 1440:,.0f} rows)"
    )
    print(f"store: {rows}, SQLite")
    print("| code | view | first call s | again s | peak RSS MiB | response bytes |")
    print("|---|---|--:|--:|--:|--:|")
    for code in args.code or [ROOT]:
        for name, view in VIEWS.items():
            if args.only and args.only not in name:
                continue
            runs = [measure(code.resolve(), url, now_s, view) for _ in range(args.runs)]
            median = statistics.median(r["s"] for r in runs)
            warm = statistics.median(r["warm_s"] for r in runs)
            rss = max(r["rss_mib"] for r in runs)
            print(
                f"| {code.name} | {name} | {median:.2f} | {warm:.2f} | {rss:.0f} "
                f"| {runs[0]['bytes']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
