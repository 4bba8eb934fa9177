"""Ingest benchmark: the real chain (Mosquitto → `classnet gateway` → SQLite / InfluxDB 1.x) on
this machine, next to the limits measured in the same run.

    PYTHONPATH=. python bench/gateway_chain.py                       # 200,000 obs, 500 stations
    PYTHONPATH=. python bench/gateway_chain.py --observations 20000  # a quick look

Prints, for each store and payload shape (one observation per message; arrays of 100 as a
reconnecting station sends): sustained observations/s, the gateway's peak RSS, and the ratio to
its limit; for one observation per message also publish→queryable latency p50/p99 at half the
sustained rate. The limits: a paho subscriber that only counts the same stream, and InfluxDB
taking the same data as prebuilt line protocol in 5,000-line requests. Each gateway run
alternates with its limit, twice, on idle servers; the best of each is compared. Everything
runs on the same cores (publisher, broker, gateway, store), as in the issue's reference figures.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware import wire  # noqa: E402
from tests import servers  # noqa: E402

WINDOW = 100
ROUNDS = 2  # limit and gateway measured alternately, best of each
T0 = 1_763_884_800.0  # observation times start here (2025-11-23), one run apart per scenario


# --- child processes: publisher, counting subscriber, gateway ---------------------------------

# `classnet gateway`, and with --without-pyarrow as in a clean install: pandas 3 loads pyarrow
# (~40 MiB) whenever it is installed, and it is only the `parquet` extra. It must be kept out
# before anything imports pandas, so before this module's own imports (ingest does).
GATEWAY = """
import os, sys
if os.environ.get("CLASSNET_BENCH_WITHOUT_PYARROW"):
    sys.modules["pyarrow"] = None
from gateway.cli import main
sys.exit(main(sys.argv[1:]))
"""


def messages(n: int, stations: int, shape: int, t0: float) -> list[tuple[str, bytes]]:
    """n observations from `stations` stations, `shape` per message (1 or 100)."""
    per_station = -(-n // stations)
    out = []
    for s in range(stations):
        station = f"fi-bench-{s:03d}"
        topic = wire.topic(station, "obs")
        obs = [
            wire.observation(
                t0 + k * 60 + s * 0.001,
                seq=k,
                temp_c=round(10 + (k % 200) / 10, 1),
                rh_pct=55.2,
                pressure_hpa=1003.1,
                wind_speed_ms=3.2,
                battery_v=3.9,
                rssi_dbm=-60,
            )
            for k in range(per_station)
        ]
        for i in range(0, len(obs), shape):
            out.append((topic, wire.encode(obs[i] if shape == 1 else obs[i : i + shape])))
    # interleave stations as a live fleet would
    order = sorted(range(len(out)), key=lambda i: (i % (len(out) // stations or 1), i))
    return [out[i] for i in order]


def publisher(port: int, n: int, stations: int, shape: int, t0: float, rate: float) -> None:
    msgs = messages(n, stations, shape, t0)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    # A window of unacknowledged publishes: paho rescans its whole outgoing queue on every
    # PUBACK, so queueing 200,000 at once would make the publisher the slowest part.
    client.max_inflight_messages_set(WINDOW)
    client.connect("127.0.0.1", port)
    client.loop_start()
    sent_at = np.zeros(len(msgs))
    start = time.time()
    window: collections.deque[mqtt.MQTTMessageInfo] = collections.deque()
    for i, (topic, payload) in enumerate(msgs):
        if rate:
            due = start + i / rate
            while time.time() < due:
                time.sleep(0.001)
        if len(window) >= WINDOW:
            window.popleft().wait_for_publish(120)
        sent_at[i] = time.time()
        window.append(client.publish(topic, payload, qos=1))
    for info in window:
        info.wait_for_publish(120)
    done = time.time()
    client.disconnect()
    client.loop_stop()
    if rate:  # the paced run's publish times, for publish->queryable latency
        np.save(sys.stdout.buffer, sent_at)
    print(json.dumps({"start": start, "done": done}), file=sys.stderr)


def counter(port: int, n: int, client_id: str) -> None:
    """Count observations on a persistent session; prints when it connected and when the last
    observation arrived (the first run only opens the session: n = 0)."""
    count = 0
    last = 0.0
    connected = 0.0
    subscribed = threading.Event()

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        nonlocal connected
        connected = time.time()
        c.subscribe(f"{wire.TOPIC_PREFIX}+/obs", qos=1)

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        nonlocal count, last
        count += m.payload.count(b"{") if m.payload[:1] == b"[" else 1
        last = time.time()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_message = on_message
    client.on_connect = on_connect
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    while count < n or not subscribed.is_set():  # the first run only opens the session
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"connected": connected, "last": last, "count": count}), flush=True)


# --- the bench itself -------------------------------------------------------------------------


def child(*args: str, **kw: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, __file__, *args], env=env, **kw)  # type: ignore[call-overload]


def publish(port: int, n: int, stations: int, shape: int, t0: float, rate: float = 0) -> dict:
    proc = child(
        "--child",
        "publish",
        str(port),
        str(n),
        str(stations),
        str(shape),
        str(t0),
        str(rate),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=900)
    result = json.loads(err.decode().strip().splitlines()[-1])
    if rate:
        result["sent_at"] = np.load(io.BytesIO(out))
    return result


def forget_session(port: int, client_id: str) -> None:
    """End a persistent session at the broker (MQTT 3.1.1 §3.1.2.4: a clean-session connect
    discards it): left behind, it would queue every later run's messages and slow the broker
    for all the runs after it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect("127.0.0.1", port)
    client.disconnect()


def counting_limit(port: int, n: int, stations: int) -> float:
    """The backlog drain rate of a subscriber that does nothing but count (auto-ack)."""
    client_id = f"bench-count-{time.time_ns()}"
    for target in (0, n):
        if target:
            publish(port, n, stations, 1, T0)
        sub = child("--child", "count", str(port), str(target), client_id, stdout=subprocess.PIPE)
        out, _ = sub.communicate(timeout=900)
    forget_session(port, client_id)
    result = json.loads(out)
    return n / (result["last"] - result["connected"])


def influx_limit(port: int, n: int, stations: int) -> float:
    from gateway.decode_batch import decode_messages
    from ingest.lineprotocol import encode_obs

    database = f"limit_lp_{time.time_ns()}"  # fresh, as each gateway run's database is
    servers.influx_query(port, f'CREATE DATABASE "{database}"')
    msgs = messages(n, stations, 1, T0)
    lines: list[bytes] = []
    for i in range(0, len(msgs), 5000):
        batch = decode_messages(msgs[i : i + 5000], time.time(), 0).batch
        lines.append(encode_obs(batch.obs))
    started = time.perf_counter()
    for body in lines:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/write?db={database}&precision=ms", data=body
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 204
    return n / (time.perf_counter() - started)


def stored_count(store: str) -> int:
    if store.startswith("sqlite"):
        path = store.split("sqlite://", 1)[1]
        db = sqlite3.connect(path, timeout=30)
        try:
            return int(db.execute("SELECT count(*) FROM obs").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0
        finally:
            db.close()
    port, database = store.rsplit(":", 1)[1].split("/")
    result = servers.influx_query(int(port), "SELECT COUNT(temp_c) FROM obs", db=database)
    series = result["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def _rates(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def settle(*servers_: servers.Server, busy: float = 0.05, limit_s: float = 60.0) -> None:
    """Wait until the servers are idle (under `busy` of a core over half a second). InfluxDB
    compacts what it was just sent for many seconds after it answered; without this, each run
    would pay for the one before it."""
    deadline = time.monotonic() + limit_s
    before = sum(cpu_seconds(s.pid) for s in servers_)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(cpu_seconds(s.pid) for s in servers_)
        if now - before < busy * 0.5:
            return
        before = now


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_gateway(
    broker_port: int, store: str, work: Path, name: str
) -> tuple[subprocess.Popen[bytes], int]:
    metrics_port = servers.free_port()
    argv = [
        "gateway",
        "--broker",
        f"mqtt://127.0.0.1:{broker_port}",
        "--store",
        store,
        "--spool-dir",
        str(work / f"spool-{name}"),
        "--metrics-port",
        str(metrics_port),
        "--client-id",
        f"bench-{name}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", GATEWAY, *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=open(work / f"gateway-{name}.log", "wb"),  # noqa: SIM115 (the child keeps it)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.02)
    else:
        raise RuntimeError(f"gateway {name} did not become healthy; see {work}/gateway-{name}.log")
    return proc, metrics_port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(60)


def gateway_run(
    broker: int, store: str, n: int, stations: int, shape: int, t0: float, work: Path, name: str
) -> tuple[float, float]:
    """The backlog drain rate: the stream is queued at the broker for the gateway's persistent
    session while it is down, then timed from its reconnection to the last observation stored."""
    proc, _ = start_gateway(broker, store, work, name)  # opens the session
    stop(proc)
    publish(broker, n, stations, shape, t0)
    proc, mport = start_gateway(broker, store, work, name)
    connected = time.time()  # start_gateway returns once /healthz says subscribed
    try:
        deadline = time.monotonic() + 600
        while metric(mport, "classnet_stored_observations_total") < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: not all stored after 600 s")
            time.sleep(0.01)
        done = time.time()
        rss = peak_rss_mib(proc.pid)
    finally:
        stop(proc)
        forget_session(broker, f"bench-{name}")
    assert stored_count(store) == n, f"{name}: {stored_count(store)} stored, {n} published"
    return n / (done - connected), rss


def latency_run(
    broker: int, store: str, rate: float, seconds: float, stations: int, work: Path, name: str
) -> tuple[float, float]:
    n = int(rate * seconds)
    # observation times inside the contract's window (each station's are a minute apart)
    t0 = time.time() - 3600 - (n // stations + 1) * 60
    proc, _ = start_gateway(broker, store, work, name)  # subscribed: publishing may start
    polls: list[tuple[float, int]] = []
    try:
        pub_proc = child(
            "--child",
            "publish",
            str(broker),
            str(n),
            str(stations),
            "1",
            str(t0),
            str(rate),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + seconds * 3 + 60
        count = 0
        while count < n and time.monotonic() < deadline:
            count = stored_count(store)
            polls.append((time.time(), count))
            time.sleep(0.1)  # COUNT() competes with the writes it measures: poll gently
        out, _ = pub_proc.communicate(timeout=120)

        sent_at = np.load(io.BytesIO(out))
    finally:
        stop(proc)
        forget_session(broker, f"bench-{name}")
    times = np.array([t for t, _ in polls])
    counts = np.array([c for _, c in polls])
    # message i is queryable at the first poll whose count exceeds i (writes land in order)
    first = np.searchsorted(counts, np.arange(len(sent_at)) + 1, side="left")
    ok = first < len(times)
    lat = times[first[ok]] - sent_at[ok]
    return float(np.percentile(lat, 50)), float(np.percentile(lat, 99))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument(
        "--latency-only",
        type=float,
        metavar="OBS_PER_S",
        help="skip the sustained-rate runs; measure publish->queryable at this rate only",
    )
    parser.add_argument(
        "--without-pyarrow",
        action="store_true",
        help="run the gateway as in a clean install, where pandas finds no pyarrow",
    )
    args = parser.parse_args()
    if args.without_pyarrow:
        os.environ["CLASSNET_BENCH_WITHOUT_PYARROW"] = "1"
    n, stations = args.observations, args.stations
    work = Path(tempfile.mkdtemp(prefix="classnet-bench-"))
    print(f"{n:,} observations from {stations} stations, QoS 1, {os.cpu_count()} cores; in {work}")
    broker = servers.start_mosquitto(work / "mosquitto")
    influx = servers.start_influxdb(work / "influxdb")
    try:

        def fresh_store(name: str) -> str:
            if name.startswith("sqlite"):
                return f"sqlite://{work / (name + '.db')}"
            servers.influx_query(influx.port, f'CREATE DATABASE "{name}"')
            return f"influxdb://127.0.0.1:{influx.port}/{name}"

        # Each run is paired with a measurement of its limit just before it, twice, and the
        # best of each is compared: the machine's other load drifts over the minutes a full run
        # takes (a limit moved by a third between neighbouring runs), and a ratio is only fair
        # between neighbours measured alike. Before each, the servers are left to go idle.
        results = {}
        for store_kind in () if args.latency_only else ("influxdb", "sqlite"):
            for shape in (1, 100):
                label = "counting" if shape == 1 else "InfluxDB-only"
                limits, rates, peaks = [], [], []
                for round_ in range(ROUNDS):
                    settle(broker, influx)
                    if shape == 1:
                        limits.append(counting_limit(broker.port, n, stations))
                    else:
                        limits.append(influx_limit(influx.port, n, stations))
                    settle(broker, influx)
                    name = f"{store_kind}-{shape}-{round_}"
                    rate, rss = gateway_run(
                        broker.port, fresh_store(name), n, stations, shape, T0, work, name
                    )
                    rates.append(rate)
                    peaks.append(rss)
                limit, rate = max(limits), max(rates)
                if shape == 1:
                    results[store_kind] = rate
                print(
                    f"gateway {store_kind:<8} {'1 obs/msg' if shape == 1 else '100 obs/msg':<11}"
                    f" {rate:>9,.0f} obs/s  = {rate / limit:.2f} x {label} {limit:,.0f}"
                    f"   peak RSS {max(peaks):.0f} MiB   (runs {_rates(rates)}; limits "
                    f"{_rates(limits)})"
                )
        for store_kind in ("influxdb", "sqlite"):
            name = f"{store_kind}-latency"
            store = fresh_store(name)
            rate = args.latency_only or results[store_kind] / 2
            settle(broker, influx)
            p50, p99 = latency_run(
                broker.port, store, rate, args.latency_seconds, stations, work, name
            )
            print(
                f"latency {store_kind:<8} at {rate:,.0f} obs/s "
                f"({'as asked' if args.latency_only else 'half sustained'}): "
                f"publish->queryable p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
            )
    finally:
        broker.stop()
        influx.stop()


def _child_main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "publish":
        port, n, stations, shape = map(int, argv[1:5])
        publisher(port, n, stations, shape, float(argv[5]), float(argv[6]))
    elif kind == "count":
        counter(int(argv[1]), int(argv[2]), argv[3])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_main(sys.argv[2:])
    else:
        main()
