# Sensirion SCD40/SCD41 CO₂ sensor (I2C) for indoor classroom monitors. Source: SCD4x datasheet
# (v1.6, 2024) sections 3.5.1-3.5.3 and 3.9.2. Runs in periodic mode (a reading every 5 s); the
# station reads the latest one.
from firmware.sensors import sleep_ms
from firmware.sensors.sht import words


def co2_ppm(data):
    """CO₂ (ppm) from the 9-byte read_measurement answer (CO₂, T, RH, each word + CRC)."""
    co2, _t, _rh = words(data)
    return co2


class SCD4x:
    FIELDS = ("co2_ppm",)
    ADDRESS = 0x62

    def __init__(self, board, cfg):
        self.i2c = board.i2c(cfg)
        self.addr = cfg.get("address", self.ADDRESS)
        self.i2c.writeto(self.addr, b"\x21\xb1")  # start_periodic_measurement

    def _command(self, cmd, n):
        self.i2c.writeto(self.addr, cmd)
        sleep_ms(1)
        return self.i2c.readfrom(self.addr, n)

    def read(self):
        ready = words(self._command(b"\xe4\xb8", 3))[0]  # get_data_ready_status
        if not ready & 0x07FF:
            raise OSError("SCD4x has no new measurement yet")
        return {"co2_ppm": co2_ppm(self._command(b"\xec\x05", 9))}
