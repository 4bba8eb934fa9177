"""`classnet flash` checks a whole station config before it asks for anything (issue #15), and
the build guide's wiring is drawn from the same pin table the check uses."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from firmware.host import flash, pins, station_check, wiring
from gateway import cli

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "station": "fi-tampere-hervanta",
    "wifi": {"ssid": "school-iot"},
    "broker": {"host": "mqtt.school.fi"},
}


def test_an_impossible_station_is_refused_with_every_problem_before_any_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_asking(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r} before the config was checked")

    monkeypatch.setattr(flash, "ask_secret", no_asking)
    doc = {
        **BASE,
        "board": "esp32",
        "intervall_s": 60,
        "meta": {"lat": 200, "lon": 23.8, "timezone": "Europe/Helsinky"},
        "sensors": [
            {"type": "bme280", "sda": 50},
            {"type": "rain", "pin": 27},
            {"type": "anemometer", "pin": 27},
            {"type": "vane", "pin": 26},
        ],
    }
    path = tmp_path / "hervanta.json"
    path.write_text(json.dumps(doc))
    for dry_run in (["--dry-run"], []):
        assert cli.main(["flash", "--config", str(path), *dry_run]) == 3
        lines = capsys.readouterr().err.removeprefix("classnet flash: ").splitlines()
        assert all(line.startswith(f"{path}: ") for line in lines), lines
        text = "\n".join(lines)
        assert "unknown key 'intervall_s'; did you mean 'interval_s'?" in text
        assert "sensor 1 (bme280): sda=50: GPIO 50 does not exist on the ESP32" in text
        assert "sensor 3 (anemometer): pin=27 is already used by sensor 2 (rain)" in text
        assert (
            "sensor 4 (vane): pin=26: GPIO 26 is on ADC2, which reads nothing while Wi-Fi" in text
        )
        assert "lat =200 outside -90..90" in text
        assert "'Europe/Helsinky' is not an IANA time zone" in text
        assert len(lines) == 6, text


def test_a_siting_block_in_meta_is_checked_by_the_stations_file_rules() -> None:
    siting = {"surface": "grass", "heat_source_distance_m": 40, "radiation_shield": True}
    good = {**BASE, "meta": {"name": "Hervanta", "siting": siting}}
    assert station_check.config_problems(good, "esp32") == []
    bad = {**BASE, "meta": {"siting": {**siting, "surface": "lawn", "hieght_m": 2}}}
    assert station_check.config_problems(bad, "esp32") == [
        "meta siting.surface='lawn' must be one of grass, long_grass, bare_soil, artificial",
        "meta siting.hieght_m: unknown siting key (known: height_m, surface, "
        "heat_source_distance_m, shaded_below_sun_deg, radiation_shield, mounting, "
        "wind_height_m, obstacle_height_m, obstacle_distance_m, photo)",
    ]


@pytest.mark.parametrize(
    ("board", "sensor", "why"),
    [
        ("esp32", {"type": "dht22", "pin": 36}, "GPIO 36 is input-only"),
        ("esp32", {"type": "rain", "pin": 12}, "GPIO 12 is a strapping pin"),
        ("esp32", {"type": "ds18b20", "pin": 7}, "GPIO 7 is wired to the board's flash chip"),
        ("picow", {"type": "rain", "pin": 25}, "GP25 drives the Pico W's Wi-Fi chip"),
        ("picow", {"type": "vane", "pin": 22}, "GP22 cannot read a voltage; use one of 26, 27"),
        ("picow", {"type": "bme280", "sda": 29}, "GP29 does not exist on the Raspberry Pi Pico W"),
    ],
)
def test_pins_are_checked_for_the_named_board(board: str, sensor: dict, why: str) -> None:
    problems = station_check.config_problems({**BASE, "sensors": [sensor]}, board)
    assert len(problems) == 1 and why in problems[0], problems


def test_i2c_devices_share_a_bus_and_adc2_is_fine_without_wifi() -> None:
    sensors = [{"type": "bme280"}, {"type": "bh1750"}, {"type": "sht4x", "sda": 21, "scl": 22}]
    assert station_check.config_problems({**BASE, "sensors": sensors}, "esp32") == []
    clash = [{"type": "bme280"}, {"type": "dht22", "pin": 21}]
    assert station_check.config_problems({**BASE, "sensors": clash}, "esp32") == [
        "sensor 2 (dht22): pin=21 is already used by sensor 1 (bme280)"
    ]
    serial = {"station": "fi-x-01", "transport": "serial", "sensors": [{"type": "vane", "pin": 26}]}
    assert station_check.config_problems(serial, "esp32") == []


def test_wifi_name_and_password_limits() -> None:
    long_name = {**BASE, "wifi": {"ssid": "ä" * 17}}  # 34 bytes in UTF-8
    assert station_check.config_problems(long_name, None) == [
        "wifi.ssid is 34 bytes; a Wi-Fi name has at most 32"
    ]
    with pytest.raises(flash.FlashError, match="wifi password has 7 characters; WPA2 needs 8"):
        flash.build_config(BASE, {}, {"wifi_password": "1234567"})
    with pytest.raises(flash.FlashError, match="has 64 characters"):
        flash.build_config(BASE, {}, {"wifi_password": "x" * 64})
    assert flash.build_config(BASE, {}, {"wifi_password": ""})["wifi"]["password"] == ""


def test_the_guide_wiring_passes_the_check_on_its_board() -> None:
    for board, wiring_of in pins.GUIDE_WIRING.items():
        sensors = [{"type": kind, **keys} for kind, keys in wiring_of.items()]
        assert station_check.config_problems({**BASE, "sensors": sensors}, board) == [], board


def test_the_committed_guide_shows_the_diagrams_the_pin_table_draws() -> None:
    guide = (ROOT / "docs" / "build-a-station.md").read_text(encoding="utf-8")
    assert wiring.rewrite(guide) == guide, (
        "docs/build-a-station.md is out of date: python -m firmware.host.wiring "
        "docs/build-a-station.md"
    )


def test_the_pin_table_defaults_are_the_board_layers() -> None:
    # firmware/board.py imports `machine`, so its table is read, not imported.
    tree = ast.parse((ROOT / "firmware" / "board.py").read_text())
    value = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "I2C_PINS"
    )
    assert ast.literal_eval(value) == {"esp32": pins.ESP32.i2c, "rp2": pins.PICO_W.i2c}
