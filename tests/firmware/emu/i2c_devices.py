# Emulated I2C sensors and the bus they hang on, configured by the "i2c" map of emu.json
# (address -> {"kind": ..., raw values}). Each device answers the bus calls the firmware makes
# the way its datasheet says the chip does; what a chip would NACK raises OSError(19), as
# machine.I2C does when nothing acknowledges.
import time

import crc

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


class _Sensirion:
    """A single-shot Sensirion humidity sensor: a measure command, then after the measurement
    time a read of T and RH, each a big-endian word followed by its CRC. Read too early or
    without a command and the chip NACKs (SHT3x-DIS 4.4, SHT4x 4.5). emu.json gives the raw
    signals "t" and "rh" (0..65535); "fault": "crc" flips a bit of the RH word's CRC, as noise
    on SDA would."""

    def __init__(self, spec):
        self.words = (spec["t"], spec["rh"])
        self.fault = spec.get("fault")
        self.ready_at = None  # ticks_us when the measurement a command started is done

    def command(self, buf):
        if bytes(buf) != self.MEASURE:
            raise OSError(ENODEV)
        self.ready_at = time.ticks_add(time.ticks_us(), self.MEASURE_US)

    def result(self, n):
        if self.ready_at is None or time.ticks_diff(time.ticks_us(), self.ready_at) < 0:
            raise OSError(ENODEV)
        self.ready_at = None
        out = bytearray()
        for word in self.words:
            pair = bytes([word >> 8, word & 0xFF])
            out += pair + bytes([crc.sensirion(pair)])
        if self.fault == "crc":
            out[5] ^= 0x01
        return bytes(out[:n])


class SHT3x(_Sensirion):
    MEASURE = b"\x24\x00"  # single shot, high repeatability, no clock stretching
    MEASURE_US = 15000  # SHT3x-DIS table 4: max 15 ms at high repeatability


class SHT4x(_Sensirion):
    MEASURE = b"\xfd"  # high precision
    MEASURE_US = 8300  # SHT4x datasheet: max 8.3 ms at high repeatability


DEVICES = {"bme280": BME280, "bh1750": BH1750, "sht3x": SHT3x, "sht4x": SHT4x}


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
