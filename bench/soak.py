"""Soak run: the real chain (Mosquitto → `classnet gateway` → InfluxDB 1.x) under a steady load
for a bounded time, with faults on a schedule, then the exact count. Prints its figures.

    PYTHONPATH=. python bench/soak.py                    # 5 minutes, 1,000 obs/s
    PYTHONPATH=. python bench/soak.py --minutes 30 --rate 2000 --kill-every 60 --outage-every 300

Faults: the gateway SIGKILLed and restarted every `--kill-every` s; InfluxDB stopped for
`--outage-s` every `--outage-every` s. Memory: the gateway's RSS sampled every 5 s; a leak shows
as a rising trend between restarts (each restart resets it, so the figure is per gateway life).
The tests in tests/faults prove each fault once; this shows they stay proven over time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402
from tests.faults.harness import (  # noqa: E402
    GatewayProc,
    Publisher,
    influx_count,
    observations,
    rss_mib,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=1000, help="observations per second")
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--kill-every", type=float, default=45.0, metavar="S")
    parser.add_argument("--outage-every", type=float, default=120.0, metavar="S")
    parser.add_argument("--outage-s", type=float, default=15.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="classnet-soak-"))
    duration = args.minutes * 60
    n = int(args.rate * duration)
    print(f"soak: {args.minutes:g} min at {args.rate} obs/s = {n:,} observations; in {work}")
    broker = servers.start_mosquitto(work / "mosquitto")
    influx = servers.start_influxdb(work / "influx")
    servers.influx_query(influx.port, "CREATE DATABASE soak")
    gateway = GatewayProc(
        broker.port,
        f"influxdb://127.0.0.1:{influx.port}/soak",
        work / "spool",
        "gw-soak",
        work / "gateway.log",
    )
    gateway.start()
    publisher = Publisher(broker.port, "pub-soak")
    sent = observations(n, args.stations, time.time() - duration - 3600, prefix="fi-soak")
    publisher.publish_in_background([(t, p) for t, p, _ in sent], rate=args.rate)
    started = time.monotonic()
    kills = outages = 0
    next_kill, next_outage = args.kill_every, args.outage_every
    rss: list[tuple[float, float]] = []
    try:
        while (elapsed := time.monotonic() - started) < duration:
            rss.append((elapsed, rss_mib(gateway.pid)))
            if elapsed >= next_kill:
                gateway.kill()
                gateway.start()
                kills += 1
                next_kill += args.kill_every
            if elapsed >= next_outage:
                influx.stop()
                time.sleep(args.outage_s)
                influx = servers.start_influxdb(work / "influx", port=influx.port)
                outages += 1
                next_outage += args.outage_every
            time.sleep(5)
        publisher.wait_all(timeout=600)
        published_s = time.monotonic() - started
        deadline = time.monotonic() + 600
        while influx_count(influx.port, "soak") < n and time.monotonic() < deadline:
            time.sleep(1)
        done_s = time.monotonic() - started
        stored = influx_count(influx.port, "soak")
    finally:
        publisher.close()
        gateway.stop()
        broker.stop()
        influx.stop()
    peak = max(r for _, r in rss)
    print(
        f"published {n:,} in {published_s:.0f} s; {kills} gateway kills, {outages} InfluxDB "
        f"outages of {args.outage_s:g} s"
    )
    print(
        f"stored {stored:,} of {n:,} ({'exact' if stored == n else 'MISMATCH'}) "
        f"{done_s - published_s:.0f} s after the last publish"
    )
    print(
        f"gateway RSS: first sample {rss[0][1]:.0f} MiB, peak {peak:.0f} MiB, "
        f"last {rss[-1][1]:.0f} MiB ({len(rss)} samples)"
    )
    sys.exit(0 if stored == n else 1)


if __name__ == "__main__":
    main()
