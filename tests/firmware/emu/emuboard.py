# An emulated board for the MicroPython unix port: the same methods as firmware/board.py, with
# I2C sensors (i2c_devices.py), UART sensors (uart_devices.py), DHT22 and DS18B20 probes
# (pin_devices.py), pins that deliver pulses at set rates, ADC pins at set levels and Wi-Fi that
# is up or down, all from emu.json in the current directory (the "board's" filesystem, where
# config.json and the outbox live too); its USB serial is stdin and stdout.
import json
import sys
import time

import i2c_devices

from firmware import board_usb


def _load():
    try:
        with open("emu.json") as f:
            return json.load(f)
    except OSError:
        return {}


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
        self.bus = i2c_devices.I2C(self.emu.get("i2c", {}))
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

    # The UART and one-pin sensors are imported when a config names them, as the firmware's own
    # drivers are: the heap-capped tests and bench/firmware_heap.py measure the firmware, not
    # emulated devices a station does not have.

    def uart(self, cfg, baudrate):
        import uart_devices

        return uart_devices.UART(self.emu.get("uart", {}).get(str(cfg.get("uart", 1))), baudrate)

    def dht22(self, pin):
        import pin_devices

        return pin_devices.DHT22(self.emu.get("dht22", {}).get(str(pin)))

    def ds18b20(self, pin):
        import pin_devices

        return pin_devices.DS18X20(self.emu.get("onewire", {}).get(str(pin), {}).get("probes", []))

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
