"""A grown network (issue #17): every page's data callback and `classnet summary` on SQLite and
InfluxDB 1.x, at 50 schools × 7 days beside 500 × 30 (and, if asked, 500 × 365).

    PYTHONPATH=. python bench/scale.py                          # 50x7 and 500x30, both stores
    PYTHONPATH=. python bench/scale.py --sizes 50x7 --runs 5    # a quick look
    PYTHONPATH=. python bench/scale.py --sizes 500x365 --stores sqlite
    PYTHONPATH=. python bench/scale.py --map 10000              # Now map and leaderboard at 10k

How the stores are filled: not through Mosquitto and the gateway (500 × 365 would take a day of
simulated publishing) but with each store's own `write` (bench/dashboard.py `synthetic_store`),
a week of one station per batch: the very call the gateway makes, so SQLite keeps its 15-minute
rollups in the same transactions and InfluxDB gets the same line protocol. The InfluxDB 1.x server
is a private one started for the run (tests/servers.py).

How the pages are timed: a child process per store runs the real Dash app and POSTs each
page's data callback to `/_dash-update-component` (Flask's test client, as bench/dashboard.py),
`--runs` times, with the network-wide views' shared cache turned off (every run computes).
It prints p50/p95 per callback, the response's bytes, and the child's peak RSS (the dashboard's
memory). `classnet summary` over the whole range runs as its own process, timed with its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
# `--code DIR` (a child measuring another checkout, e.g. the code before issue #17) puts that
# checkout first; otherwise this one.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))

from tests import servers  # noqa: E402

# (callback name, output, inputs, changed prop, state) per page; selected schools filled in.
Case = tuple[str, str, list[dict[str, Any]], str, list[dict[str, Any]]]


def _bench_dashboard(code: Path = ROOT) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_dashboard", code / "bench" / "dashboard.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in(component: str, prop: str, value: Any) -> dict[str, Any]:
    return {"id": component, "property": prop, "value": value}


def cases(registry: Any) -> list[Case]:
    asia = sorted(registry.index[registry["region"] == "asia"])
    europe = sorted(registry.index[registry["region"] == "europe"])
    four = [*asia[:2], *europe[:2]]
    ten = [*asia[:5], *europe[:5]]
    version = _in("app-data-version", "data", {})
    out: list[Case] = [
        ("live tick (data version)", "app-data-version.data",
         [_in("app-tick", "n_intervals", 1)], "app-tick.n_intervals",
         [_in("app-data-version", "data", None)]),
        ("Now, map data", "now-map-data.data",
         [_in("now-variable", "value", "temp_c"), version], "now-variable.value", []),
        ("Now, 4 cards", "now-cards-data.data",
         [_in("app-selected", "data", four), version], "app-selected.data",
         [_in("now-cards-data", "data", None)]),
    ]  # fmt: skip
    for period in ("day", "week", "month"):
        out.append(
            (f"Compare, 10 schools × {period}", "compare-data.data",
             [_in("app-selected", "data", ten), _in("compare-variable", "value", "temp_c"),
              _in("compare-period", "value", period), _in("compare-clock", "value", "local"),
              version], "compare-period.value", [_in("compare-data", "data", None)])
        )  # fmt: skip
    out.append(
        ("Compare, daily bars 10 schools", "compare-daily-data.data",
         [_in("app-selected", "data", ten), version], "app-selected.data",
         [_in("compare-daily-data", "data", None)])
    )  # fmt: skip
    for period in ("week", "month"):
        for clock in ("local", "solar"):
            out.append(
                (f"Asia vs Europe, {period}, {clock}", "regions-data.data",
                 [_in("regions-variable", "value", "temp_c"),
                  _in("regions-period", "value", period), _in("regions-clock", "value", clock),
                  version], "regions-period.value", [])
            )  # fmt: skip
    out += [
        ("Leaderboard", "leaderboard-data.data",
         [version, _in("leaderboard-board", "id", "leaderboard-board")],
         "leaderboard-board.id", []),
        ("Stations (teachers)", "stations-data.data",
         [version, _in("stations-table", "id", "stations-table")], "stations-table.id", []),
    ]  # fmt: skip
    return out


def measure(url: str, runs: int, only: str | None) -> dict[str, Any]:
    """In this (child) process: every callback `runs` times; p50/p95 ms, bytes, peak RSS."""
    from dashboard.app import create_app
    from dashboard.data import Data
    from ingest import open_store

    post: Callable[..., tuple[float, int, Any]] = _bench_dashboard(CODE).post_callback
    data = Data(open_store(url, read_only=True))
    app = create_app(data)
    if hasattr(data, "views"):  # absent before issue #17
        data.views.ttl_s = 0.0  # every run computes: the cost of one tick, not of a cache hit
    client = app.server.test_client()
    client.get("/")
    results: dict[str, Any] = {}
    for name, output, inputs, changed, state in cases(data.registry()):
        if only and only not in name:
            continue
        post(client, output, inputs, changed, state)  # warm: imports, first-use caches
        times, sizes = [], []
        for _ in range(runs):
            elapsed, size, _ = post(client, output, inputs, changed, state)
            times.append(elapsed * 1000)
            sizes.append(size)
        results[name] = {
            "p50_ms": statistics.median(times),
            "p95_ms": statistics.quantiles(times, n=20, method="inclusive")[18]
            if len(times) > 1
            else times[0],
            "bytes": max(sizes),
        }
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def run_child(argv: list[str], code: Path = ROOT) -> str:
    """A process run to its end, importing from the checkout `code`; its stdout. (Peak RSS is
    measured inside each child: this process's RUSAGE_CHILDREN keeps the largest of all its
    children, not the last one's.)"""
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run(argv, capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:6])}: exit {proc.returncode}\n{proc.stderr.decode()[-2000:]}"
        )
    return proc.stdout.decode()


def summary_run(url: str, days: float, code: Path) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    argv = [
        sys.executable, "-m", "gateway.cli", "summary", "--store", url,
        "--start", str(today - timedelta(days=int(days))), "--end", str(today + timedelta(days=1)),
        "--format", "csv",
    ]  # fmt: skip
    script = (
        "import resource, subprocess, sys, time; t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], capture_output=True);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        " len(p.stdout), p.returncode, p.stderr.decode()[-500:].replace(chr(10), ' '))"
    )
    out = run_child([sys.executable, "-c", script, *argv], code)
    seconds, rss_kib, size, code_rc, err = out.split(" ", 4)
    if code_rc != "0":
        raise RuntimeError(f"classnet summary failed: {err}")
    return {"seconds": float(seconds), "peak_rss_mib": int(rss_kib) / 1024, "bytes": int(size)}


def build(url: str, n: int, days: float) -> tuple[list[str], float]:
    start = time.perf_counter()
    stations = _bench_dashboard().synthetic_store(url, n, days)
    return stations, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50x7,500x30", help="schools x days, comma separated")
    parser.add_argument("--stores", default="sqlite,influxdb")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", help="callbacks whose name contains this")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the stores (and InfluxDB's files) here; reuse them next time",
    )
    parser.add_argument("--build-only", action="store_true", help="fill the stores, time nothing")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child mode: a store URL
    parser.add_argument(
        "--code", type=Path, help="measure the pages of another checkout (e.g. main, for before)"
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs, args.only)))
        return
    print(f"bench/scale.py at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="classnet-bench-scale-") as tmp:
        work = args.keep or Path(tmp)
        influx = None
        if "influxdb" in args.stores:
            # With --keep, the same data folder as last time: its databases are reused.
            influx = servers.start_influxdb(work / "influxdb")
        try:
            for size in args.sizes.split(","):
                n, days = (float(x) for x in size.split("x"))
                for kind in args.stores.split(","):
                    if kind == "sqlite":
                        url = f"sqlite:///{work / f'scale-{size}.db'}"
                    else:
                        assert influx is not None
                        name = f"scale_{size}"
                        servers.influx_query(influx.port, f'CREATE DATABASE "{name}"')
                        url = f"influxdb://127.0.0.1:{influx.port}/{name}"
                    report(kind, size, url, int(n), days, args, work / f"built-{kind}-{size}")
        finally:
            if influx is not None:
                influx.stop()


def report(
    kind: str, size: str, url: str, n: int, days: float, args: argparse.Namespace, marker: Path
) -> None:
    rows = int(n * days * 1440)
    if marker.exists():
        built = f"built earlier in {marker.read_text().strip()} s"
    else:
        _, built_s = build(url, n, days)
        marker.write_text(f"{built_s:.0f}")
        built = f"built in {built_s:.0f} s"
    print(f"\n== {kind}, {size} ({n} schools, {rows:,} rows, {built})", flush=True)
    if args.build_only:
        return
    out = run_child(
        [sys.executable, str(_HERE / "scale.py"), "--measure", url, "--runs", str(args.runs)]
        + (["--only", args.only] if args.only else [])
        + (["--code", str(args.code)] if args.code else [])
    )
    result = json.loads(out.strip().splitlines()[-1])
    for name, r in result.items():
        if name != "peak_rss_mib":
            print(f"  {name:<36} p50 {r['p50_ms']:8.0f} ms  p95 {r['p95_ms']:8.0f} ms"
                  f"  {r['bytes']:>10,} B")  # fmt: skip
    print(f"  dashboard peak RSS {result['peak_rss_mib']:.0f} MiB")
    summary = summary_run(url, days, args.code or ROOT)
    print(f"  classnet summary, {days:g} days: {summary['seconds']:.1f} s, "
          f"peak RSS {summary['peak_rss_mib']:.0f} MiB, {summary['bytes']:,} B")  # fmt: skip
    print(json.dumps({"store": kind, "size": size, "pages": result, "summary": summary}))


if __name__ == "__main__":
    main()
