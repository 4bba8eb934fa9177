# Sensirion SHT3x and SHT4x temperature/humidity sensors (I2C), and the Sensirion CRC-8 also used
# by the SCD4x. Sources: SHT3x-DIS datasheet (v7, 2019) sections 4.3, 4.12, 4.13; SHT4x datasheet
# (v6.6, 2024) section 4.5.
from firmware.sensors import rounded, sleep_ms


def crc8(data):
    """Sensirion CRC-8: polynomial 0x31, init 0xFF (SHT3x datasheet example: 0xBEEF -> 0x92)."""
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def words(data):
    """Check each 2-byte word + CRC triple; return the words or raise."""
    out = []
    for i in range(0, len(data) - 2, 3):
        if crc8(data[i : i + 2]) != data[i + 2]:
            raise OSError("CRC mismatch from the sensor (loose wire or noise on the bus?)")
        out.append(data[i] << 8 | data[i + 1])
    return out


def sht3x_values(data):
    t, rh = words(data)
    return -45 + 175 * t / 65535, 100 * rh / 65535


def sht4x_values(data):
    t, rh = words(data)
    rh = -6 + 125 * rh / 65535
    return -45 + 175 * t / 65535, min(100.0, max(0.0, rh))


class _Sht:
    FIELDS = ("temp_c", "rh_pct")
    ADDRESS = 0x44

    def __init__(self, board, cfg):
        self.i2c = board.i2c(cfg)
        self.addr = cfg.get("address", self.ADDRESS)

    def read(self):
        self.i2c.writeto(self.addr, self.COMMAND)
        sleep_ms(self.WAIT_MS)
        t, h = self.convert(self.i2c.readfrom(self.addr, 6))
        return {"temp_c": rounded(t, 2), "rh_pct": rounded(h, 1)}


class SHT3x(_Sht):
    COMMAND = b"\x24\x00"  # single shot, high repeatability, no clock stretching
    WAIT_MS = 16
    convert = staticmethod(sht3x_values)


class SHT4x(_Sht):
    COMMAND = b"\xfd"  # measure, high precision
    WAIT_MS = 10
    convert = staticmethod(sht4x_values)
