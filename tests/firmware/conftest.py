"""Fixtures for running the firmware under the real MicroPython unix port."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.clock import NTP_TO_UNIX
from tests.firmware import mpy
from tests.firmware.test_sensors import ADC_P, ADC_T, registers
from tests.mqtt_clients import Subscriber

# The SNTP server runs its clock one day behind the host's: observations stamped from it prove
# the station takes its time from NTP, not from the machine it runs on.
NTP_SKEW_S = -86400


class SntpServer:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answering = True
        self.skew_s = NTP_SKEW_S  # a test moves it to stand for a board clock that drifted
        self.queries = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                _, addr = self.sock.recvfrom(64)
            except OSError:
                continue
            self.queries += 1
            if not self.answering:
                continue
            t = time.time() + self.skew_s + NTP_TO_UNIX
            secs = int(t)
            reply = bytes([0x24, 1]) + bytes(38) + struct.pack("!II", secs, int((t - secs) * 2**32))
            self.sock.sendto(reply, addr)

    def stop(self) -> None:
        self._stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def sntp() -> Iterator[SntpServer]:
    server = SntpServer()
    yield server
    server.stop()


def bme280_emu() -> dict[str, object]:
    cal1, cal2 = registers()
    return {
        "kind": "bme280",
        "calib1": cal1.hex(),
        "calib2": cal2.hex(),
        "adc_t": ADC_T,
        "adc_p": ADC_P,
        "adc_h": 27000,
    }


def write_board(
    fs: Path,
    station: str,
    broker_port: int,
    ntp_port: int,
    interval_s: int = 1,
    emu: dict[str, object] | None = None,
    **extra: object,
) -> None:
    """A board filesystem: config.json as `classnet flash` writes it (`extra` replaces top-level
    keys), and emu.json (`emu` replaces top-level keys: "i2c", "uart", "dht22", "onewire", ...).
    """
    fs.mkdir(parents=True, exist_ok=True)
    config = {
        "station": station,
        "wifi": {"ssid": "school-iot", "password": "not-used-by-the-emulator"},
        "broker": {"host": "127.0.0.1", "port": broker_port, "keepalive": 30},
        "ntp": {"host": "127.0.0.1", "port": ntp_port},
        "interval_s": interval_s,
        "meta": {"name": "Test school", "country": station[:2].upper(), "exposure": "outdoor"},
        "sensors": [
            {"type": "bme280", "address": 0x76},
            {"type": "rain", "pin": 27},
            {"type": "anemometer", "pin": 26},
            {"type": "vane", "pin": 34},
            {"type": "bh1750"},
            {"type": "scd4x"},  # not fitted: its field must arrive as null
        ],
    }
    config.update(extra)
    board = {
        "wifi": True,
        "rssi": -61,
        "i2c": {"118": bme280_emu(), "35": {"kind": "bh1750", "raw": 1200}},
        "pulses": {"26": 12, "27": 0.5},
        "adc": {"34": 16000 / 26000},  # 225°: 16 kΩ with the 10 kΩ pull-up
    }
    board.update(emu or {})
    (fs / "config.json").write_text(json.dumps(config))
    (fs / "emu.json").write_text(json.dumps(board))


def outbox_lines(fs: Path) -> list[dict]:
    """Every observation in the station's outbox files, sent or not, oldest first. Only reads,
    so it is safe while the station runs (before anything is sent: what it buffered)."""
    return [
        json.loads(line)
        for f in sorted((fs / "outbox").glob("*.log"))
        for line in f.read_bytes().splitlines()
    ]


def unsent(fs: Path) -> int:
    """How many observations wait in the outbox, by the firmware's own Outbox (which may tidy
    the files: only while the station is stopped)."""
    from firmware.outbox import Outbox

    return int(Outbox(str(fs / "outbox")).pending())


class StationProc:
    def __init__(self, micropython: str, fs: Path, heap: str | None = None) -> None:
        self.log = fs / "station.log"
        code = "import emuboard\nfrom firmware import station\nstation.main(emuboard.Board())"
        argv = [micropython, *(["-X", f"heapsize={heap}"] if heap else []), "-c", code]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=fs, env=mpy.env(), stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(10)


@pytest.fixture
def start_station(micropython: str) -> Iterator:
    procs: list[StationProc] = []

    def start(fs: Path, heap: str | None = None) -> StationProc:
        proc = StationProc(micropython, fs, heap)
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        p.kill()


@pytest.fixture
def subscribe() -> Iterator:
    subs: list[Subscriber] = []

    def make(port: int, station: str) -> Subscriber:
        # A persistent session (like the gateway's): what the broker queued while the
        # subscriber was away arrives when it reconnects.
        sub = Subscriber(
            port, f"classnet/v1/{station}/#", client_id=f"sub-{station}", clean_session=False
        )
        subs.append(sub)
        return sub

    yield make
    for s in subs:
        s.close()
