"""How fast does `classnet bridge` drain a station's backlog over USB serial?

The issue's target: a week-long backlog of a 1-minute station (10,080 observations) drains in
under 10 s, i.e. at least 1,000 observations/s. Runs the real thing on this machine: the firmware
under MicroPython's unix port with 10,080 readings in its flash outbox (written by the firmware's
own Outbox), a pty as its USB cable, the bridge in this process, a private Mosquitto, and a QoS 1
subscriber counting what arrives.

    python bench/bridge.py [--backlog 10080]

Prints observations/s from the first observation at the broker to the last, and from the
station's start (boot, birth and time sync included).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.bridge.bridge import Bridge, PortSpec
from gateway.bridge.session import StationSession
from ingest.domain.broker import BrokerURL
from tests.bridge.harness import Station, direct, prefill, serial_board
from tests.servers import require_binary, start_mosquitto

STATION = "fi-bench-bridge"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=10080)
    args = parser.parse_args()
    micropython = require_binary("micropython")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        broker = start_mosquitto(tmp / "mosquitto")
        fs = tmp / "fs"
        capacity = args.backlog + 1000
        serial_board(fs, STATION, capacity=capacity, interval_s=60)
        prefill(fs, args.backlog, int(time.time()) - args.backlog * 60, 60, capacity)

        arrivals: list[tuple[float, int]] = []
        sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sub")
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe(f"classnet/v1/{STATION}/obs", 1)
        sub.on_message = lambda c, u, m: arrivals.append(
            (time.monotonic(), len(body) if isinstance(body := json.loads(m.payload), list) else 1)
        )
        sub.connect("127.0.0.1", broker.port)
        sub.loop_start()
        time.sleep(0.5)

        port = tmp / "ttyUSB-bench"
        url = BrokerURL("127.0.0.1", broker.port, user=STATION)
        bridge = Bridge(PortSpec(str(port)), STATION, lambda st: StationSession(url, st))
        stop = threading.Event()
        thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
        thread.start()
        started = time.monotonic()
        station = Station(micropython, fs, direct(port))
        try:
            deadline = started + 120
            while sum(n for _, n in arrivals) < args.backlog and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(10)
            station.kill()
            sub.loop_stop()
            broker.stop()
        got = sum(n for _, n in arrivals)
        if got < args.backlog:
            sys.exit(f"only {got} of {args.backlog} observations arrived within 120 s")
        first, last = arrivals[0][0], arrivals[-1][0]
        print(
            f"{got} observations in {len(arrivals)} messages; first to last at the broker "
            f"{last - first:.2f} s = {got / (last - first):,.0f} obs/s; from the station's start "
            f"{last - started:.2f} s = {got / (last - started):,.0f} obs/s "
            f"(repeats {bridge.link.counts['repeats']}, unacked {bridge.link.counts['unacked']})"
        )


if __name__ == "__main__":
    main()
