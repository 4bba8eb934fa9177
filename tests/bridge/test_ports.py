"""Which port the bridge opens, and finding the same board again after an unplug: logic over
pyserial's own port descriptions (ListPortInfo), as `list_ports.comports()` returns them."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from firmware.host.ports import boards_from
from gateway.bridge.bridge import PortSpec, find_board
from ingest.domain.errors import UserError


def usb(device: str, vid: int, pid: int, serial: str | None) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial
    return info


CP210X = (0x10C4, 0xEA60)
PICO = (0x2E8A, 0x0005)
FTDI = (0x0403, 0x6001)  # a USB-serial adapter that is not a board we know


def test_auto_picks_the_one_board_and_remembers_nothing_until_it_is_opened() -> None:
    boards = boards_from([usb("/dev/ttyUSB0", *CP210X, "0001"), usb("/dev/ttyS0", *FTDI, None)])
    spec = PortSpec("auto")
    board = find_board(spec, boards)
    assert board is not None and (board.port, board.name) == (
        "/dev/ttyUSB0",
        "ESP32 board (CP210x USB-serial)",
    )
    assert find_board(spec, []) is None  # not plugged in yet: wait


def test_auto_with_two_boards_asks_which() -> None:
    boards = boards_from([usb("/dev/ttyUSB0", *CP210X, "0001"), usb("/dev/ttyACM0", *PICO, "E66")])
    with pytest.raises(UserError, match=r"several boards found.*--port"):
        find_board(PortSpec("auto"), boards)


def test_after_replug_the_same_board_is_found_by_serial_number_under_a_new_name() -> None:
    # Linux names the board again while the old name is still held: ttyUSB0 becomes ttyUSB1;
    # another board plugged in meanwhile must not be taken for it.
    spec = PortSpec("auto", serial_number="0001")
    after = boards_from(
        [usb("/dev/ttyUSB0", *CP210X, "0099"), usb("/dev/ttyUSB1", *CP210X, "0001")],
        include_unknown=True,
    )
    board = find_board(spec, after)
    assert board is not None and board.port == "/dev/ttyUSB1"
    assert find_board(spec, after[:1]) is None  # only the other board: keep waiting


def test_a_named_port_is_followed_by_its_serial_number_once_known() -> None:
    listing = boards_from([usb("COM3", *PICO, "E6614C")], include_unknown=True)
    board = find_board(PortSpec("COM3"), listing)
    assert board is not None and board.serial_number == "E6614C"
    moved = boards_from([usb("COM7", *PICO, "E6614C")], include_unknown=True)
    again = find_board(PortSpec("COM3", serial_number="E6614C"), moved)
    assert again is not None and again.port == "COM7"


def test_a_port_without_usb_details_is_opened_by_name() -> None:
    # a pty, a Raspberry Pi's own UART, or a CH340 without a serial number
    board = find_board(PortSpec("/dev/serial0"), [])
    assert board is not None and board.port == "/dev/serial0" and board.serial_number is None
