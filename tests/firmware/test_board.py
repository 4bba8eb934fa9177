"""firmware/board.py's own logic under the real MicroPython unix port, with `machine` and
`network` EMULATED (tests/firmware/emu/hardware/, written from MicroPython's documented API).

What this proves: the default pins per platform, the rp2 watchdog clamp, Wi-Fi status codes
turned into sentences, the Wi-Fi timeout (feeding the watchdog while it waits), and the calls
board.py makes. What it cannot: that a real ESP32 or Pico W behaves as the documentation says.
There is no physical board in CI; board.py's hardware calls are untested on hardware here."""

from __future__ import annotations

import json

import pytest

from tests.firmware import mpy

HARDWARE = (mpy.EMU / "hardware",)
SETUP = "import json, machine, network\nfrom firmware import board\n"


def on_board(micropython: str, tmp_path, platform: str, code: str) -> dict:
    """Run `code` with board.PLATFORM set to `platform`; it leaves its results in `out`."""
    script = f"{SETUP}board.PLATFORM = {platform!r}\nout = {{}}\n{code}\n"
    script += "out['calls'] = machine.CALLS\nprint(json.dumps(out))"
    return json.loads(mpy.run(micropython, script, tmp_path, path=HARDWARE).splitlines()[-1])


@pytest.mark.parametrize(
    ("platform", "i2c", "wdt", "timer"),
    [("esp32", [0, 21, 22], 60000, 0), ("rp2", [0, 4, 5], 8300, -1)],
)
def test_default_pins_and_watchdog_per_platform(
    micropython, tmp_path, platform, i2c, wdt, timer
) -> None:
    got = on_board(
        micropython,
        tmp_path,
        platform,
        "b = board.Board()\n"
        "b.i2c({})\nb.i2c({})\n"  # one bus, made once
        "b.i2c({'sda': 25, 'scl': 26})\n"
        "b.watchdog(60000)\nb.stop_watchdog()\nb._feeder.callback(None)\n"
        "b.deepsleep(297000)\n",
    )
    calls = [c for c in got["calls"] if c[0] in ("I2C", "WDT", "Timer", "deepsleep")]
    assert calls == [
        ["I2C", *i2c, 100000],
        ["I2C", 0, 25, 26, 100000],
        # RP2040 datasheet 4.7: its watchdog cannot wait longer than 8.3 s
        ["WDT", wdt],
        ["Timer", timer],  # rp2 has only virtual timers (-1)
        ["deepsleep", 297000],
    ]
    assert ["WDT.feed"] in got["calls"], "after Ctrl-C a timer keeps feeding the watchdog"


def test_esp32_adc_reads_the_full_range_and_pulses_count_falling_edges(
    micropython, tmp_path
) -> None:
    got = on_board(
        micropython,
        tmp_path,
        "esp32",
        "b = board.Board()\nb.adc(34)\nticks = []\nb.pulse_in(27, ticks.append)\n"
        "b._pins[0].handler(b._pins[0])\nout['ticks'] = len(ticks)\n",
    )
    assert ["ADC.atten", 3] in got["calls"]  # ATTN_11DB: 0..3.3 V
    assert ["Pin", 27, 1, 2] in got["calls"] and ["Pin.irq", 27, 4] in got["calls"]
    assert got["ticks"] == 1


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        ("[network.STAT_CONNECTING, network.STAT_GOT_IP]", "joined"),
        ("[network.STAT_CONNECTING, network.STAT_WRONG_PASSWORD]", "wrong Wi-Fi password"),
        ("[network.STAT_NO_AP_FOUND]", "no network with that name in range"),
        ("[network.STAT_CONNECT_FAIL]", "the access point refused the connection"),
        ("[network.STAT_CONNECTING]", "no answer within 1 s"),
    ],
)
def test_wifi_status_codes_become_sentences(micropython, tmp_path, statuses, outcome) -> None:
    got = on_board(
        micropython,
        tmp_path,
        "esp32",
        f"network.STATUSES = {statuses}\nb = board.Board()\nb.watchdog(8000)\n"
        "try:\n    b.wifi_connect('school-iot', 'pw', 1000)\n    out['outcome'] = 'joined'\n"
        "except OSError as exc:\n    out['outcome'] = str(exc)\n"
        "out['rssi'] = b.rssi()\n",
    )
    assert got["outcome"] == outcome
    assert got["rssi"] == (-67 if outcome == "joined" else None)
    if outcome.startswith("no answer"):
        assert got["calls"].count(["WDT.feed"]) >= 4, "the watchdog is fed while Wi-Fi waits"
