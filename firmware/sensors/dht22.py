# DHT22 (AM2302) temperature/humidity on one GPIO. The board's `dht` module times the pulses and
# decodes the 5-byte frame (AM2302 datasheet, "Data format"); tests/firmware/emu/pin_devices.py
# emulates it from such frames.
from firmware.sensors import rounded


class DHT22:
    FIELDS = ("temp_c", "rh_pct")

    def __init__(self, board, cfg):
        self.dev = board.dht22(cfg["pin"])

    def read(self):
        # Raises OSError(ETIMEDOUT) when the sensor does not answer and Exception("checksum
        # error") on a bad frame: the station sends null for both.
        self.dev.measure()
        return {
            "temp_c": rounded(self.dev.temperature(), 1),
            "rh_pct": rounded(self.dev.humidity(), 1),
        }
