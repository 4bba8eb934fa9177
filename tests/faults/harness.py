"""Driving the real product from fault, fuzz and scale-out tests: `classnet gateway` as a child
process (so it can be SIGKILLed and its memory measured), an honest at-least-once publisher,
and reading what landed in the store.

The gateway is the installed command line (`python -m gateway.cli gateway ...`), not an object in
the test process: a kill must take down exactly what a kill takes down in production.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from firmware import wire
from tests import servers
from tests.waiting import hold, wait_until

ROOT = Path(__file__).resolve().parents[2]


def report(line: str) -> None:
    """A figure for the run's output: shown with `-s`, and in the captured output on failure."""
    print(f"[figures] {line}", flush=True)


# --- the gateway as a process ----------------------------------------------------------------


@dataclass
class GatewayProc:
    """One `classnet gateway` child process; `start()` again after a kill resumes its session."""

    broker_port: int
    store: str
    spool_dir: Path
    client_id: str | None  # None: the gateway derives its own from its command line
    log: Path
    extra: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--broker",
            f"mqtt://127.0.0.1:{self.broker_port}",
            "--store",
            self.store,
            "--spool-dir",
            str(self.spool_dir),
            *(["--client-id", self.client_id] if self.client_id else []),
            "--metrics-port",
            str(self.metrics_port),
            *self.extra,
        ]

    def start(self, wait: bool = True) -> None:
        if not self.metrics_port:
            self.metrics_port = servers.free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts} ---\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.argv(), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.log.parent
            )
        self.starts += 1
        if wait:
            wait_until(self.connected, 60, f"gateway {self.client_id} to connect")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def connected(self) -> bool:
        if not self.alive():
            raise AssertionError(
                f"gateway exited ({self.proc and self.proc.returncode}):\n{self.log_tail()}"
            )
        try:
            return self.metrics().get("classnet_broker_connected", 0.0) == 1.0
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no flush, no disconnect, no goodbye."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            assert self.proc is not None
            self.proc.wait(30)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, as systemd does; the gateway makes what it received safe, then exits."""
        if self.proc is None:
            return None
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def http(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metrics(self) -> dict[str, float]:
        """The Prometheus text of /metrics as {"name{labels}": value}."""
        _, text = self.http("/metrics")
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def metric(self, name: str) -> float:
        try:
            return self.metrics().get(name, 0.0)
        except OSError:
            return 0.0

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- an honest at-least-once publisher -------------------------------------------------------

MAX_OUTSTANDING = 30_000


class Publisher:
    """Publishes at QoS 1 the way a station does: a message stays with the publisher until the
    broker acknowledges it, and unacknowledged ones are sent again after a reconnect (paho keeps
    them, resends them with DUP set, and reconnects by itself in its network thread).

    `rate` paces publishing (messages per second) so a fault can strike under a steady load."""

    def __init__(self, port: int, client_id: str, max_inflight: int = 1000) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)  # unbounded: nothing is dropped while away
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.sent = 0
        self._acked = 0
        self._lock = threading.Lock()
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def publish(self, messages: Iterable[tuple[str, bytes]], rate: float | None = None) -> None:
        started = time.monotonic()
        for i, (topic, payload) in enumerate(messages):
            # paho refuses a message whose 16-bit packet id is still outstanding, so at most
            # MAX_OUTSTANDING wait for their PUBACK; the caller waits, as a station's buffer does.
            while self.unacked() >= MAX_OUTSTANDING:
                hold(0.005, "a PUBACK frees a packet id")
            info = self.client.publish(topic, payload, qos=1)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                raise RuntimeError(f"publish {topic}: {mqtt.error_string(info.rc)}")
            with self._lock:
                self.sent += 1
            if rate:
                ahead = started + (i + 1) / rate - time.monotonic()
                if ahead > 0:
                    hold(ahead, "the publishing rate")

    def publish_in_background(
        self, messages: list[tuple[str, bytes]], rate: float | None = None
    ) -> None:
        def run() -> None:
            try:
                self.publish(messages, rate)
            except BaseException as exc:  # reported by wait_all
                self.error = exc

        self._thread = threading.Thread(target=run, name="publisher", daemon=True)
        self._thread.start()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *args: object) -> None:
        # paho calls this once per message, on its PUBACK: a resent message is acked once.
        # (MQTTMessageInfo.is_published() cannot be used: it raises for a message queued while
        # the client was disconnected, though paho sends it on reconnect.)
        with self._lock:
            self._acked += 1

    def unacked(self) -> int:
        with self._lock:
            return self.sent - self._acked

    def wait_all(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        wait_until(lambda: self.unacked() == 0, timeout, "the broker to acknowledge everything")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- what the tests send and what landed -----------------------------------------------------


def observations(
    n: int, stations: int, t0: float, prefix: str = "fi-fault"
) -> list[tuple[str, bytes, tuple[str, int]]]:
    """n single-observation messages, `stations` stations round robin, each with its identity
    (station, ts_ms). Times are unique per station, a second apart."""
    out = []
    for i in range(n):
        station = f"{prefix}-{i % stations:03d}"
        ts = t0 + (i // stations)
        body = wire.encode(
            wire.observation(ts, seq=i // stations, temp_c=round(15 + (i % 97) / 10, 1))
        )
        out.append((wire.topic(station, "obs"), body, (station, round(ts * 1000))))
    return out


def sqlite_identities(path: Path) -> list[tuple[str, int]]:
    """Every (station, ts_ms) in a SQLite store; read-only, so it never blocks the gateway."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return [(s, int(t)) for s, t in db.execute("SELECT station, ts_ms FROM obs")]
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        db.close()


def sqlite_count(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute("SELECT count(*) FROM obs").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def sqlite_marked(path: Path) -> int:
    """Stations whose 15-minute bins wait for the gateway's next roll."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute("SELECT count(*) FROM bins_dirty").fetchone()[0])
    finally:
        db.close()


def influx_query_ms(port: int, db: str, q: str) -> dict:
    """InfluxQL on a test server with times as Unix ms."""
    import json
    import urllib.parse

    data = urllib.parse.urlencode({"q": q, "db": db, "epoch": "ms"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/query", data=data)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return dict(json.load(resp))


def influx_identities(port: int, db: str) -> list[tuple[str, int]]:
    """Every (station, time ms) in an InfluxDB 1.x database, a station at a time (each under the
    server's row limit). One field is enough: every observation these tests send has temp_c."""
    tags = influx_query_ms(port, db, 'SHOW TAG VALUES FROM "obs" WITH KEY = "station"')
    stations = [v[1] for s in tags["results"][0].get("series", []) for v in s["values"]]
    out: list[tuple[str, int]] = []
    for station in stations:
        result = influx_query_ms(
            port, db, f'SELECT "temp_c" FROM "obs" WHERE station = \'{station}\''
        )
        for series in result["results"][0].get("series", []):
            out.extend((station, int(row[0])) for row in series["values"])
    return out


def influx_count(port: int, db: str) -> int:
    try:
        result = servers.influx_query(port, 'SELECT count("temp_c") FROM "obs"', db)
    except OSError:
        return -1
    series = result["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0
