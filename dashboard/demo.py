"""`classnet demo`: the whole chain on one machine, no servers installed.

broker (a private Mosquitto when the binary exists, else amqtt) → `classnet gateway` → SQLite in
the data dir → dashboard, fed by `classnet simulate` (24 schools: the last 7 days at once, then
live). Each part is the real command in its own process, stopped by its PID on Ctrl-C. A second
run reuses the data dir: it backfills only the gap since the newest stored observation.
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd

from dashboard.data import utcnow
from ingest import Store, StoreError, open_store
from ingest.domain.broker_config import BrokerOptions, mosquitto_conf
from ingest.domain.errors import UserError

log = logging.getLogger("classnet.demo")
ROOT = Path(__file__).resolve().parents[1]

AMQTT_CONF = """\
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:{port}
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
"""
# Twelve real school towns on each side (simulators/towns.csv); Sydney sits on ASEM's Asian side.
DEMO_TOWNS = (
    "tampere", "lisbon", "berlin", "warsaw", "athens", "dublin",
    "oslo", "lyon", "seville", "bologna", "york", "ghent",
    "manila", "singapore", "tokyo", "seoul", "delhi", "mumbai",
    "jakarta", "hanoi", "bangkok", "kuala-lumpur", "beijing", "sydney",
)  # fmt: skip
BACKFILL_DAYS = 7.0
# A gap shorter than this is left to the live simulator's own catch-up.
MIN_BACKFILL = timedelta(minutes=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"{what} exited with code {proc.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise UserError(f"{what} did not accept connections on port {port} in {timeout_s:.0f} s")


def classnet(*args: str) -> list[str]:
    """The argv of a `classnet` subcommand run by this very interpreter."""
    return [sys.executable, "-m", "gateway.cli", *args]


@dataclass
class Demo:
    data_dir: Path
    stations: int = 24
    # Classroom monitors in the first schools, so the Classrooms page has rooms to show.
    rooms: int = 4
    interval_s: int = 60
    backfill_days: float = BACKFILL_DAYS
    broker: str = "auto"  # auto | mosquitto | amqtt
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    broker_port: int = 0

    @property
    def store_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'classnet.db').resolve()}"

    @property
    def broker_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.broker_port}"

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        logfile = (self.data_dir / f"{name}.log").open("ab")
        # The child imports this same checkout, whatever its working directory.
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
        proc = subprocess.Popen(
            argv, stdout=logfile, stderr=subprocess.STDOUT, cwd=self.data_dir, env=env
        )
        self.procs.append((name, proc))
        return proc

    def start_broker(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker_port = free_port()
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        kind = self.broker if self.broker != "auto" else ("mosquitto" if binary else "amqtt")
        if kind == "mosquitto":
            if binary is None:
                raise UserError("mosquitto not found; install it or use --broker amqtt")
            folder = self.data_dir / "mosquitto"
            folder.mkdir(exist_ok=True)
            conf = folder / "mosquitto.conf"
            # Stay the user who ran the demo (as root, mosquitto would switch to "mosquitto"
            # and lose access to the data dir).
            options = BrokerOptions(
                port=self.broker_port,
                bind="127.0.0.1",
                data_dir=folder,
                run_as=getpass.getuser(),
                autosave_s=10,
                log_file=folder.resolve() / "mosquitto.log",
            )
            conf.write_text(mosquitto_conf(options, logins=None))
            proc = self._spawn("mosquitto", [binary, "-c", str(conf.resolve())])
        else:
            conf = self.data_dir / "amqtt.yaml"
            conf.write_text(AMQTT_CONF.format(port=self.broker_port))
            proc = self._spawn(
                "amqtt",
                [sys.executable, "-c", "from amqtt.scripts.broker_script import main; main()",
                 "-c", str(conf.resolve())],
            )  # fmt: skip
        wait_for_port(self.broker_port, proc, kind)
        return kind

    def start_gateway(self) -> None:
        self._spawn(
            "gateway",
            classnet(
                "gateway",
                "--broker", self.broker_url,
                "--store", self.store_url,
                "--spool-dir", str((self.data_dir / "spool").resolve()),
                "--client-id", "classnet-demo-gateway",
                "--metrics-port", "-1",
            ),
        )  # fmt: skip

    def reader(self, timeout_s: float = 30.0) -> Store:
        """The store, read-only, once the gateway has made it: a reader never creates one, and
        the gateway process takes a moment to start."""
        gateway = next(proc for name, proc in self.procs if name == "gateway")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                store = open_store(self.store_url, read_only=True)
            except StoreError:
                store = None
            if store is not None:
                try:
                    store.stations()  # the schema is there too
                    return store
                except (sqlite3.Error, pd.errors.DatabaseError):
                    store.close()
            if gateway.poll() is not None or time.monotonic() > deadline:
                raise UserError(
                    f"the gateway did not create {self.store_url}; see {self.data_dir}/gateway.log"
                )
            time.sleep(0.1)

    def gap_days(self, store: Store) -> float:
        """How much history to backfill: all of it on a first run, the gap since the newest
        observation on a later one."""
        seen = store.stations()["last_seen"].dropna()
        if seen.empty:
            return self.backfill_days
        gap = utcnow() - seen.max().to_pydatetime()
        if gap < MIN_BACKFILL:
            return 0.0
        return min(self.backfill_days, gap.total_seconds() / 86400)

    def simulate(self, backfill_days: float) -> None:
        """Backfill (blocking), then start the live simulator."""
        common = ["--broker", self.broker_url, "--count", str(self.stations),
                  "--rooms", str(self.rooms),
                  "--towns", ",".join(DEMO_TOWNS), "--interval", str(self.interval_s)]  # fmt: skip
        if backfill_days > 0:
            proc = self._spawn(
                "backfill", classnet("simulate", *common, "--backfill", f"{backfill_days:.4f}")
            )
            proc.wait()
        self._spawn("simulate", classnet("simulate", *common))

    def stop(self) -> None:
        """Stop every process this demo started, newest first, each by its own PID."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    log.warning("%s (pid %d) did not stop in 15 s; killing it", name, proc.pid)
                    proc.kill()
                    proc.wait()
        self.procs.clear()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_demo(data_dir: Path, host: str, port: int, refresh_s: float, broker: str) -> int:
    from dashboard.app import create_app
    from dashboard.dashboard_cmd import run_server
    from dashboard.data import Data

    demo = Demo(data_dir=data_dir, broker=broker)
    # Ctrl-C and a service manager's SIGTERM both end in `demo.stop()`; a shell that started us
    # in the background may have left SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        kind = demo.start_broker()
        demo.start_gateway()
        store = demo.reader()
        days = demo.gap_days(store)
        feeder = threading.Thread(target=demo.simulate, args=(days,), daemon=True)
        feeder.start()
        app = create_app(Data(store), refresh_s=refresh_s)
        reuse = "reusing stored data, " if days < demo.backfill_days else ""
        print(
            f"ClassNet demo: {demo.stations} simulated schools → {kind} broker → gateway → "
            f"{demo.store_url}\n  {reuse}backfilling {days:.2f} days, then live."
            f"\n  Dashboard: http://{host}:{port}/   (Ctrl-C stops everything)",
            flush=True,
        )
        run_server(app.server, host, port)
    finally:
        demo.stop()
        print("ClassNet demo stopped.", flush=True)
    return 0
