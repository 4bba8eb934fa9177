"""Everything `classnet flash` checks in a station's config before it asks for a password or
touches a board, all problems at once, each naming the teacher's file and each sensor by its
type and its place in the list counted from 1 ("station.json: sensor 4 (vane): ...").

The board checks its config again at boot (firmware/config.py); this adds what only the
teacher's PC can know: the board's pins (firmware/host/pins.py), IANA time zones, misspelled keys.
"""

from __future__ import annotations

import difflib
from typing import Any

from firmware import config as station_config
from firmware.host import pins
from ingest.domain.contract import Reason, check_meta

SSID_MAX_BYTES = 32  # IEEE 802.11: an SSID is at most 32 octets
WPA2_PASSWORD = (8, 63)  # a WPA2 passphrase: 8..63 printable characters

# The keys the firmware reads, per section ("" for the top level; sensors per type below).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": (
        *station_config.DEFAULTS,
        "station",
        "board",
        "wifi",
        "broker",
    ),
    "wifi": ("ssid", "password"),
    "broker": ("host", *station_config.BROKER_DEFAULTS),
    "ntp": tuple(station_config.DEFAULTS["ntp"]),  # type: ignore[arg-type]
    "buffer": tuple(station_config.DEFAULTS["buffer"]),  # type: ignore[arg-type]
    "hold": tuple(station_config.DEFAULTS["hold"]),  # type: ignore[arg-type]
    # siting: how the station stands, checked by stations.toml's rules (ingest/domain/siting.py)
    "meta": ("name", "country", "lat", "lon", "elevation_m", "timezone", "exposure", "siting"),
}
_I2C_KEYS = ("type", "bus", "sda", "scl", "address")
SENSOR_KEYS: dict[str, tuple[str, ...]] = {
    **{kind: _I2C_KEYS for kind in pins.I2C_TYPES},
    **{kind: ("type", "uart", "rx", "tx") for kind in pins.UART_TYPES},
    "rain": ("type", "pin", "mm_per_tip", "debounce_ms"),
    "anemometer": ("type", "pin", "ms_per_hz", "debounce_ms"),
    "vane": ("type", "pin", "table", "pullup_ohms"),
    "battery": ("type", "pin", "divider"),
    "dht22": ("type", "pin"),
    "ds18b20": ("type", "pin"),
}


def _unknown(where: str, doc: dict[str, Any], known: tuple[str, ...]) -> list[str]:
    out = []
    for key in doc:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        out.append(f"{where}unknown key {key!r}{hint}")
    return out


def config_problems(doc: dict[str, Any], board_name: str | None) -> list[str]:
    """Every problem in a station config without its passwords (`wifi.password` is checked by
    `password_problem` once it is known). `board_name` ("esp32", "picow") enables the pin
    checks; the config's own "board" key is used when it is None."""
    problems: list[str] = []
    try:
        station_config.validate(doc)
    except station_config.ConfigError as exc:
        problems += exc.problems
    for section, known in KNOWN_KEYS.items():
        node = doc if not section else doc.get(section)
        if isinstance(node, dict):
            problems += _unknown(f"{section}: " if section else "", node, known)
    wifi = doc.get("wifi")
    if isinstance(wifi, dict) and isinstance(wifi.get("ssid"), str):
        size = len(wifi["ssid"].encode())
        if size > SSID_MAX_BYTES:
            problems.append(f"wifi.ssid is {size} bytes; a Wi-Fi name has at most 32")
    meta = doc.get("meta")
    if isinstance(meta, dict):
        station = doc.get("station") if isinstance(doc.get("station"), str) else "xx-unknown"
        _, meta_problems = check_meta(str(station), meta, "meta")
        problems += [p.detail for p in meta_problems if p.reason != Reason.UNKNOWN_FIELD]
    board_name = board_name or doc.get("board")
    if board_name is not None and board_name not in pins.BOARDS:
        problems.append(f"board={board_name!r} is not one of {', '.join(pins.BOARDS)}")
    elif isinstance(doc.get("sensors"), list):
        board = pins.BOARDS[board_name] if board_name else None
        problems += _sensor_problems(doc["sensors"], board, doc.get("transport", "wifi") == "wifi")
    return problems


def password_problem(password: str) -> str | None:
    """Why a Wi-Fi password cannot be a WPA2 passphrase ("" is an open network)."""
    low, high = WPA2_PASSWORD
    if password and not low <= len(password) <= high:
        return f"wifi password has {len(password)} characters; WPA2 needs {low} to {high}"
    return None


def _sensor_pins(kind: str, sensor: dict[str, Any], board: pins.BoardPins | None) -> list:
    """(config key, pin, role) of each pin a sensor uses, board defaults filled in."""
    if kind in pins.I2C_TYPES:
        _, sda, scl = board.i2c if board else (0, None, None)
        return [
            ("sda", sensor.get("sda", sda), pins.SDA),
            ("scl", sensor.get("scl", scl), pins.SCL),
        ]
    if kind in pins.UART_TYPES:
        _, rx, tx = board.uart if board else (1, None, None)
        return [("rx", sensor.get("rx", rx), pins.RX), ("tx", sensor.get("tx", tx), pins.TX)]
    if kind in pins.PIN_ROLE and "pin" in sensor:
        return [("pin", sensor["pin"], pins.PIN_ROLE[kind])]
    return []


def _sensor_problems(sensors: list[Any], board: pins.BoardPins | None, wifi: bool) -> list[str]:
    problems: list[str] = []
    owner: dict[int, tuple[str, str]] = {}  # pin -> (the sensor using it, its role)
    for i, sensor in enumerate(sensors, start=1):
        if not isinstance(sensor, dict):
            problems.append(f"sensor {i}: {sensor!r} is not a sensor object")
            continue
        kind = sensor.get("type")
        name = f"sensor {i} ({kind})"
        if kind in SENSOR_KEYS:
            problems += _unknown(f"{name}: ", sensor, SENSOR_KEYS[kind])
        for key, pin, role in _sensor_pins(str(kind), sensor, board):
            if pin is None:
                continue
            why = pins.pin_problem(board, pin, role, wifi) if board else None
            if why:
                problems.append(f"{name}: {key}={pin}: {why}")
                continue
            if not isinstance(pin, int) or isinstance(pin, bool):
                continue
            before = owner.get(pin)
            # I2C devices share a bus: the same pin as SDA (or SCL) again is fine.
            if before and not (before[1] == role and role in (pins.SDA, pins.SCL)):
                problems.append(f"{name}: {key}={pin} is already used by {before[0]}")
            elif not before:
                owner[pin] = (name, role)
    return problems
