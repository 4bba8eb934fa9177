# An emulated board for the MicroPython unix port: the same methods as firmware/board.py, with
# I2C devices that answer register reads, pins that deliver pulses at set rates, ADC pins at set
# levels and Wi-Fi that is up or down, all from emu.json in the current directory (the "board's"
# filesystem, where config.json and the outbox live too); its USB serial is stdin and stdout.
import json
import sys
import time

from firmware import board_usb


def _load():
    try:
        with open("emu.json") as f:
            return json.load(f)
    except OSError:
        return {}


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
            raise OSError(19)  # ENODEV, as machine.I2C raises when nothing acknowledges
        return dev

    def readfrom_mem(self, addr, reg, n):
        return self._dev(addr).read(reg, n)

    def writeto_mem(self, addr, reg, buf):
        self._dev(addr).write(reg, buf)

    def writeto(self, addr, buf):
        self._dev(addr).command(buf)

    def readfrom(self, addr, n):
        return self._dev(addr).result(n)


class ADC:
    def __init__(self, fraction):
        self.fraction = fraction

    def read_u16(self):
        return int(self.fraction * 65535)


class Watchdog:
    def __init__(self, ms):
        self.ms = ms
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class Board:
    # Where time comes from; tests/firmware/emu/heaprun.py puts the board on a virtual clock.
    clock_ms = staticmethod(time.ticks_ms)
    ticks_diff = staticmethod(time.ticks_diff)
    ticks_add = staticmethod(time.ticks_add)
    time = staticmethod(time.time)

    def __init__(self):
        self.emu = _load()
        self.bus = I2C(self.emu.get("i2c", {}))
        self.pulses = []  # [pin, handler, hz, delivered]
        self.start = self.clock_ms()
        self.wdt = None

    def i2c(self, cfg):
        return self.bus

    def pulse_in(self, pin, handler):
        hz = self.emu.get("pulses", {}).get(str(pin), 0)
        self.pulses.append([pin, handler, hz, 0])

    def adc(self, pin):
        return ADC(self.emu.get("adc", {}).get(str(pin), 0.0))

    def uart(self, cfg, baudrate):
        raise OSError("no UART on the emulated board")

    def dht22(self, pin):
        raise OSError("no DHT22 on the emulated board")

    def ds18b20(self, pin):
        raise OSError("no 1-Wire bus on the emulated board")

    def ticks_ms(self):
        # A real pin interrupts whenever the pulse comes. Here the pulses that fell in the
        # elapsed time are delivered whenever the firmware reads the clock, which it does before
        # every sensor tick, so buckets see them on time even when a busy loop seldom sleeps.
        now = self.clock_ms()
        elapsed = time.ticks_diff(now, self.start)
        for p in self.pulses:
            due = int(elapsed * p[2] / 1000)
            while p[3] < due:
                p[3] += 1
                p[1](now)
        return now

    def sleep_ms(self, ms):
        time.sleep_ms(ms)

    def wifi_connected(self):
        return self.emu.get("wifi", True)

    def wifi_connect(self, ssid, password, timeout_ms):
        if not self.emu.get("wifi", True):
            raise OSError("no network with that name in range")

    def rssi(self):
        return self.emu.get("rssi", -61)

    # The unix port's stdin and stdout: the tests give the station one end of a pty pair.
    usb_write = staticmethod(board_usb.usb_write)
    usb_read = staticmethod(board_usb.usb_read)

    def watchdog(self, ms):
        self.wdt = Watchdog(ms)
        return self.wdt

    def stop_watchdog(self):
        pass

    def deepsleep(self, ms):
        print("deepsleep", ms)
        sys.exit(0)

    def reset(self):
        sys.exit(3)
