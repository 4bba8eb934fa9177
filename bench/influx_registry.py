"""The InfluxDB station registry as the dashboard reads it on every live tick (issue #17), against
the length of its history.

    .venv/bin/python bench/influx_registry.py [--stations 500] [--days 1 30 365] [--per-day 24]

For each history length, a private InfluxDB 1.x (Debian's influxd, a temporary folder) receives
`--stations` stations' registry points, `--per-day` a day each (the gateway writes one for every
batch a station is in; a school sending every minute lands in about one batch a minute, so
real stores hold more), then times `InfluxStore.stations()` on a fresh store (its first call
also makes the full read) and on the ticks after it, beside one `LAST(*)` over all of the
history, which is what every tick used to cost. Prints the medians of 10 ticks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import lineprotocol, open_store  # noqa: E402
from tests import servers  # noqa: E402

DAY_NS = 86_400 * 10**9


def fill(port: int, db: str, stations: int, days: int, per_day: int) -> int:
    now_ns = time.time_ns()
    step = DAY_NS // per_day
    lines = []
    written = 0
    for k in range(days * per_day):
        at = now_ns - days * DAY_NS + k * step
        for s in range(stations):
            fields = {"last_seen_ms": at // 10**6, "state": "online", "battery_v": 3.7}
            if k == 0:
                fields |= {"name": f"School {s}", "timezone": "Asia/Manila", "lat": 14.6}
            lines.append(
                lineprotocol.encode_point("registry", {"station": f"ph-s-{s:04d}"}, fields, at + s)
            )
        if len(lines) >= 50_000 or k == days * per_day - 1:
            body = "\n".join(lines).encode()
            url = f"http://127.0.0.1:{port}/write?db={db}&precision=ns"
            with urllib.request.urlopen(urllib.request.Request(url, body, method="POST")):
                pass
            written += len(lines)
            lines = []
    return written


def timed(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--days", type=int, nargs="+", default=[1, 30, 365])
    parser.add_argument("--per-day", type=int, default=24)
    args = parser.parse_args()
    print("| history | registry points | first read s | a tick s | LAST(*) over all s |")
    print("|---|--:|--:|--:|--:|")
    for days in args.days:
        with tempfile.TemporaryDirectory(prefix="classnet-registry-") as folder:
            server = servers.start_influxdb(Path(folder))
            try:
                servers.influx_query(server.port, "CREATE DATABASE bench")
                points = fill(server.port, "bench", args.stations, days, args.per_day)
                store = open_store(f"influxdb://127.0.0.1:{server.port}/bench")
                start = time.perf_counter()
                assert len(store.stations()) == args.stations
                first = time.perf_counter() - start
                tick = timed(store.stations, 10)
                query = "SELECT LAST(*) FROM registry GROUP BY station"
                full = timed(lambda q=query, s=store: s.query(q), 10)  # type: ignore[attr-defined]
                store.close()
            finally:
                server.stop()
        print(f"| {days} days | {points:,} | {first:.2f} | {tick:.3f} | {full:.3f} |", flush=True)


if __name__ == "__main__":
    main()
