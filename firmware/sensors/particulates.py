# Particulate matter over UART: Plantower PMS5003 and Nova Fitness SDS011. Both stream frames
# about once a second; read() takes the newest valid frame from what has arrived.
# Sources: PMS5003 manual (Plantower, 2016) "Transport protocol - Active mode"; SDS011 laser
# dust sensor control protocol V1.3, "Reply data".


def _last_frame(buf, start, size, check):
    i = len(buf) - size
    while i >= 0:
        if buf[i : i + len(start)] == start and check(buf[i : i + size]):
            return buf[i : i + size]
        i -= 1
    return None


def _pms_ok(f):
    return (f[2] << 8 | f[3]) == 28 and sum(f[:30]) & 0xFFFF == (f[30] << 8 | f[31])


def pms5003(buf):
    """(pm2_5, pm10) in µg/m³ (atmospheric environment values) from the newest 32-byte frame."""
    f = _last_frame(buf, b"\x42\x4d", 32, _pms_ok)
    if f is None:
        return None
    return float(f[12] << 8 | f[13]), float(f[14] << 8 | f[15])


def _sds_ok(f):
    return f[9] == 0xAB and sum(f[2:8]) & 0xFF == f[8]


def sds011(buf):
    """(pm2_5, pm10) in µg/m³ from the newest 10-byte frame (values in 0.1 µg/m³, little end)."""
    f = _last_frame(buf, b"\xaa\xc0", 10, _sds_ok)
    if f is None:
        return None
    return (f[2] | f[3] << 8) / 10, (f[4] | f[5] << 8) / 10


class _Uart:
    FIELDS = ("pm2_5_ugm3", "pm10_ugm3")

    def __init__(self, board, cfg):
        self.uart = board.uart(cfg, 9600)
        self.buf = b""

    def tick(self, now_ms):
        # Keep only the newest bytes: bounded, whatever the sensor streams.
        data = self.uart.read()
        if data:
            self.buf = (self.buf + data)[-64:]

    def read(self):
        self.tick(0)
        values = self.decode(self.buf)
        self.buf = b""
        if values is None:
            raise OSError("no valid frame from the particulate sensor (check TX/RX and 5 V)")
        return {"pm2_5_ugm3": values[0], "pm10_ugm3": values[1]}


class PMS5003(_Uart):
    decode = staticmethod(pms5003)


class SDS011(_Uart):
    decode = staticmethod(sds011)
