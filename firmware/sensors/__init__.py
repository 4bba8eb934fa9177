# Sensor drivers. Each module keeps the maths (compensation, checksums, frame decoding) in plain
# functions that import under CPython too, and a small class that talks to the bus through the
# board object it is given (see firmware/board.py for what a board offers).
#
# A driver class has FIELDS (the wire-contract fields it fills), read() -> {field: value}, and
# optionally tick(now_ms), called about once a second for sensors that sample between readings
# (wind). read() may raise: the station then sends null for that sensor's fields and carries on.
try:
    from time import sleep_ms  # type: ignore[attr-defined]  # MicroPython
except ImportError:  # CPython
    from time import sleep as _sleep

    def sleep_ms(ms):
        _sleep(ms / 1000)


# config "type" -> (module, class). Only the modules a station's config names are imported, to
# keep the heap small on the board.
DRIVERS = {
    "bme280": ("bme280", "BME280"),
    "sht3x": ("sht", "SHT3x"),
    "sht4x": ("sht", "SHT4x"),
    "dht22": ("dht22", "DHT22"),
    "ds18b20": ("ds18b20", "DS18B20"),
    "rain": ("rain", "RainGauge"),
    "anemometer": ("wind", "Anemometer"),
    "vane": ("wind", "Vane"),
    "bh1750": ("bh1750", "BH1750"),
    "scd4x": ("scd4x", "SCD4x"),
    "pms5003": ("particulates", "PMS5003"),
    "sds011": ("particulates", "SDS011"),
    "battery": ("battery", "Battery"),
}


def driver_class(kind):
    if kind not in DRIVERS:
        raise ValueError("unknown sensor type %r (known: %s)" % (kind, ", ".join(sorted(DRIVERS))))
    module, name = DRIVERS[kind]
    mod = __import__("firmware.sensors." + module, None, None, [name])
    return getattr(mod, name)


ENODEV = 19  # machine.I2C raises OSError(ENODEV) when nothing acknowledges the address


def problem(cls, cfg, exc):
    """What a teacher reads in the log when a sensor fails: for an I2C sensor that does not
    answer, where it was looked for and what to check, instead of "[Errno 19] ENODEV"."""
    if isinstance(exc, OSError) and exc.args and exc.args[0] == ENODEV and hasattr(cls, "ADDRESS"):
        return "nothing answers at I2C address 0x%02x: check SDA/SCL wiring, power and address" % (
            cfg.get("address", cls.ADDRESS)
        )
    return str(exc) or exc.__class__.__name__


def rounded(value, digits):
    """A reading rounded for the wire (the sensors' own resolution is coarser)."""
    return None if value is None else round(value, digits)
