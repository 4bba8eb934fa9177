# ROHM BH1750FVI ambient light (I2C). Source: BH1750FVI datasheet (2011.11, rev D), p.7
# ("Measurement sequence example"): one-time H-resolution mode, lux = count / 1.2.
from firmware.sensors import rounded, sleep_ms


def lux(data, mtreg=69):
    """Illuminance from the two result bytes; `mtreg` is the measurement time register."""
    return (data[0] << 8 | data[1]) / 1.2 * (69 / mtreg)


class BH1750:
    FIELDS = ("light_lux",)
    ADDRESS = 0x23

    def __init__(self, board, cfg):
        self.i2c = board.i2c(cfg)
        self.addr = cfg.get("address", self.ADDRESS)

    def read(self):
        self.i2c.writeto(self.addr, b"\x01")  # power on
        self.i2c.writeto(self.addr, b"\x20")  # one-time H-resolution mode
        sleep_ms(180)  # max measurement time
        return {"light_lux": rounded(lux(self.i2c.readfrom(self.addr, 2)), 1)}
