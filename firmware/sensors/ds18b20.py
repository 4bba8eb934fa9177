# DS18B20 1-Wire temperature probe (waterproof, for the soil or the screen). Source: Maxim DS18B20
# datasheet 19-7487 rev 6, "Operation - Measuring Temperature" and "CRC Generation".
from firmware.sensors import rounded, sleep_ms

# Family codes (first ROM byte) of the probes whose scratchpad counts 1/16 °C: DS18B20 and DS1822.
# MicroPython's ds18x20 scan() also lists the DS18S20 (0x10), which counts 1/2 °C.
FAMILIES = (0x28, 0x22)


def crc8_maxim(data):
    """Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1, reflected 0x8C, init 0)."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def temperature_c(scratchpad):
    """°C from the 9-byte scratchpad: bytes 0-1 are a signed 16-bit count of 1/16 °C."""
    if len(scratchpad) != 9 or crc8_maxim(scratchpad[:8]) != scratchpad[8]:
        raise OSError("DS18B20 scratchpad CRC mismatch (check the 4.7 kΩ pull-up)")
    raw = scratchpad[0] | scratchpad[1] << 8
    if raw > 32767:
        raw -= 65536
    if raw == 0x0550:  # 85 °C is the power-on value: no conversion happened
        raise OSError("DS18B20 returned its power-on value (85 °C): parasite power too weak?")
    return raw / 16


class DS18B20:
    FIELDS = ("temp_c",)

    def __init__(self, board, cfg):
        self.bus = board.ds18b20(cfg["pin"])
        roms = [rom for rom in self.bus.scan() if rom[0] in FAMILIES]
        if not roms:
            raise OSError("no DS18B20 answers on pin %s" % cfg["pin"])
        self.rom = roms[0]

    def read(self):
        self.bus.convert_temp()
        sleep_ms(750)  # 12-bit conversion time
        return {"temp_c": rounded(temperature_c(self.bus.read_scratch(self.rom)), 2)}
