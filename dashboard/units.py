"""Display units: the store and the core work in SI (°C, hPa, m/s, mm); the browser chooses what
it sees. Conversion happens only when a figure or card is rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dashboard.i18n import number

DEFAULT_UNITS: Final[dict[str, str]] = {"temp": "C", "pressure": "hPa", "wind": "ms"}
CHOICES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "temp": (("C", "°C"), ("F", "°F")),
    "pressure": (("hPa", "hPa"), ("inHg", "inHg")),
    "wind": (("ms", "m/s"), ("kmh", "km/h"), ("mph", "mph")),
}
# NIST SP 811 appendix B: 1 inHg (32 °F) = 33.8639 hPa; 1 mph = 0.44704 m/s.
_CONVERT: Final[dict[str, Callable[[NDArray[np.float64]], NDArray[np.float64]]]] = {
    "C": lambda v: v,
    "F": lambda v: v * 1.8 + 32.0,
    "hPa": lambda v: v,
    "inHg": lambda v: v / 33.8639,
    "ms": lambda v: v,
    "kmh": lambda v: v * 3.6,
    "mph": lambda v: v / 0.44704,
}
_DECIMALS: Final[dict[str, int]] = {
    "C": 1,
    "F": 1,
    "hPa": 1,
    "inHg": 2,
    "ms": 1,
    "kmh": 0,
    "mph": 0,
}
# Which unit kind each quantity the dashboard shows is measured in (None: shown as stored).
KIND: Final[dict[str, str | None]] = {
    "temp_c": "temp",
    "apparent_temp_c": "temp",
    "pressure_hpa": "pressure",
    "sea_level_pressure_hpa": "pressure",
    "wind_speed_ms": "wind",
    "wind_gust_ms": "wind",
}
FIXED_UNIT: Final[dict[str, str]] = {
    "rh_pct": "%",
    "rain_mm": "mm",
    "rain_today": "mm",
    "light_lux": "lx",
    "uv_index": "",
    "co2_ppm": "ppm",
    "pm2_5_ugm3": "µg/m³",
    "pm10_ugm3": "µg/m³",
    "battery_v": "V",
    "rssi_dbm": "dBm",
    "wind_dir_deg": "°",
}


def chosen(units: dict[str, str] | None) -> dict[str, str]:
    out = dict(DEFAULT_UNITS)
    for kind, unit in (units or {}).items():
        if kind in CHOICES and unit in dict(CHOICES[kind]):
            out[kind] = unit
    return out


def unit_of(quantity: str, units: dict[str, str] | None) -> str:
    """The unit symbol `quantity` is displayed in."""
    kind = KIND.get(quantity)
    if kind is None:
        return FIXED_UNIT.get(quantity, "")
    return dict(CHOICES[kind])[chosen(units)[kind]]


def convert(quantity: str, values: ArrayLike, units: dict[str, str] | None) -> NDArray[np.float64]:
    """SI values of `quantity` in the display unit the student chose."""
    array = np.asarray(values, dtype=np.float64)
    kind = KIND.get(quantity)
    return array if kind is None else _CONVERT[chosen(units)[kind]](array)


def fmt(
    quantity: str, value: float | None, units: dict[str, str] | None, lang: str | None = None
) -> str:
    """One value with its unit in `lang`'s number format, e.g. '21.4 °C' ('21,4 °C' in
    Finnish), joined by a no-break space so the unit never wraps alone; an en dash when
    missing."""
    if value is None or not np.isfinite(value):
        return "–"
    kind = KIND.get(quantity)
    shown = float(convert(quantity, value, units))
    decimals = _DECIMALS[chosen(units)[kind]] if kind else (0 if quantity == "co2_ppm" else 1)
    symbol = unit_of(quantity, units)
    text = number(shown, lang, decimals)
    return f"{text}\u00a0{symbol}" if symbol else text
