# Emulated one-pin sensors. On a board, firmware/board.py hands the drivers MicroPython's own
# `dht.DHT22` and `ds18x20.DS18X20`; these classes answer as those do (micropython-lib
# micropython/drivers/sensor/dht and ds18x20), from the bytes a sensor would clock out: the
# AM2302's 5-byte frame, a DS18B20's ROM code and 9-byte scratchpad.
import time

import crc

ETIMEDOUT = 110


class DHT22:
    """emu.json "dht22" map: pin -> {"frames": [hex, ...]}, handed out in turn, one per
    measure(). With no sensor on the pin, measure() raises OSError(ETIMEDOUT) like
    dht_readinto; a frame whose checksum (the low byte of the sum of the first four) does not
    match raises Exception("checksum error") like dht.DHTBase.measure."""

    def __init__(self, spec):
        self.frames = [bytes.fromhex(f) for f in spec["frames"]] if spec else []
        self.count = 0
        self.buf = bytearray(5)

    def measure(self):
        if not self.frames:
            raise OSError(ETIMEDOUT)
        self.buf[:] = self.frames[self.count % len(self.frames)]
        self.count += 1
        if sum(self.buf[:4]) & 0xFF != self.buf[4]:
            raise Exception("checksum error")

    # AM2302 datasheet, "Data format": RH and T in tenths, T's top bit the sign.
    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        return -t if self.buf[2] & 0x80 else t


# DS18B20 datasheet: "Convert T" takes up to 750 ms at 12 bits; until the first conversion
# is done the temperature register holds its power-on value, +85 °C (0x0550).
CONVERT_MS = 750
POWER_ON_TEMP = b"\x50\x05"


class DS18X20:
    """emu.json "onewire" map: pin -> {"probes": [{"rom": hex, "scratchpad": hex}]}, the
    scratchpad as a conversion leaves it (9 bytes, CRC last). scan() lists the DS18x20 family
    codes (0x10, 0x22, 0x28) in the given order. read_scratch() returns what the addressed probe
    sends (all ones when none answers) and raises Exception("CRC error") when the Maxim CRC of
    the 9 bytes is not zero, as ds18x20.DS18X20 does."""

    def __init__(self, probes):
        # [rom, scratchpad now, scratchpad after a conversion], in the order emu.json gives (a
        # list: MicroPython's dict does not keep insertion order)
        self.probes = []
        for p in probes:
            pad = bytes.fromhex(p["scratchpad"])
            power_on = POWER_ON_TEMP + pad[2:8]
            power_on += bytes([crc.maxim(power_on)])
            self.probes.append([bytes.fromhex(p["rom"]), power_on, pad])
        self.done_at = None  # ticks_ms when the running conversion completes

    def scan(self):
        return [bytearray(p[0]) for p in self.probes if p[0][0] in (0x10, 0x22, 0x28)]

    def convert_temp(self):
        self.done_at = time.ticks_add(time.ticks_ms(), CONVERT_MS)

    def read_scratch(self, rom):
        if self.done_at is not None and time.ticks_diff(time.ticks_ms(), self.done_at) >= 0:
            for p in self.probes:
                p[1] = p[2]
            self.done_at = None
        buf = bytearray(b"\xff" * 9)
        for p in self.probes:
            if p[0] == bytes(rom):
                buf[:] = p[1]
        if crc.maxim(buf[:8]) != buf[8]:
            raise Exception("CRC error")
        return buf
