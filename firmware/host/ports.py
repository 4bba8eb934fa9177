"""Finding boards on USB serial ports, with names a teacher recognises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serial.tools.list_ports_common import ListPortInfo

# (vendor id, product id or None for any): what the chip on the board means for the teacher.
KNOWN_USB: dict[tuple[int, int | None], str] = {
    (0x303A, None): "Espressif ESP32 (native USB)",
    (0x10C4, 0xEA60): "ESP32 board (CP210x USB-serial)",
    (0x1A86, 0x7523): "ESP32 board (CH340 USB-serial)",
    (0x1A86, 0x55D4): "ESP32 board (CH9102 USB-serial)",
    (0x2E8A, 0x0005): "Raspberry Pi Pico / Pico W (MicroPython)",
    (0x2E8A, None): "Raspberry Pi RP2040 board",
}


@dataclass(frozen=True)
class Board:
    port: str
    name: str
    serial_number: str | None = None
    known: bool = True


def friendly_name(vid: int | None, pid: int | None, description: str = "") -> str | None:
    """A name for a USB serial device, or None if it is not a board we know."""
    if vid is None:
        return None
    for key in ((vid, pid), (vid, None)):
        if key in KNOWN_USB:
            return KNOWN_USB[key]
    return None


def list_boards(include_unknown: bool = False) -> list[Board]:
    """USB serial ports with a known board first; other USB serial devices if asked."""
    from serial.tools import list_ports

    return boards_from(list_ports.comports(), include_unknown)


def boards_from(infos: Iterable[ListPortInfo], include_unknown: bool = False) -> list[Board]:
    """The boards among pyserial's port descriptions, sorted by port name."""
    boards = []
    for info in sorted(infos, key=lambda p: p.device):
        name = friendly_name(info.vid, info.pid, info.description or "")
        if name is not None:
            boards.append(Board(info.device, name, info.serial_number))
        elif include_unknown and info.vid is not None:
            label = f"unknown USB serial device {info.vid:04X}:{info.pid or 0:04X}"
            boards.append(Board(info.device, label, info.serial_number, known=False))
    return boards
