# Emulated particulate sensors on a UART, configured by the "uart" map of emu.json (UART id ->
# {"kind": ..., raw values}). Both sensors stream a frame every `period_ms` (default 1000: the
# SDS011's 1 Hz, the PMS5003 in its fast mode) at 9600 baud, 8N1: each byte takes 10 bit times,
# so a read can land in the middle of a frame. "garbage" (hex) is what the line carries before
# the first frame, e.g. the tail of a frame the sensor was sending when the board booted;
# "truncate": n sends only the first n bytes of every frame (a loose TX wire).
import time

BAUD = 9600
US_PER_BYTE = 10 * 1000000 // BAUD


def pms5003_frame(spec):
    """PMS5003 manual, "Transport protocol - Active mode": 0x42 0x4D, frame length 28, thirteen
    big-endian data words (emu.json "data"), then the 16-bit sum of all bytes before it."""
    body = b"\x42\x4d\x00\x1c" + b"".join(bytes([w >> 8, w & 0xFF]) for w in spec["data"])
    check = sum(body)
    return body + bytes([check >> 8 & 0xFF, check & 0xFF])


def sds011_frame(spec):
    """SDS011 control protocol V1.3, "Reply data": 0xAA 0xC0, PM2.5 and PM10 in 0.1 µg/m³
    (little-endian), the device id, the low byte of the sum of those six bytes, 0xAB."""
    data = bytes(
        [
            spec["pm2_5"] & 0xFF,
            spec["pm2_5"] >> 8,
            spec["pm10"] & 0xFF,
            spec["pm10"] >> 8,
            spec["id"] >> 8,
            spec["id"] & 0xFF,
        ]
    )
    return b"\xaa\xc0" + data + bytes([sum(data) & 0xFF, 0xAB])


FRAMES = {"pms5003": pms5003_frame, "sds011": sds011_frame}


class UART:
    """machine.UART with a sensor's TX wired to its RX; with no sensor (spec None) the line
    stays silent and read() returns None, as on a board."""

    def __init__(self, spec, baudrate):
        self.spec = spec
        self.baudrate = baudrate
        self.start = time.ticks_us()
        self.taken = 0  # bytes of the stream already read
        if spec is not None:
            self.garbage = bytes.fromhex(spec.get("garbage", ""))
            self.frame = FRAMES[spec["kind"]](spec)[: spec.get("truncate")]
            self.period_us = spec.get("period_ms", 1000) * 1000

    def _arrived(self):
        """How many bytes of the stream have fully arrived since power-on."""
        us = time.ticks_diff(time.ticks_us(), self.start)
        n = min(len(self.garbage), us // US_PER_BYTE)
        frames = us // self.period_us  # the first frame starts one period after power-on
        if frames:
            in_last = (us - frames * self.period_us) // US_PER_BYTE
            n += (frames - 1) * len(self.frame) + min(len(self.frame), in_last)
        return n

    def _byte(self, i):
        if self.baudrate != BAUD:
            return 0  # sampled at the wrong rate, every byte is a framing error
        if i < len(self.garbage):
            return self.garbage[i]
        return self.frame[(i - len(self.garbage)) % len(self.frame)]

    def read(self):
        if self.spec is None:
            return None
        end = self._arrived()
        if end == self.taken:
            return None
        out = bytes(self._byte(i) for i in range(self.taken, end))
        self.taken = end
        return out
