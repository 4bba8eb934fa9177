# The check bytes the emulated sensors put on the wire, as their silicon computes them. Written
# as polynomial division, independently of the firmware's shift-register checkers
# (firmware/sensors/sht.py, ds18b20.py), so that a wrong checker fails the end-to-end tests
# instead of agreeing with itself. Runs under MicroPython (the emulated board) and CPython (the
# tests build DS18B20 scratchpads with it).
#
# Sensirion and Maxim/Dallas use the same polynomial x^8 + x^5 + x^4 + 1; Sensirion feeds bits
# most significant first from an all-ones register (SHT3x-DIS datasheet 4.12), Maxim least
# significant first from zero and reads the remainder reflected (application note 27).

POLY = 0x131


def _remainder(bits):
    """(message · x^8) mod POLY for a list of bits, first bit highest."""
    reg = 0
    for bit in bits + [0] * 8:
        reg = reg << 1 | bit
        if reg & 0x100:
            reg ^= POLY
    return reg


def sensirion(data):
    """SHT3x/SHT4x/SCD4x CRC of a word: 0xBEEF -> 0x92."""
    # An initial register of 0xFF is the same as inverting the first byte.
    data = bytes([data[0] ^ 0xFF]) + bytes(data[1:])
    return _remainder([byte >> (7 - i) & 1 for byte in data for i in range(8)])


def maxim(data):
    """Dallas/Maxim 1-Wire CRC: 02 1C B8 01 00 00 00 -> 0xA2 (ROM example of note 27)."""
    rem = _remainder([byte >> i & 1 for byte in data for i in range(8)])
    return sum(1 << (7 - i) for i in range(8) if rem >> i & 1)
