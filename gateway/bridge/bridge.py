"""`classnet bridge`: a station on a USB serial port, its readings to the broker.

Opens the port (the one named, or with `--port auto` the one board found), hands what it reads
to a `Link` (gateway/bridge/link.py) and writes back the replies. When the board disappears
(cable pulled, board reset) it says so, publishes the station offline and waits for the board
to come back, recognising it by its USB serial number even under another port name.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from firmware.host.flash import FlashError, open_port
from firmware.host.ports import Board, list_boards
from gateway.bridge.link import Link, Session
from ingest.domain.errors import UserError

log = logging.getLogger("classnet.bridge")

POLL_S = 1.0  # how often to look for the board while it is away


@dataclass
class PortSpec:
    """What the bridge looks for: `name` ("auto" or a port), and once seen, the board's USB
    serial number, which outlives the port name across an unplug."""

    name: str = "auto"
    serial_number: str | None = None


def find_board(spec: PortSpec, boards: Sequence[Board]) -> Board | None:
    """The board to open among the USB serial devices now present, or None (not there yet).

    Raises UserError when `--port auto` sees several boards and cannot know which is meant."""
    if spec.serial_number is not None:
        return next((b for b in boards if b.serial_number == spec.serial_number), None)
    if spec.name != "auto":
        # A port the USB listing does not show (a pty, a UART) is opened by its name alone.
        return next((b for b in boards if b.port == spec.name), Board(spec.name, "serial port"))
    known = [b for b in boards if b.known]
    if len(known) > 1:
        names = ", ".join(f"{b.port} ({b.name})" for b in known)
        raise UserError(f"several boards found ({names}): choose one with --port")
    return known[0] if known else None


class Bridge:
    def __init__(
        self,
        spec: PortSpec,
        station: str,
        open_session: Callable[[str], Session],
        list_fn: Callable[[], Sequence[Board]] = lambda: list_boards(include_unknown=True),
        open_fn: Callable[[str], Any] = open_port,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.list_fn = list_fn
        self.open_fn = open_fn
        # One Link for the bridge's life, not per port: across an unplug it remembers what the
        # broker already has, so frames the station sends again are acknowledged, not repeated.
        self.link = Link(spec.name, station, open_session, now)

    def run(self, stop: threading.Event) -> None:
        waiting_said = False
        while not stop.is_set():
            board = find_board(self.spec, self.list_fn())
            port = None
            if board is not None:
                try:
                    port = self.open_fn(board.port)
                except FlashError as exc:
                    if not waiting_said:
                        log.warning("%s; retrying every %g s", exc, POLL_S)
                        waiting_said = True
            elif not waiting_said:
                log.info("waiting for %s", _wanted(self.spec))
                waiting_said = True
            if board is None or port is None:
                stop.wait(POLL_S)
                continue
            waiting_said = False
            if board.serial_number:
                self.spec.serial_number = board.serial_number
            serial = f", USB serial {board.serial_number}" if board.serial_number else ""
            log.info("%s: opened (%s%s)", board.port, board.name, serial)
            self.link.where = board.port
            why = self._serve(port, stop)
            port.close()
            if why:
                log.warning("%s: board gone (%s)", board.port, why)
            self.link.board_gone()

    def _serve(self, port: Any, stop: threading.Event) -> str | None:
        """Read and answer until the port fails (its reason) or the bridge stops (None)."""
        import serial

        while not stop.is_set():
            try:
                data = port.read(port.in_waiting or 1)
                if data:
                    reply = self.link.feed(data)
                    if reply:
                        port.write(reply)
            except (serial.SerialException, OSError) as exc:
                return str(exc) or exc.__class__.__name__
        return None


def _wanted(spec: PortSpec) -> str:
    if spec.serial_number:
        return f"the board with USB serial {spec.serial_number} (plug it back in)"
    if spec.name != "auto":
        return f"{spec.name} to appear"
    return "a board on USB (see `classnet flash --list`)"
