# Bosch BME280: temperature, humidity, pressure over I2C, with the datasheet's compensation.
# Source: BME280 datasheet BST-BME280-DS002, section 4.2.3 (compensation formulas) and 5.4
# (registers). Integer formulas: exact under MicroPython's integers, whereas the ESP32 port's
# single-precision floats would lose pressure resolution in the double-precision version.
from firmware.sensors import rounded, sleep_ms

CHIP_ID = 0x60


def _s16(lo, hi):
    v = lo | hi << 8
    return v - 65536 if v > 32767 else v


def _s12(v):
    return v - 4096 if v > 2047 else v


def parse_calibration(block1, block2):
    """Trimming parameters from registers 0x88..0xA1 (26 bytes) and 0xE1..0xE7 (7 bytes)."""
    b = block1
    t = (b[0] | b[1] << 8, _s16(b[2], b[3]), _s16(b[4], b[5]))
    p = [b[6] | b[7] << 8]
    p.extend(_s16(b[i], b[i + 1]) for i in range(8, 24, 2))
    p = tuple(p)
    h = block2
    dig_h = (
        b[25],  # H1 at 0xA1
        _s16(h[0], h[1]),  # H2
        h[2],  # H3
        _s12(h[3] << 4 | (h[4] & 0x0F)),  # H4: 0xE4[11:4], 0xE5[3:0]
        _s12(h[5] << 4 | h[4] >> 4),  # H5: 0xE6[11:4], 0xE5[7:4]
        h[6] - 256 if h[6] > 127 else h[6],  # H6
    )
    return t, p, dig_h


def t_fine(adc_t, dig_t):
    t1, t2, t3 = dig_t
    var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    var2 = (((((adc_t >> 4) - t1) * ((adc_t >> 4) - t1)) >> 12) * t3) >> 14
    return var1 + var2


def temperature_c(tfine):
    """Datasheet BME280_compensate_T_int32: 0.01 °C units."""
    return ((tfine * 5 + 128) >> 8) / 100


def pressure_pa(adc_p, tfine, dig_p):
    """Datasheet BME280_compensate_P_int64: Q24.8 Pa, returned in Pa; None if uncalibrated."""
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = dig_p
    var1 = tfine - 128000
    var2 = var1 * var1 * p6
    var2 = var2 + ((var1 * p5) << 17)
    var2 = var2 + (p4 << 35)
    var1 = ((var1 * var1 * p3) >> 8) + ((var1 * p2) << 12)
    var1 = (((1 << 47) + var1) * p1) >> 33
    if var1 == 0:
        return None  # avoid division by zero (a chip with blank trimming)
    p = 1048576 - adc_p
    num = ((p << 31) - var2) * 3125
    # C's 64-bit division truncates toward zero
    p = num // var1 if (num >= 0) == (var1 > 0) else -(abs(num) // abs(var1))
    var1 = (p9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (p8 * p) >> 19
    p = ((p + var1 + var2) >> 8) + (p7 << 4)
    return p / 256


def humidity_pct(adc_h, tfine, dig_h):
    """Datasheet bme280_compensate_H_int32: Q22.10 %RH, returned in %RH."""
    h1, h2, h3, h4, h5, h6 = dig_h
    v = tfine - 76800
    v = ((((adc_h << 14) - (h4 << 20) - (h5 * v)) + 16384) >> 15) * (
        ((((((v * h6) >> 10) * (((v * h3) >> 11) + 32768)) >> 10) + 2097152) * h2 + 8192) >> 14
    )
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * h1) >> 4)
    v = 0 if v < 0 else min(v, 419430400)
    return (v >> 12) / 1024


def compensate(raw, calibration):
    """(temp_c, rh_pct, pressure_hpa) from the 8 data bytes at 0xF7..0xFE."""
    dig_t, dig_p, dig_h = calibration
    adc_p = raw[0] << 12 | raw[1] << 4 | raw[2] >> 4
    adc_t = raw[3] << 12 | raw[4] << 4 | raw[5] >> 4
    adc_h = raw[6] << 8 | raw[7]
    tf = t_fine(adc_t, dig_t)
    pa = pressure_pa(adc_p, tf, dig_p)
    return temperature_c(tf), humidity_pct(adc_h, tf, dig_h), None if pa is None else pa / 100


class BME280:
    FIELDS = ("temp_c", "rh_pct", "pressure_hpa")
    ADDRESS = 0x76

    def __init__(self, board, cfg):
        self.i2c = board.i2c(cfg)
        self.addr = cfg.get("address", self.ADDRESS)
        chip = self.i2c.readfrom_mem(self.addr, 0xD0, 1)[0]
        if chip != CHIP_ID:
            raise OSError(
                "chip id 0x%02x at 0x%02x is not a BME280 (0x58 is a BMP280, no humidity)"
                % (chip, self.addr)
            )
        self.cal = parse_calibration(
            self.i2c.readfrom_mem(self.addr, 0x88, 26), self.i2c.readfrom_mem(self.addr, 0xE1, 7)
        )

    def read(self):
        # Forced mode, oversampling x1 for all three: ctrl_hum (0xF2) must be written before
        # ctrl_meas (0xF4) to take effect (datasheet 5.4.3). Max conversion time 9.3 ms (9.1).
        self.i2c.writeto_mem(self.addr, 0xF2, b"\x01")
        self.i2c.writeto_mem(self.addr, 0xF4, b"\x25")
        sleep_ms(10)
        for _ in range(10):
            if not self.i2c.readfrom_mem(self.addr, 0xF3, 1)[0] & 0x08:  # measuring bit
                break
            sleep_ms(2)
        t, h, p = compensate(self.i2c.readfrom_mem(self.addr, 0xF7, 8), self.cal)
        return {"temp_c": rounded(t, 2), "rh_pct": rounded(h, 1), "pressure_hpa": rounded(p, 2)}
