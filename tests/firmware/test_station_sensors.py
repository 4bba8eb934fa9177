"""The SHT3x, SHT4x, DHT22, DS18B20, PMS5003 and SDS011 drivers end to end: the real firmware
under the real unix port reads emulated devices (tests/firmware/emu/) inside the station loop and
publishes to a real Mosquitto. Expected values come from the datasheets' formulas, written here
from the datasheets, not from the drivers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ingest.domain.contract import decode_status
from tests import servers
from tests.firmware.conftest import SntpServer, StationProc, bme280_emu, write_board
from tests.firmware.emu import crc
from tests.firmware.test_sensors import HUM, bme280_double_humidity
from tests.firmware.test_station import observations
from tests.mqtt_clients import Subscriber

# BMP280 datasheet 3.12 example (tests/firmware/test_sensors.py): 100653.27 Pa, t_fine 128422.
PRESSURE_HPA = 1006.5327
BME280_RH = bme280_double_humidity(bme280_emu()["adc_h"], 128422, HUM)

# What the firmware rounds to on the wire (firmware/sensors/*.py), plus the 0.01 %RH by which
# the BME280's integer humidity differs from the double formula (test_sensors.py).
TOLERANCE = {"temp_c": 0.005, "rh_pct": 0.06, "pressure_hpa": 0.005}


def sht3x_values(t: int, rh: int) -> dict[str, float]:
    """SHT3x-DIS datasheet 4.13: T = -45 + 175 · S_T / (2^16 - 1), RH = 100 · S_RH / (2^16 - 1)."""
    return {"temp_c": -45 + 175 * t / (2**16 - 1), "rh_pct": 100 * rh / (2**16 - 1)}


def sht4x_values(t: int, rh: int) -> dict[str, float]:
    """SHT4x datasheet, "Conversion of signal output": T as the SHT3x,
    RH = -6 + 125 · S_RH / (2^16 - 1), cropped to 0..100."""
    return {
        "temp_c": -45 + 175 * t / (2**16 - 1),
        "rh_pct": min(100.0, max(0.0, -6 + 125 * rh / (2**16 - 1))),
    }


# AM2302 datasheet, "Data format" examples: 0x028C = 65.2 %RH, 0x015F = 35.1 °C, checksum 0xEE;
# 0x8065 = -10.1 °C (top bit: below zero).
DHT22_WARM = "028C015FEE"
DHT22_FROST = "028C806573"
DHT22_BAD_SUM = "028C015FEF"
DHT22_WARM_VALUES = {"temp_c": 35.1, "rh_pct": 65.2}
DHT22_FROST_VALUES = {"temp_c": -10.1, "rh_pct": 65.2}

# DS18B20 datasheet table 1: 0191h = +25.0625 °C, FF5Eh = -10.125 °C (1/16 °C steps). Bytes 2..7
# as after power-up: TH, TL, configuration (12 bits), reserved.
DS18B20_REST = "4b467fff0c10"
# DS18S20 datasheet table 1: 0032h = +25.0 °C, in 1/2 °C steps; bytes 4..7 reserved, COUNT
# REMAIN, COUNT PER °C.
DS18S20_REST = "4b46ffff0c10"


def rom(family: int, serial: str) -> str:
    """A 1-Wire ROM code: family, 48-bit serial number (least significant byte first), CRC."""
    body = bytes([family]) + bytes.fromhex(serial)
    return (body + bytes([crc.maxim(body)])).hex()


DS18B20_ROM = rom(0x28, "ff4c2e601402")
DS18S20_ROM = rom(0x10, "5a37e1000800")


def scratchpad(raw: int, rest: str = DS18B20_REST, bad_crc: bool = False) -> str:
    body = raw.to_bytes(2, "little", signed=raw < 0) + bytes.fromhex(rest)
    return (body + bytes([crc.maxim(body) ^ bad_crc])).hex()


def onewire(*probes: tuple[str, str]) -> dict[str, object]:
    """The 1-Wire bus on pin 5 with these (ROM code, scratchpad) probes, in scan order."""
    return {"5": {"probes": [{"rom": code, "scratchpad": pad} for code, pad in probes]}}


# PMS5003 manual, "Transport protocol": data 1..3 are PM1.0/PM2.5/PM10 at CF=1 (factory
# calibration), data 4..6 the same "under atmospheric environment", which the station reports.
PMS5003_DATA = [9, 14, 17, 8, 12, 16, 1500, 420, 80, 9, 2, 1, 0]
PMS5003_VALUES = {"pm2_5_ugm3": 12.0, "pm10_ugm3": 16.0}
# Noise before the first frame: the end of a frame already under way at boot, and a false start.
PMS5003_GARBAGE = "000c0010424d001c00"
# SDS011 protocol V1.3 "Reply data" example: PM2.5 0x04D4 = 123.6, PM10 0x0A3A = 261.8 µg/m³.
SDS011 = {"kind": "sds011", "pm2_5": 0x04D4, "pm10": 0x0A3A, "id": 0xA160, "garbage": "3a0aab"}
SDS011_VALUES = {"pm2_5_ugm3": 123.6, "pm10_ugm3": 261.8}

SHT_T, SHT_RH = 27227, 31744
BME280 = {"type": "bme280", "address": 0x76}
BME280_VALUES = {"pressure_hpa": PRESSURE_HPA}
NO_TEMP_RH = {"temp_c": None, "rh_pct": None}
NO_PM = {"pm2_5_ugm3": None, "pm10_ugm3": None}


@dataclass(frozen=True)
class Rig:
    """One emulated station: its sensors (the one under test first, so it wins the fields it
    shares with the BME280), its emulated devices, and the values each observation must carry:
    expect[seq % len(expect)], a field's None meaning null."""

    station: str
    sensors: list[dict[str, object]]
    emu: dict[str, object]
    expect: list[dict[str, float | None]]
    exposure: str = "outdoor"
    # The particulate sensors send a frame a second and the driver reports only frames that came
    # since the last reading, and a DS18B20 reading takes 750 ms: with these, one reading a
    # second would leave no frame to report, or no time to send.
    interval_s: int = 1
    log: list[str] = field(default_factory=list)  # what the station must have said
    # The first reading comes at boot, before a particulate sensor has sent its first frame.
    at_boot: dict[str, float | None] = field(default_factory=dict)


def run_rigs(
    rigs: list[Rig],
    tmp_path: Path,
    mosquitto: servers.Server,
    sntp: SntpServer,
    start_station: Callable[[Path], StationProc],
    subscribe: Callable[[int, str], Subscriber],
) -> None:
    """Start every rig's station at once, wait for four observations each, check them all."""
    procs, subs = {}, {}
    for rig in rigs:
        fs = tmp_path / rig.station
        write_board(
            fs,
            rig.station,
            mosquitto.port,
            sntp.port,
            interval_s=rig.interval_s,
            emu=rig.emu,
            sensors=rig.sensors,
            meta={"name": "Test school", "country": "FI", "exposure": rig.exposure},
        )
        subs[rig.station] = subscribe(mosquitto.port, rig.station)
    for rig in rigs:
        procs[rig.station] = start_station(tmp_path / rig.station)
    deadline = time.monotonic() + 60
    for rig in rigs:
        sub = subs[rig.station]
        try:
            sub.wait(
                lambda sub=sub, rig=rig: len(observations(sub, rig.station)) >= 4,
                timeout=max(1, deadline - time.monotonic()),
            )
        except AssertionError as exc:
            raise AssertionError(
                f"station {rig.station}: {exc}\n{procs[rig.station].output()}"
            ) from None
    problems = []
    for rig in rigs:
        problems += check(rig, observations(subs[rig.station], rig.station))
        proc = procs[rig.station]
        if proc.proc.poll() is not None:
            problems.append(f"station {rig.station} stopped: {proc.output()}")
        problems += [
            f"station {rig.station} never logged {said!r}"
            for said in rig.log
            if said not in proc.output()
        ]
        status = [p for t, p, _ in subs[rig.station].messages if t.endswith("/status")]
        _, meta, _ = decode_status(f"classnet/v1/{rig.station}/status", status[0])
        if meta.exposure != rig.exposure:
            problems.append(f"station {rig.station}: exposure={meta.exposure}, not {rig.exposure}")
    assert problems == [], "\n".join(problems)


def check(rig: Rig, obs: list[dict[str, Any]]) -> list[str]:
    """Every mismatch, naming the station, the reading and the field."""
    out = []
    if [o["seq"] for o in obs] != list(range(len(obs))):
        out.append(f"station {rig.station}: seq {[o['seq'] for o in obs]} has gaps")
    for o in obs:
        expect = rig.expect[o["seq"] % len(rig.expect)]
        for name, want in {**expect, **(rig.at_boot if o["seq"] == 0 else {})}.items():
            got = o.get(name, "absent")
            if want is None or got is None or got == "absent":
                ok = got is want
            else:
                ok = abs(got - want) <= TOLERANCE.get(name, 0) + 1e-9
            if not ok:
                out.append(f"station {rig.station} seq {o['seq']}: {name}={got}, expected {want}")
    return out


GOOD = [
    Rig(
        "fi-emu-sht3x",
        [{"type": "sht3x"}, BME280],
        {"i2c": {"68": {"kind": "sht3x", "t": SHT_T, "rh": SHT_RH}, "118": bme280_emu()}},
        [{**sht3x_values(SHT_T, SHT_RH), **BME280_VALUES}],
    ),
    Rig(
        "fi-emu-sht4x-pms5003-room",
        [{"type": "sht4x"}, {"type": "pms5003"}],
        {
            "i2c": {"68": {"kind": "sht4x", "t": SHT_T, "rh": SHT_RH}},
            "uart": {"1": {"kind": "pms5003", "data": PMS5003_DATA, "garbage": PMS5003_GARBAGE}},
        },
        [{**sht4x_values(SHT_T, SHT_RH), **PMS5003_VALUES}],
        exposure="indoor",
        interval_s=2,
        at_boot=NO_PM,
    ),
    Rig(
        "fi-emu-dht22-sds011-room",
        [{"type": "dht22", "pin": 4}, {"type": "sds011"}],
        {"dht22": {"4": {"frames": [DHT22_WARM, DHT22_FROST]}}, "uart": {"1": SDS011}},
        [{**DHT22_WARM_VALUES, **SDS011_VALUES}, {**DHT22_FROST_VALUES, **SDS011_VALUES}],
        exposure="indoor",
        interval_s=2,
        at_boot=NO_PM,
    ),
    Rig(
        "fi-emu-ds18b20",
        [{"type": "ds18b20", "pin": 5}, BME280],
        {"onewire": onewire((DS18B20_ROM, scratchpad(-0x00A2)))},
        [{"temp_c": -10.125, "rh_pct": BME280_RH, **BME280_VALUES}],
        interval_s=2,
    ),
    Rig(
        # ds18x20's scan() lists DS18S20s too: a DS18B20 station must not read one as its own.
        "fi-emu-ds18b20-beside-ds18s20",
        [{"type": "ds18b20", "pin": 5}, BME280],
        {
            "onewire": onewire(
                (DS18S20_ROM, scratchpad(0x0032, DS18S20_REST)),
                (DS18B20_ROM, scratchpad(0x0191)),
            )
        },
        [{"temp_c": 25.0625, "rh_pct": BME280_RH, **BME280_VALUES}],
        interval_s=2,
    ),
]


@pytest.mark.slow
def test_each_sensor_publishes_its_datasheet_values(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    run_rigs(GOOD, tmp_path, mosquitto, sntp, start_station, subscribe)


FAULTY = [
    Rig(
        "fi-emu-sht3x-noise",
        [{"type": "sht3x"}, BME280],
        {
            "i2c": {
                "68": {"kind": "sht3x", "t": SHT_T, "rh": SHT_RH, "fault": "crc"},
                "118": bme280_emu(),
            }
        },
        [{**NO_TEMP_RH, **BME280_VALUES}],
        log=["sensor sht3x: CRC mismatch"],
    ),
    Rig(
        "fi-emu-sht4x-absent-room",
        [{"type": "sht4x"}, {"type": "pms5003"}],
        {"uart": {"1": {"kind": "pms5003", "data": PMS5003_DATA}}},
        [{**NO_TEMP_RH, **PMS5003_VALUES}],
        exposure="indoor",
        interval_s=2,
        at_boot=NO_PM,
        log=["sensor sht4x: nothing answers at I2C address 0x44: check SDA/SCL wiring"],
    ),
    Rig(
        "fi-emu-pms5003-cut-room",
        [{"type": "sht4x"}, {"type": "pms5003"}],
        {
            "i2c": {"68": {"kind": "sht4x", "t": SHT_T, "rh": SHT_RH}},
            "uart": {"1": {"kind": "pms5003", "data": PMS5003_DATA, "truncate": 24}},
        },
        [{**sht4x_values(SHT_T, SHT_RH), **NO_PM}],
        exposure="indoor",
        interval_s=2,
        log=["sensor pms5003: no valid frame"],
    ),
    Rig(
        "fi-emu-dht22-flaky-room",
        [{"type": "dht22", "pin": 4}, {"type": "sds011"}],
        {"dht22": {"4": {"frames": [DHT22_WARM, DHT22_BAD_SUM]}}, "uart": {"1": SDS011}},
        [{**DHT22_WARM_VALUES, **SDS011_VALUES}, {**NO_TEMP_RH, **SDS011_VALUES}],
        exposure="indoor",
        interval_s=2,
        at_boot=NO_PM,
        log=["sensor dht22: checksum error"],
    ),
    Rig(
        "fi-emu-sds011-cut-room",
        [{"type": "dht22", "pin": 4}, {"type": "sds011"}],
        {"dht22": {"4": {"frames": [DHT22_WARM]}}, "uart": {"1": {**SDS011, "truncate": 9}}},
        [{**DHT22_WARM_VALUES, **NO_PM}],
        exposure="indoor",
        interval_s=2,
    ),
    Rig(
        "fi-emu-ds18b20-crc",
        [{"type": "ds18b20", "pin": 5}, BME280],
        {"onewire": onewire((DS18B20_ROM, scratchpad(0x0191, bad_crc=True)))},
        [{"temp_c": None, "rh_pct": BME280_RH, **BME280_VALUES}],
        interval_s=2,
        log=["sensor ds18b20: CRC error"],
    ),
    Rig(
        "fi-emu-ds18b20-absent",
        [{"type": "ds18b20", "pin": 5}, BME280],
        {"onewire": {}},
        [{"temp_c": None, "rh_pct": BME280_RH, **BME280_VALUES}],
        interval_s=2,
        log=["sensor ds18b20: no DS18B20 answers on pin 5"],
    ),
]


@pytest.mark.slow
def test_a_faulty_sensor_nulls_only_its_own_fields_and_the_station_carries_on(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    run_rigs(FAULTY, tmp_path, mosquitto, sntp, start_station, subscribe)


def test_the_emulated_check_bytes_match_the_published_examples() -> None:
    assert crc.sensirion(b"\xbe\xef") == 0x92  # SHT3x-DIS datasheet 4.12
    assert crc.maxim(bytes.fromhex("021cb801000000")) == 0xA2  # Maxim application note 27
