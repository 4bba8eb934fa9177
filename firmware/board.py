# The board layer for real hardware: ESP32 (sys.platform "esp32") and Raspberry Pi Pico W
# ("rp2"). The only device module that touches `machine` and `network`; everything else receives
# a Board and calls the methods below (tests/firmware/emu/board.py offers the same ones).
import sys
import time

import machine
import network

from firmware import board_usb

PLATFORM = sys.platform
# Default I2C pins when a sensor's config gives none: (bus, sda, scl).
I2C_PINS = {"esp32": (0, 21, 22), "rp2": (0, 4, 5)}
# rp2's watchdog cannot wait longer than 8.3 s (RP2040 datasheet 4.7); the loop feeds it more often.
WDT_MAX_MS = {"rp2": 8300}

_WIFI_ERRORS = {
    getattr(network, "STAT_WRONG_PASSWORD", -3): "wrong Wi-Fi password",
    getattr(network, "STAT_NO_AP_FOUND", -2): "no network with that name in range",
    getattr(network, "STAT_CONNECT_FAIL", -1): "the access point refused the connection",
}


class Board:
    ticks_ms = staticmethod(time.ticks_ms)
    ticks_diff = staticmethod(time.ticks_diff)
    ticks_add = staticmethod(time.ticks_add)
    sleep_ms = staticmethod(time.sleep_ms)
    time = staticmethod(time.time)

    def __init__(self):
        self._i2c = {}
        self._pins = []  # keep IRQ pins referenced
        self._wlan = None

    # -- buses and pins

    def i2c(self, cfg):
        bus, sda, scl = I2C_PINS.get(PLATFORM, (0, 21, 22))
        key = (cfg.get("bus", bus), cfg.get("sda", sda), cfg.get("scl", scl))
        if key not in self._i2c:
            self._i2c[key] = machine.I2C(
                key[0], sda=machine.Pin(key[1]), scl=machine.Pin(key[2]), freq=100000
            )
        return self._i2c[key]

    def pulse_in(self, pin, handler):
        p = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)
        p.irq(trigger=machine.Pin.IRQ_FALLING, handler=lambda _p: handler(time.ticks_ms()))
        self._pins.append(p)

    def adc(self, pin):
        adc = machine.ADC(machine.Pin(pin))
        if hasattr(adc, "atten"):  # ESP32: read the full 0..3.3 V range
            adc.atten(machine.ADC.ATTN_11DB)
        return adc

    def uart(self, cfg, baudrate):
        return machine.UART(
            cfg.get("uart", 1),
            baudrate=baudrate,
            tx=machine.Pin(cfg.get("tx", 17 if PLATFORM == "esp32" else 8)),
            rx=machine.Pin(cfg.get("rx", 16 if PLATFORM == "esp32" else 9)),
        )

    def dht22(self, pin):
        import dht

        return dht.DHT22(machine.Pin(pin))

    def ds18b20(self, pin):
        import ds18x20
        import onewire

        return ds18x20.DS18X20(onewire.OneWire(machine.Pin(pin)))

    # -- Wi-Fi

    def _sta(self):
        if self._wlan is None:
            self._wlan = network.WLAN(network.STA_IF)
            self._wlan.active(True)
        return self._wlan

    def wifi_connected(self):
        return self._sta().isconnected()

    def wifi_connect(self, ssid, password, timeout_ms):
        wlan = self._sta()
        wlan.connect(ssid, password)
        start = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), start) < timeout_ms:
            if wlan.isconnected():
                return
            status = wlan.status()
            if status in _WIFI_ERRORS:
                raise OSError(_WIFI_ERRORS[status])
            time.sleep_ms(200)
            if self.wdt is not None:
                self.wdt.feed()
        raise OSError("no answer within %d s" % (timeout_ms // 1000))

    def rssi(self):
        try:
            return self._sta().status("rssi") if self.wifi_connected() else None
        except (OSError, ValueError):
            return None

    # -- USB serial (transport "serial": `classnet bridge` on the computer it is plugged into)

    usb_write = staticmethod(board_usb.usb_write)
    usb_read = staticmethod(board_usb.usb_read)

    # -- power and safety

    wdt = None

    def watchdog(self, timeout_ms):
        self.wdt = machine.WDT(timeout=min(timeout_ms, WDT_MAX_MS.get(PLATFORM, timeout_ms)))
        return self.wdt

    def stop_watchdog(self):
        if self.wdt is not None:
            wdt = self.wdt
            self._feeder = machine.Timer(-1 if PLATFORM == "rp2" else 0)
            self._feeder.init(period=1000, callback=lambda _t: wdt.feed())

    def deepsleep(self, ms):
        machine.deepsleep(ms)

    def reset(self):
        machine.reset()
