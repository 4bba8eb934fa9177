"""Sensor maths against the numbers their datasheets print."""

from __future__ import annotations

import math

import pytest

from firmware.sensors import (
    bh1750,
    bme280,
    driver_class,
    ds18b20,
    particulates,
    scd4x,
    sht,
    wind,
)
from firmware.sensors.rain import RainGauge

# Bosch BMP280 datasheet BST-BMP280-DS001, section 3.12 ("Calculating pressure and temperature"),
# computation example: these trimming values with adc_T = 519888 and adc_P = 415148 give
# T = 25.08 °C and p = 100653.27 Pa. The BME280 uses the same temperature and pressure
# compensation (BME280 datasheet BST-BME280-DS002, section 4.2.3).
DATASHEET_T = (27504, 26435, -1000)
DATASHEET_P = (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000)
ADC_T, ADC_P = 519888, 415148
# Humidity trimming from a production BME280 (the datasheet gives no worked humidity example).
HUM = (75, 370, 0, 309, 50, 30)


def bme280_double_humidity(adc_h: int, t_fine: float, dig_h: tuple[int, ...]) -> float:
    """The datasheet's double-precision humidity formula (BME280 datasheet section 8.1), written
    out independently of the firmware's 32-bit integer formula."""
    h1, h2, h3, h4, h5, h6 = dig_h
    var_h = t_fine - 76800.0
    var_h = (adc_h - (h4 * 64.0 + h5 / 16384.0 * var_h)) * (
        h2 / 65536.0 * (1.0 + h6 / 67108864.0 * var_h * (1.0 + h3 / 67108864.0 * var_h))
    )
    var_h = var_h * (1.0 - h1 * var_h / 524288.0)
    return min(100.0, max(0.0, var_h))


def test_bme280_temperature_and_pressure_match_the_datasheet_example() -> None:
    tf = bme280.t_fine(ADC_T, DATASHEET_T)
    assert tf == 128422  # datasheet: t_fine = 128422
    assert bme280.temperature_c(tf) == 25.08
    assert bme280.pressure_pa(ADC_P, tf, DATASHEET_P) == pytest.approx(100653.27, abs=0.05)


@pytest.mark.parametrize("adc_h", [20000, 27000, 30000, 40000])
def test_bme280_humidity_agrees_with_the_double_precision_formula(adc_h: int) -> None:
    tf = bme280.t_fine(ADC_T, DATASHEET_T)
    assert bme280.humidity_pct(adc_h, tf, HUM) == pytest.approx(
        bme280_double_humidity(adc_h, tf, HUM), abs=0.01
    )


def registers(dig_t=DATASHEET_T, dig_p=DATASHEET_P, dig_h=HUM) -> tuple[bytes, bytes]:
    """Encode trimming values into the 0x88..0xA1 and 0xE1..0xE7 register blocks."""
    b1 = b"".join(v.to_bytes(2, "little", signed=v < 0) for v in (*dig_t, *dig_p))
    b1 += b"\x00" + bytes([dig_h[0]])
    h4, h5 = dig_h[3] & 0xFFF, dig_h[4] & 0xFFF
    b2 = dig_h[1].to_bytes(2, "little", signed=True) + bytes(
        [dig_h[2], h4 >> 4, (h4 & 0x0F) | (h5 & 0x0F) << 4, h5 >> 4, dig_h[5] & 0xFF]
    )
    return b1, b2


def test_bme280_parses_its_calibration_registers() -> None:
    assert bme280.parse_calibration(*registers()) == (DATASHEET_T, DATASHEET_P, HUM)
    negative = (75, -370, 0, -309, -50, -30)
    assert bme280.parse_calibration(*registers(dig_h=negative))[2] == negative


def test_sensirion_crc_example_and_conversions() -> None:
    assert sht.crc8(b"\xbe\xef") == 0x92  # SHT3x datasheet 4.12
    t = 0x6666
    frame = bytes([t >> 8, t & 0xFF, sht.crc8(t.to_bytes(2, "big"))]) * 2
    temp, rh = sht.sht3x_values(frame)
    assert temp == pytest.approx(-45 + 175 * 0x6666 / 65535)
    assert rh == pytest.approx(40.0, abs=0.01)
    assert sht.sht4x_values(frame)[1] == pytest.approx(-6 + 125 * 0x6666 / 65535)
    with pytest.raises(OSError, match="CRC"):
        sht.sht3x_values(frame[:2] + b"\x00" + frame[3:])


def test_scd4x_read_measurement_example() -> None:
    # SCD4x datasheet 3.5.2 example: CO2 500 ppm = 0x01F4 (CRC 0x33), T 0x6667, RH 0x5EB9
    data = b"".join(
        w.to_bytes(2, "big") + bytes([sht.crc8(w.to_bytes(2, "big"))])
        for w in (0x01F4, 0x6667, 0x5EB9)
    )
    assert data[2] == 0x33
    assert scd4x.co2_ppm(data) == 500


def test_ds18b20_scratchpad_values_from_the_datasheet_table() -> None:
    def pad(raw: int) -> bytes:
        body = raw.to_bytes(2, "little", signed=raw < 0) + b"\x4b\x46\x7f\xff\x0c\x10"
        return body + bytes([ds18b20.crc8_maxim(body)])

    assert ds18b20.temperature_c(pad(0x0191)) == 25.0625  # table 1: +25.0625 °C
    assert ds18b20.temperature_c(pad(-0x00A2)) == -10.125  # table 1: FF5Eh = -10.125 °C
    with pytest.raises(OSError, match="power-on"):
        ds18b20.temperature_c(pad(0x0550))
    # Maxim application note 27's example ROM code: family 0x02, CRC 0xA2
    assert ds18b20.crc8_maxim(bytes([0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00])) == 0xA2


def test_bh1750_datasheet_example() -> None:
    assert bh1750.lux(b"\x83\x90") == pytest.approx(28067, abs=0.5)  # p.7: 0x8390 -> 28067 lx


def test_sds011_frame_from_the_protocol_document() -> None:
    frame = bytes.fromhex("AAC0D4043A0AA1601DAB")
    assert particulates.sds011(b"\x00junk" + frame) == (123.6, 261.8)
    assert particulates.sds011(frame[:-1] + b"\x00") is None


def test_pms5003_newest_valid_frame_wins() -> None:
    def frame(pm25: int, pm10: int) -> bytes:
        body = b"\x42\x4d\x00\x1c" + bytes(8) + pm25.to_bytes(2, "big") + pm10.to_bytes(2, "big")
        body += bytes(30 - len(body))
        return body + (sum(body) & 0xFFFF).to_bytes(2, "big")

    assert particulates.pms5003(frame(12, 20) + frame(13, 21)[:20]) == (12.0, 20.0)


def test_rain_gauge_debounces_the_reed_switch() -> None:
    gauge = RainGauge(None, {"pin": 1})
    for ms in (0, 3, 8, 500, 502, 1200):  # two real tips bounce; three tips in all
        gauge.pulse(ms)
    assert gauge.read() == {"rain_mm": round(3 * 0.2794, 4)}
    assert gauge.read() == {"rain_mm": 0.0}


def test_anemometer_mean_and_3s_gust() -> None:
    anemo = wind.Anemometer(None, {"pin": 1, "ms_per_hz": 1.0})
    anemo.tick(0)
    for second in range(10):
        hz = 30 if 4 <= second < 7 else 10  # a 3 s gust of 30 Hz
        for _ in range(hz):
            anemo.pulse(0)
        anemo.tick((second + 1) * 1000)
    got = anemo.read()
    assert got["wind_speed_ms"] == pytest.approx((7 * 10 + 3 * 30) / 10)
    assert got["wind_gust_ms"] == pytest.approx(30.0)


def test_vane_finds_each_of_16_directions_and_averages_as_vectors() -> None:
    table = wind.ratio_table()
    assert [wind.direction(frac, table) for _, frac in table] == [d for d, _ in wind.LADDER]
    assert wind.direction(0.999, table) is None  # vane unplugged: pull-up reads full scale
    s = math.sin(math.radians(337.5)) + math.sin(math.radians(22.5))
    c = math.cos(math.radians(337.5)) + math.cos(math.radians(22.5))
    assert wind.mean_direction(s, c) == 0.0


def test_unknown_sensor_type_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="bme280"):
        driver_class("bmp999")
    assert driver_class("vane") is wind.Vane
