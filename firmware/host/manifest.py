"""The files `classnet flash` puts on the board: an explicit list, so host-only code (this
package) never reaches the board, and a new device module is uploaded only when added here
(tests/firmware/test_manifest.py checks both directions)."""

from __future__ import annotations

from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent.parent

# (path under firmware/, path on the board). The board keeps the `firmware` package layout so
# imports read the same on the board and in the simulators: `from firmware import wire`.
DEVICE_FILES: tuple[tuple[str, str], ...] = (
    ("main.py", "main.py"),
    ("__init__.py", "firmware/__init__.py"),
    ("wire.py", "firmware/wire.py"),
    ("config.py", "firmware/config.py"),
    ("clock.py", "firmware/clock.py"),
    ("mqtt.py", "firmware/mqtt.py"),
    ("outbox.py", "firmware/outbox.py"),
    ("station.py", "firmware/station.py"),
    ("frame.py", "firmware/frame.py"),
    ("serial_uplink.py", "firmware/serial_uplink.py"),
    ("board.py", "firmware/board.py"),
    ("board_usb.py", "firmware/board_usb.py"),
    ("sensors/__init__.py", "firmware/sensors/__init__.py"),
    ("sensors/bme280.py", "firmware/sensors/bme280.py"),
    ("sensors/sht.py", "firmware/sensors/sht.py"),
    ("sensors/dht22.py", "firmware/sensors/dht22.py"),
    ("sensors/ds18b20.py", "firmware/sensors/ds18b20.py"),
    ("sensors/rain.py", "firmware/sensors/rain.py"),
    ("sensors/wind.py", "firmware/sensors/wind.py"),
    ("sensors/bh1750.py", "firmware/sensors/bh1750.py"),
    ("sensors/scd4x.py", "firmware/sensors/scd4x.py"),
    ("sensors/particulates.py", "firmware/sensors/particulates.py"),
    ("sensors/battery.py", "firmware/sensors/battery.py"),
)
DIRECTORIES = ("firmware", "firmware/sensors")


def device_files() -> list[tuple[str, bytes]]:
    """(path on the board, content) for every file of the firmware, in upload order."""
    return [(remote, (FIRMWARE_DIR / local).read_bytes()) for local, remote in DEVICE_FILES]
