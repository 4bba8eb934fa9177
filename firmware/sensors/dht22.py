# DHT22 (AM2302) temperature/humidity on one GPIO. The board's `dht` module times the pulses; the
# 5-byte frame decoding (AM2302 datasheet, "Data format") is here for boards that hand bytes over.
from firmware.sensors import rounded


def decode(frame):
    """(temp_c, rh_pct) from the 5 bytes: RH*10, T*10 with bit 15 the sign, checksum."""
    if (frame[0] + frame[1] + frame[2] + frame[3]) & 0xFF != frame[4]:
        raise OSError("DHT22 checksum mismatch")
    rh = (frame[0] << 8 | frame[1]) / 10
    t = ((frame[2] & 0x7F) << 8 | frame[3]) / 10
    return (-t if frame[2] & 0x80 else t), rh


class DHT22:
    FIELDS = ("temp_c", "rh_pct")

    def __init__(self, board, cfg):
        self.dev = board.dht22(cfg["pin"])

    def read(self):
        self.dev.measure()  # raises OSError on a timeout or a bad checksum
        return {
            "temp_c": rounded(self.dev.temperature(), 1),
            "rh_pct": rounded(self.dev.humidity(), 1),
        }
