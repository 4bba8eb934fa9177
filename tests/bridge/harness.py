"""A station on a USB cable, emulated honestly: the real firmware under MicroPython's unix port
with a pty as its USB serial, the real `classnet bridge` code on the computer's end.

`Cable` is what the tests put between them: two pty pairs and a relay thread. The station holds
the master of the board pair as its stdin and stdout (where a board's print() and USB serial
are one stream); the bridge opens the slave of the computer pair through a symlink whose name
never changes, as /dev/serial/by-id/... does on Linux. The relay copies both ways and can:
- add garbage bytes and debug text between frames and on a frame's own line (`noise`);
- flip one byte inside chosen observation frames (`corrupt`), which the CRC must catch;
- pull the cable: the computer pair is closed, so the bridge's port fails as when a USB device
  goes away, and what the board writes meanwhile is discarded (nobody listens, as with a
  USB-serial chip whose cable is out); plugging in makes a new computer pair behind the symlink.
What it does not emulate: USB enumeration and serial numbers (tests/bridge/test_ports.py covers
finding a board again by serial number as logic over pyserial's port descriptions).
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import threading
import time
import tty
from pathlib import Path

from firmware import frame
from firmware.outbox import Outbox
from tests.firmware import mpy
from tests.firmware.conftest import write_board
from tests.waiting import hold

GARBAGE = b"\x00\xff\xfe garbage \x1b[2J\x07 \xc3\x28 #cn \xfa"


def serial_board(fs: Path, station: str, capacity: int = 2304, interval_s: int = 1) -> None:
    """A board filesystem for a USB-serial station (no Wi-Fi, no broker, no NTP in its config)."""
    write_board(
        fs,
        station,
        broker_port=1,
        ntp_port=1,
        interval_s=interval_s,
        transport="serial",
        buffer={"capacity": capacity, "segment": 144, "batch": 24},
    )
    cfg = json.loads((fs / "config.json").read_text())
    for key in ("wifi", "broker", "ntp"):
        del cfg[key]
    (fs / "config.json").write_text(json.dumps(cfg))


def prefill(fs: Path, n: int, first_ts: int, interval_s: int, capacity: int) -> list[int]:
    """A backlog in the station's flash, as a station that ran `n` intervals without its bridge
    leaves it (written by the firmware's own Outbox). Returns the timestamps."""
    box = Outbox(str(fs / "outbox"), capacity, 144)
    stamps = [first_ts + i * interval_s for i in range(n)]
    for i, ts in enumerate(stamps):
        box.append(
            json.dumps(
                {"ts": ts, "seq": i, "temp_c": 12.5, "rh_pct": 80.0}, separators=(",", ":")
            ).encode()
        )
    return stamps


def _raw_pair() -> tuple[int, int]:
    master, slave = pty.openpty()
    tty.setraw(slave)  # a USB serial line has no echo and no line editing
    return master, slave


def _relay_end(fd: int) -> int:
    # Never block the relay: select() can report a pty ready (hung up) and the other side open
    # again before the read, which would then wait forever.
    os.set_blocking(fd, False)
    return fd


class Station:
    """The firmware running under MicroPython with `fd` (a pty master) as its USB serial."""

    def __init__(self, micropython: str, fs: Path, fd: int) -> None:
        code = "import emuboard\nfrom firmware import station\nstation.main(emuboard.Board())"
        os.set_blocking(fd, False)  # a USB CDC write with nobody reading must not hang the loop
        self.proc = subprocess.Popen(
            [micropython, "-c", code], cwd=fs, env=mpy.env(), stdin=fd, stdout=fd, stderr=fd
        )
        os.close(fd)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def direct(port: Path) -> int:
    """A pty pair without a relay, the slave behind `port`: returns the master for a Station."""
    master, slave = _raw_pair()
    with contextlib.suppress(FileNotFoundError):
        port.unlink()
    port.symlink_to(os.ttyname(slave))
    os.close(slave)
    return master


def _write_all(fd: int, data: bytes) -> None:
    """Like a cable, do not lose bytes while the other end reads slowly (up to 2 s)."""
    deadline = time.monotonic() + 2
    while data and time.monotonic() < deadline:
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:
            select.select([], [fd], [], 0.05)
        except OSError:  # the other end went away
            return


class Cable:
    def __init__(self, port: Path, noise: bool = False, corrupt: frozenset[int] = frozenset()):
        self.port = port
        self.noise = noise
        self.corrupt = corrupt  # indexes of observation frames (counted from 0) to damage
        self.obs_frames = 0
        self.damaged = 0
        self.plugged = threading.Event()
        self._lock = threading.Lock()
        self._stop = False
        self._board_buf = b""
        self.board_fd, board = _raw_pair()  # the master for Station(); the relay keeps the slave
        self.board = _relay_end(board)
        self.computer: int | None = None
        self.plug()
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def plug(self) -> None:
        master, slave = _raw_pair()
        with contextlib.suppress(FileNotFoundError):
            self.port.unlink()
        self.port.symlink_to(os.ttyname(slave))
        os.close(slave)
        with self._lock:
            self.computer = _relay_end(master)
        self.plugged.set()

    def pull(self) -> None:
        self.plugged.clear()
        with self._lock:
            fd, self.computer = self.computer, None
            self._board_buf = b""
        self.port.unlink()
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        self._stop = True
        self.thread.join(5)
        if self.plugged.is_set():
            self.pull()
        os.close(self.board)

    def _relay(self) -> None:
        while not self._stop:
            with self._lock:
                computer = self.computer
            fds = [self.board] + ([computer] if computer is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                except OSError:  # the other side is not open (yet, or any more): EIO
                    hold(0.01, "the other side of the pty opens")
                    continue
                if not data:
                    continue
                with self._lock:
                    if computer is not self.computer or self.computer is None:
                        continue  # pulled meanwhile: nobody listens
                    if fd == self.board:
                        out = self._faults(data)
                        target = self.computer
                    else:
                        out, target = data, self.board
                    _write_all(target, out)

    def _faults(self, data: bytes) -> bytes:
        if not (self.noise or self.corrupt):
            return data
        self._board_buf += data
        *lines, self._board_buf = self._board_buf.split(b"\n")
        out = []
        for line in lines:
            if frame.PREFIX + b"o:" in line:
                if self.obs_frames in self.corrupt:
                    at = line.index(b'"seq":') + 6  # a digit of the seq: still JSON, wrong CRC
                    digit = b"7" if line[at : at + 1] != b"7" else b"3"
                    line = line[:at] + digit + line[at + 1 :]
                    self.damaged += 1
                self.obs_frames += 1
                if self.noise and self.obs_frames % 5 == 0:
                    out.append(GARBAGE + b"\n")
                if self.noise and self.obs_frames % 7 == 0:
                    line = b"debug: wind ticks 12 " + line  # a print() without its newline
            out.append(line + b"\n")
        return b"".join(out)
