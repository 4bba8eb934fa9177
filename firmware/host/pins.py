"""Which pin of each board a sensor may use, and the pins the build guide wires it to.

One table for two readers: `classnet flash` checks a station's config against it
(firmware/host/station_check.py), and the wiring diagrams in docs/build-a-station.md are
generated from it (firmware/host/wiring.py), so the guide and the check cannot drift apart.

Sources: ESP32 datasheet v4.x §2.2 (pin list, strapping pins), ESP-IDF "ADC2 cannot be used while
Wi-Fi is on"; Raspberry Pi Pico W datasheet §2.1 (GP23-25 and GP29 drive the Wi-Fi chip).
"""

from __future__ import annotations

from dataclasses import dataclass

# What a sensor does with a pin; each role asks something different of it.
IO = "io"  # reads and drives it (DHT22, DS18B20 one-wire)
PULSE = "pulse"  # counts falling edges with the internal pull-up (reed switches)
ADC = "adc"  # reads a voltage
SDA, SCL = "sda", "scl"  # I2C: open drain, driven by the board
RX, TX = "rx", "tx"  # UART

NEEDS_OUTPUT = frozenset((IO, PULSE, SDA, SCL, TX))  # PULSE: the pull-up is an output feature
ROLE_WORDS = {
    IO: "a data line",
    PULSE: "a pulse input (it needs the internal pull-up)",
    ADC: "an analogue input",
    SDA: "I2C SDA",
    SCL: "I2C SCL",
    RX: "UART RX",
    TX: "UART TX",
}


@dataclass(frozen=True)
class BoardPins:
    name: str  # as the teacher writes it in "board"
    title: str
    label: str  # how a pin number is printed on the board: "GPIO 21", "GP4"
    exists: frozenset[int]
    reserved: dict[int, str]  # pin -> why no sensor may use it
    strapping: frozenset[int]
    input_only: frozenset[int]
    adc: frozenset[int]
    adc_wifi_blocked: frozenset[int]  # ADC pins that do not read while Wi-Fi is on
    i2c: tuple[int, int, int]  # default (bus, sda, scl), as firmware/board.py I2C_PINS
    uart: tuple[int, int, int]  # default (uart, rx, tx), as firmware/board.py Board.uart

    def pin(self, number: int) -> str:
        return f"{self.label}{number}"


ESP32 = BoardPins(
    name="esp32",
    title="ESP32 (ESP32-WROOM-32 DevKitC)",
    label="GPIO ",
    exists=frozenset(range(0, 40)) - {20, 24, 28, 29, 30, 31},
    reserved={
        **{n: "is wired to the board's flash chip" for n in range(6, 12)},
        1: "carries the USB serial link (flashing and logs)",
        3: "carries the USB serial link (flashing and logs)",
    },
    strapping=frozenset((0, 2, 5, 12, 15)),
    input_only=frozenset(range(34, 40)),
    adc=frozenset((0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39)),
    adc_wifi_blocked=frozenset((0, 2, 4, 12, 13, 14, 15, 25, 26, 27)),
    i2c=(0, 21, 22),
    uart=(1, 16, 17),
)

PICO_W = BoardPins(
    name="picow",
    title="Raspberry Pi Pico W",
    label="GP",
    exists=frozenset(range(0, 29)),
    reserved={n: "drives the Pico W's Wi-Fi chip (not on the header)" for n in (23, 24, 25)},
    strapping=frozenset(),
    input_only=frozenset(),
    adc=frozenset((26, 27, 28)),
    adc_wifi_blocked=frozenset(),
    i2c=(0, 4, 5),
    uart=(1, 9, 8),
)

BOARDS = {b.name: b for b in (ESP32, PICO_W)}

# The pins a sensor type uses: (config key, role); I2C and UART pins have board defaults.
I2C_TYPES = ("bme280", "sht3x", "sht4x", "bh1750", "scd4x")
UART_TYPES = ("pms5003", "sds011")
PIN_ROLE = {"rain": PULSE, "anemometer": PULSE, "vane": ADC, "battery": ADC, "dht22": IO}
PIN_ROLE["ds18b20"] = IO

# The build guide's wiring, per board: sensor -> {config key: pin}. The check passes it
# (tests/firmware/test_station_check.py), and the diagrams are drawn from it.
GUIDE_WIRING: dict[str, dict[str, dict[str, int]]] = {
    "esp32": {
        "bme280": {"sda": 21, "scl": 22},
        "rain": {"pin": 27},
        "anemometer": {"pin": 26},
        "vane": {"pin": 34},
        "dht22": {"pin": 4},
        "ds18b20": {"pin": 13},
        "pms5003": {"rx": 16, "tx": 17},
        "battery": {"pin": 35},
    },
    "picow": {
        "bme280": {"sda": 4, "scl": 5},
        "rain": {"pin": 16},
        "anemometer": {"pin": 17},
        "vane": {"pin": 26},
        "dht22": {"pin": 15},
        "ds18b20": {"pin": 14},
        "pms5003": {"rx": 9, "tx": 8},
        "battery": {"pin": 28},
    },
}


def pin_problem(board: BoardPins, pin: object, role: str, wifi: bool) -> str | None:
    """Why `pin` cannot serve `role` on `board`, or None when it can."""
    if isinstance(pin, bool) or not isinstance(pin, int):
        return f"{pin!r} is not a pin number"
    if pin not in board.exists:
        low, high = min(board.exists), max(board.exists)
        return f"{board.pin(pin)} does not exist on the {board.title} ({board.label}{low}-{high})"
    if pin in board.reserved:
        return f"{board.pin(pin)} {board.reserved[pin]}"
    if pin in board.strapping:
        return (
            f"{board.pin(pin)} is a strapping pin: a sensor on it can stop the board from "
            "starting; choose another"
        )
    if role in NEEDS_OUTPUT and pin in board.input_only:
        what = ROLE_WORDS[role]
        return f"{board.pin(pin)} is input-only (no output, no pull-up): it cannot be {what}"
    if role == ADC and pin not in board.adc:
        adcs = ", ".join(str(p) for p in sorted(board.adc - board.adc_wifi_blocked))
        return f"{board.pin(pin)} cannot read a voltage; use one of {adcs}"
    if role == ADC and wifi and pin in board.adc_wifi_blocked:
        adcs = ", ".join(str(p) for p in sorted(board.adc - board.adc_wifi_blocked))
        return (
            f"{board.pin(pin)} is on ADC2, which reads nothing while Wi-Fi is on; use one of {adcs}"
        )
    return None
