# Tipping-bucket rain gauge: a reed switch closes once per tip. The board calls pulse() from the
# pin interrupt; it only counts (no allocation), and ignores closures within `debounce_ms` of the
# last one: a reed switch bounces for a few ms, while a real bucket cannot tip twice in 100 ms.


def _diff(a, b):
    return a - b


class RainGauge:
    FIELDS = ("rain_mm",)

    def __init__(self, board, cfg, ticks_diff=None):
        # 0.2794 mm (0.011 in) per tip: the common Misol/SparkFun gauge.
        self.mm_per_tip = cfg.get("mm_per_tip", 0.2794)
        self.debounce_ms = cfg.get("debounce_ms", 100)
        self.diff = ticks_diff or (board.ticks_diff if board is not None else _diff)
        self.tips = 0
        self.last = None
        if board is not None:
            board.pulse_in(cfg["pin"], self.pulse)

    def pulse(self, now_ms):
        if self.last is not None and self.diff(now_ms, self.last) < self.debounce_ms:
            return
        self.last = now_ms
        self.tips += 1

    def read(self):
        tips, self.tips = self.tips, 0
        return {"rain_mm": round(tips * self.mm_per_tip, 4)}
