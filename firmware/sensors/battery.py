# Supply voltage through a resistor divider on an ADC pin (e.g. 2 × 100 kΩ: divider 2.0).


def volts(raw_u16, divider=2.0, vref=3.3):
    return raw_u16 / 65535 * vref * divider


class Battery:
    FIELDS = ("battery_v",)

    def __init__(self, board, cfg):
        self.adc = board.adc(cfg["pin"])
        self.divider = cfg.get("divider", 2.0)

    def read(self):
        return {"battery_v": round(volts(self.adc.read_u16(), self.divider), 2)}
