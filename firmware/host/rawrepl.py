"""MicroPython's raw REPL over a serial port: run code on the board and collect its output.

Protocol (MicroPython docs, "reference/repl" and mpremote's transport): Ctrl-C stops the running
program, Ctrl-A enters the raw REPL ("raw REPL; CTRL-B to exit\\r\\n>"). Code ends with Ctrl-D;
the board answers "OK", the program's output, Ctrl-D, its error output, Ctrl-D and ">".
Raw-paste mode (Ctrl-E "A" Ctrl-A, answered "R\\x01" + a 16-bit window size) adds flow control so
long code cannot overrun a slow board's input buffer; boards without it answer "R\\x00" and the
code is sent in small paced chunks instead.
"""

from __future__ import annotations

import struct
import time
from typing import Protocol

RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"


class Port(Protocol):
    """What pyserial's Serial offers and this module uses."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def reset_input_buffer(self) -> None: ...


class ReplError(Exception):
    """The board did not answer as a MicroPython raw REPL should."""


class RemoteError(Exception):
    """Code run on the board raised; the message is the board's traceback."""


class RawRepl:
    def __init__(self, port: Port, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self.port.timeout = 0.05

    def read_until(self, marker: bytes, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        data = b""
        while not data.endswith(marker):
            if time.monotonic() > deadline:
                raise ReplError(f"expected {marker!r} from the board, got {data[-200:]!r}")
            chunk = self.port.read(1)
            data += chunk
        return data

    def enter(self, attempts: int = 3) -> None:
        """Stop whatever runs (the station) and enter the raw REPL."""
        for attempt in range(attempts):
            self.port.write(b"\r\x03\x03")
            time.sleep(0.2 + 0.3 * attempt)
            self.port.reset_input_buffer()
            self.port.write(b"\r\x01")
            try:
                self.read_until(RAW_PROMPT, timeout=2.0 + attempt)
                return
            except ReplError:
                continue
        raise ReplError("no raw REPL prompt after Ctrl-C, Ctrl-A")

    def exit(self) -> None:
        self.port.write(b"\r\x02")

    def soft_reset(self) -> None:
        """Leave the raw REPL and soft-reset from the normal REPL: the board runs main.py."""
        self.exit()
        time.sleep(0.1)
        self.port.write(b"\x04")

    def exec(self, code: str | bytes, timeout: float | None = None) -> bytes:
        """Run `code` on the board; its printed output, or RemoteError with the traceback."""
        data = code.encode() if isinstance(code, str) else code
        self._send(data)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        if err:
            raise RemoteError(err.decode(errors="replace").strip())
        return out

    def _send(self, data: bytes) -> None:
        self.port.write(b"\x05A\x01")
        reply = self.read_until(b"\x01", timeout=2.0)[-2:]
        if reply == b"R\x01":
            self._send_raw_paste(data)
            return
        # Raw-paste unsupported ("R\x00"): the board stays in the raw REPL; send paced chunks.
        for i in range(0, len(data), 256):
            self.port.write(data[i : i + 256])
            time.sleep(0.01)
        self.port.write(b"\x04")
        self.read_until(b"OK", timeout=2.0)

    def _send_raw_paste(self, data: bytes) -> None:
        (window,) = struct.unpack("<H", self.read_bytes(2))
        remaining = window
        i = 0
        while i < len(data):
            while remaining == 0 or self._in_waiting():
                flow = self.read_bytes(1)
                if flow == b"\x01":
                    remaining += window
                elif flow == b"\x04":
                    self.port.write(b"\x04")
                    raise ReplError("the board ended the upload early")
            n = min(remaining, len(data) - i)
            self.port.write(data[i : i + n])
            i += n
            remaining -= n
        self.port.write(b"\x04")
        # The board acknowledges the end with Ctrl-D; flow-control bytes may come first.
        self.read_until(b"\x04", timeout=5.0)

    def _in_waiting(self) -> bool:
        return bool(getattr(self.port, "in_waiting", 0))

    def read_bytes(self, n: int, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        data = b""
        while len(data) < n:
            if time.monotonic() > deadline:
                raise ReplError(f"board stopped answering (got {data!r})")
            data += self.port.read(n - len(data))
        return data
