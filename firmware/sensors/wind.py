# Cup anemometer (reed switch, pulses) and wind vane (resistor ladder on an ADC).
# Defaults fit the common Misol WH-SP-WD / SparkFun SEN-15901 set: the anemometer closes once per
# second at 2.4 km/h (0.667 m/s per Hz), the vane switches one of 8 resistors (16 directions where
# two magnets close two switches) in series with a 10 kΩ pull-up (SEN-15901 datasheet, table 1).
import math


def _diff(a, b):
    return a - b


class Anemometer:
    """Mean speed over the reading interval and the highest 3 s gust (WMO: the maximum 3-second
    running mean), from 1 s buckets of pulses counted in the pin interrupt."""

    FIELDS = ("wind_speed_ms", "wind_gust_ms")

    def __init__(self, board, cfg, ticks_diff=None):
        self.ms_per_hz = cfg.get("ms_per_hz", 0.667)
        self.diff = ticks_diff or (board.ticks_diff if board is not None else _diff)
        self.count = 0  # incremented by the interrupt; nothing else happens there
        self.bucket_start = None
        self.buckets = []  # up to 3 (pulses, ms) of the last seconds
        self.total = 0
        self.total_ms = 0
        self.gust = 0.0
        if board is not None:
            board.pulse_in(cfg["pin"], self.pulse)

    def pulse(self, now_ms):
        self.count += 1

    def tick(self, now_ms):
        if self.bucket_start is None:
            self.bucket_start = now_ms
            self.count = 0
            return
        ms = self.diff(now_ms, self.bucket_start)
        if ms < 1000:
            return
        n = self.count
        self.count -= n  # an interrupt between the two lines keeps its pulse
        self.bucket_start = now_ms
        self.total += n
        self.total_ms += ms
        self.buckets.append((n, ms))
        if len(self.buckets) > 3:
            self.buckets.pop(0)
        span = sum(b[1] for b in self.buckets)
        if span >= 2900:
            gust = sum(b[0] for b in self.buckets) * 1000 / span * self.ms_per_hz
            self.gust = max(self.gust, gust)

    def read(self):
        mean = self.total * 1000 / self.total_ms * self.ms_per_hz if self.total_ms else 0.0
        gust = max(self.gust, mean)
        self.total = self.total_ms = 0
        self.gust = 0.0
        return {"wind_speed_ms": round(mean, 2), "wind_gust_ms": round(gust, 2)}


# (direction the wind comes from in degrees, vane resistance in ohms): SEN-15901 table 1.
LADDER = (
    (0.0, 33000),
    (22.5, 6570),
    (45.0, 8200),
    (67.5, 891),
    (90.0, 1000),
    (112.5, 688),
    (135.0, 2200),
    (157.5, 1410),
    (180.0, 3900),
    (202.5, 3140),
    (225.0, 16000),
    (247.5, 14120),
    (270.0, 120000),
    (292.5, 42120),
    (315.0, 64900),
    (337.5, 21880),
)


def ratio_table(ladder=LADDER, pullup_ohms=10000):
    """(degrees, expected ADC fraction) for a vane between the pin and ground, pull-up to Vref."""
    return tuple((deg, ohms / (ohms + pullup_ohms)) for deg, ohms in ladder)


def direction(fraction, table, tolerance=0.04):
    """The table direction nearest to an ADC reading (0..1); None if none is within `tolerance`
    (an open or shorted vane cable)."""
    best = None
    best_err = tolerance
    for deg, expected in table:
        err = abs(fraction - expected)
        if err <= best_err:
            best, best_err = deg, err
    return best


def mean_direction(sum_sin, sum_cos):
    """Vector mean of directions (so 350° and 10° average to 0°, not 180°)."""
    deg = math.degrees(math.atan2(sum_sin, sum_cos))
    return round(deg + 360 if deg < 0 else deg, 1) % 360


class Vane:
    FIELDS = ("wind_dir_deg",)

    def __init__(self, board, cfg):
        self.adc = board.adc(cfg["pin"])
        ladder = cfg.get("table", LADDER)
        self.table = ratio_table(ladder, cfg.get("pullup_ohms", 10000))
        self.sin = self.cos = 0.0
        self.samples = 0

    def tick(self, now_ms):
        deg = direction(self.adc.read_u16() / 65535, self.table)
        if deg is not None:
            rad = math.radians(deg)
            self.sin += math.sin(rad)
            self.cos += math.cos(rad)
            self.samples += 1

    def read(self):
        if not self.samples:
            self.tick(0)
        if not self.samples:
            raise OSError("wind vane reading matches no direction (check the cable)")
        deg = mean_direction(self.sin, self.cos)
        self.sin = self.cos = 0.0
        self.samples = 0
        return {"wind_dir_deg": deg}
