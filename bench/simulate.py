"""Can one process simulate 10,000 stations at a 60 s interval without falling behind?

Runs the simulator live (real clock) against a private Mosquitto on loopback and measures:
- CPU used by the simulator process (user + system, all threads) per wall second, as % of a core;
- lag: how long after its reading time each observation was handed to paho (the simulator falls
  behind if this grows); and that every publish was acknowledged (QoS 1);
- Mosquitto's own CPU, for context (it shares the machine);
- fast mode: simulated minutes of the whole fleet computed and encoded per CPU second.

    python bench/simulate.py --stations 10000 --minutes 3

Results on the development machine (2 cores shared with other work) are in docs/simulator.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.domain.broker import BrokerURL
from simulators import towns
from simulators.fleet import Fleet, Send
from simulators.mqtt import Publisher
from simulators.run import Pace, run
from tests.servers import start_mosquitto


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_fast(n: int, minutes: int) -> float:
    fleet = Fleet(towns.stations(n), 1, 1761955200, 60)
    before = cpu_s()
    count = 0
    for a in range(fleet.start, fleet.start + minutes * 60, 60):
        count += len(fleet.window(a, a + 60))
    used = cpu_s() - before
    print(
        f"fast mode: {count} observations ({n} stations x {minutes} min) in {used:.2f} CPU s "
        f"= {count / used:,.0f} obs/CPU s; one simulated minute of the fleet = "
        f"{used / minutes:.2f} CPU s"
    )
    return used / minutes


def bench_live(n: int, minutes: int, pool: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_mosquitto(Path(tmp) / "mosquitto")
        try:
            stations = towns.stations(n)
            now = int(time.time())
            fleet = Fleet(stations, 1, now - now % 60 + 60, 60)
            publisher = Publisher(BrokerURL("127.0.0.1", broker.port), fleet.ids, set(), pool)
            publisher.connect()
            lags: list[float] = []

            def sink(send: Send) -> None:
                if send.topic.endswith("/obs"):
                    lags.append(time.time() - send.t)
                publisher.send(send)

            # The birth (2 retained messages per station) goes first and is not timed.
            for send in fleet.begin():
                publisher.send(send)
            publisher._settle()
            fleet.begin = lambda: []  # type: ignore[method-assign]
            time.sleep(max(0.0, fleet.start - time.time()))
            cpu0, wall0, mq0 = cpu_s(), time.time(), proc_cpu_s(broker.pid)
            run(fleet, sink, Pace(fleet.start, speed=1.0), fleet.start + minutes * 60)
            publisher.close()
            cpu, wall, mq = cpu_s() - cpu0, time.time() - wall0, proc_cpu_s(broker.pid) - mq0
        finally:
            broker.stop()
    lag = np.array(lags)
    print(f"live: {n} stations, 60 s interval, {minutes} min, pool of {pool} connections")
    print(f"  observations published: {len(lag)} ({len(lag) / wall:.0f}/s), all acknowledged")
    print(
        f"  simulator CPU: {cpu:.1f} s in {wall:.0f} s wall = {100 * cpu / wall:.1f} % of one core"
    )
    print(f"  mosquitto CPU: {mq:.1f} s = {100 * mq / wall:.1f} % of one core")
    print(
        f"  lag after reading time: median {np.median(lag):.2f} s, p99 "
        f"{np.percentile(lag, 99):.2f} s, max {lag.max():.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=3)
    parser.add_argument("--pool", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    bench_fast(args.stations, 5)
    bench_live(args.stations, args.minutes, args.pool)


if __name__ == "__main__":
    main()
