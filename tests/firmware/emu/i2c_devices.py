# Emulated I2C sensors and the bus they hang on, configured by the "i2c" map of emu.json
# (address -> {"kind": ..., raw values}). Each device answers the bus calls the firmware makes
# the way its datasheet says the chip does; what a chip would NACK raises OSError(19), as
# machine.I2C does when nothing acknowledges.
ENODEV = 19


class BME280:
    """Registers of a BME280 (datasheet 5.3): chip id, trimming blocks, data at 0xF7."""

    def __init__(self, spec):
        self.regs = bytearray(256)
        self.regs[0xD0] = 0x60
        cal1 = bytes.fromhex(spec["calib1"])
        cal2 = bytes.fromhex(spec["calib2"])
        self.regs[0x88 : 0x88 + len(cal1)] = cal1
        self.regs[0xE1 : 0xE1 + len(cal2)] = cal2
        p, t, h = spec["adc_p"], spec["adc_t"], spec["adc_h"]
        self.regs[0xF7:0xFF] = bytes(
            [
                p >> 12,
                p >> 4 & 255,
                (p & 15) << 4,
                t >> 12,
                t >> 4 & 255,
                (t & 15) << 4,
                h >> 8,
                h & 255,
            ]
        )
        self.writes = []

    def read(self, reg, n):
        return bytes(self.regs[reg : reg + n])

    def write(self, reg, buf):
        self.writes.append((reg, bytes(buf)))


class BH1750:
    def __init__(self, spec):
        self.raw = spec["raw"]

    def command(self, buf):
        pass

    def result(self, n):
        return bytes([self.raw >> 8, self.raw & 0xFF])


DEVICES = {"bme280": BME280, "bh1750": BH1750}


class I2C:
    def __init__(self, specs):
        self.devices = {}
        for addr in specs:
            spec = specs[addr]
            self.devices[int(addr)] = DEVICES[spec["kind"]](spec)

    def _dev(self, addr):
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(ENODEV)
        return dev

    def readfrom_mem(self, addr, reg, n):
        return self._dev(addr).read(reg, n)

    def writeto_mem(self, addr, reg, buf):
        self._dev(addr).write(reg, buf)

    def writeto(self, addr, buf):
        self._dev(addr).command(buf)

    def readfrom(self, addr, n):
        return self._dev(addr).result(n)
