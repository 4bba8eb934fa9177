"""Quantities derived from one observation: humidity, pressure reduction, feels-like, wind classes.

`DERIVED` is the one registry of derived quantities and their names: the export's columns, the
dashboard's variables and the unit table all use these names.

Every function takes and returns arrays in the units its argument names say (`temp_c` in °C,
`wind_speed_ms` in m/s), works element-wise on numpy arrays or pandas Series, and gives NaN where
an input is missing or the quantity is undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ingest.domain.humidity import dewpoint_c

FloatArray = NDArray[np.float64]

# Standard atmosphere constants (U.S. Standard Atmosphere 1976 = ICAO Doc 7488 below 11 km).
_G0_MS2 = 9.80665
_R_DRY_JKGK = 287.05287
_LAPSE_RATE_KM = 0.0065
_KELVIN = 273.15

# Lower bounds (m/s, to 0.1 m/s) of Beaufort forces 1..12; source in `beaufort_number`.
_BEAUFORT_LOWER_MS = np.array(
    [0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7], dtype=np.float64
)

COMPASS_POINTS: tuple[str, ...] = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip


def _f64(values: ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def sea_level_pressure_hpa(
    pressure_hpa: ArrayLike, temp_c: ArrayLike, elevation_m: ArrayLike
) -> FloatArray:
    """Station pressure reduced to mean sea level, so schools at different heights compare.

    Source: the hypsometric (barometric) formula for a fictitious air column below the station
    whose temperature falls with the standard lapse rate 0.0065 K/m (ICAO Doc 7488/3 1993;
    U.S. Standard Atmosphere 1976), with the observed air temperature at the station's height.
    Humidity (virtual temperature) and the WMO 12-hour mean temperature are left out: a school
    station's diurnal cycle shows as a few tenths of a hPa at 500 m.

    Formula: p0 = p · (1 − L·h / (T + L·h + 273.15)) ^ (−g0 / (R·L)), with L = 0.0065 K/m,
    g0 = 9.80665 m/s², R = 287.053 J/(kg·K), so the exponent is −5.2559.

    At 1000 m (geopotential) in the ICAO standard atmosphere (898.746 hPa, 8.5 °C) this gives back
    the standard sea-level pressure, 1013.25 hPa:

    >>> round(float(sea_level_pressure_hpa(898.746, 8.5, 1000.0)), 2)
    1013.25
    """
    lapse_height_k = _LAPSE_RATE_KM * _f64(elevation_m)
    ratio = 1.0 - lapse_height_k / (_f64(temp_c) + lapse_height_k + _KELVIN)
    return _f64(pressure_hpa) * ratio ** (-_G0_MS2 / (_R_DRY_JKGK * _LAPSE_RATE_KM))


def _c_to_f(temp_c: FloatArray) -> FloatArray:
    return temp_c * 1.8 + 32.0


def _f_to_c(temp_f: FloatArray) -> FloatArray:
    return (temp_f - 32.0) / 1.8


def heat_index_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> FloatArray:
    """Heat index: how hot humid air feels, defined from 26.7 °C (80 °F) up; NaN below.

    Source: NWS Weather Prediction Center, "The Heat Index Equation"
    (wpc.ncep.noaa.gov/html/heatindex_equation.shtml), with the switch between its simple formula
    and the Rothfusz (1990, NWS SR 90-23) regression as Anderson, Bell & Peng (2013, Environ.
    Health Perspect. 121, 1111-1119, algorithm of their Figure 1) read it and MetPy `heat_index`
    implements it: the simple value A = −10.3 + 1.1 T + 0.047 RH (°F; Steadman's formula already
    averaged with T) is the index while A < 79 °F, the regression from 79 °F up. The two humidity
    adjustments (RH ≤ 13 %, 80–112 °F; RH > 85 %, 80–87 °F) are applied as MetPy applies them.

    Formula (°F): HI = −42.379 + 2.04901523 T + 10.14333127 R − 0.22475541 T R
    − 6.83783e-3 T² − 5.481717e-2 R² + 1.22874e-3 T² R + 8.5282e-4 T R² − 1.99e-6 T² R².

    The NWS chart lists 95 °F (35.0 °C) for 90 °F and 50 %:

    >>> round(float(heat_index_c(32.222, 50.0)), 1)
    34.8
    """
    temp_f = _c_to_f(_f64(temp_c))
    rh = _f64(rh_pct)
    simple_f = -10.3 + 1.1 * temp_f + 0.047 * rh
    rothfusz_f = (
        -42.379
        + 2.04901523 * temp_f
        + 10.14333127 * rh
        - 0.22475541 * temp_f * rh
        - 6.83783e-3 * temp_f**2
        - 5.481717e-2 * rh**2
        + 1.22874e-3 * temp_f**2 * rh
        + 8.5282e-4 * temp_f * rh**2
        - 1.99e-6 * temp_f**2 * rh**2
    )
    index_f = np.where(simple_f < 79.0, simple_f, rothfusz_f)
    with np.errstate(invalid="ignore"):
        dry = (rh <= 13.0) & (temp_f >= 80.0) & (temp_f <= 112.0)
        dry_adjust = (13.0 - rh) / 4.0 * np.sqrt((17.0 - np.abs(temp_f - 95.0)) / 17.0)
    humid = (rh > 85.0) & (temp_f >= 80.0) & (temp_f <= 87.0)
    humid_adjust = (rh - 85.0) / 10.0 * (87.0 - temp_f) / 5.0
    index_f = index_f - np.where(dry, dry_adjust, 0.0) + np.where(humid, humid_adjust, 0.0)
    return np.where(temp_f >= 80.0, _f_to_c(index_f), np.nan)


def wind_chill_c(temp_c: ArrayLike, wind_speed_ms: ArrayLike) -> FloatArray:
    """Wind chill: how cold moving air feels, defined at or below 10 °C with wind above 4.8 km/h.

    Source: Environment Canada / NWS wind chill index (JAG/TI 2001; Osczevski & Bluestein 2005,
    BAMS 86, 1453-1458), as in MetPy `windchill`. The formula expects wind at 10 m; a school mast
    lower than that reads less wind, so the index errs on the mild side.

    Formula: WCI = 13.12 + 0.6215 T − 11.37 V^0.16 + 0.3965 T V^0.16, T in °C, V in km/h.

    Environment Canada's table gives −18 for −10 °C and 20 km/h (5.556 m/s):

    >>> round(float(wind_chill_c(-10.0, 20 / 3.6)), 1)
    -17.9
    """
    temp = _f64(temp_c)
    speed_kmh = _f64(wind_speed_ms) * 3.6
    with np.errstate(invalid="ignore"):
        speed_factor = speed_kmh**0.16
    chill = 13.12 + 0.6215 * temp - 11.37 * speed_factor + 0.3965 * temp * speed_factor
    # 3 mph = 4.828 km/h: the lower limit of the NWS/MetPy definition.
    return np.where((temp <= 10.0) & (speed_kmh > 4.828032), chill, np.nan)


def apparent_temp_c(temp_c: ArrayLike, rh_pct: ArrayLike, wind_speed_ms: ArrayLike) -> FloatArray:
    """Apparent ("feels like") temperature: heat index when hot, wind chill when cold, else T.

    Source: NWS practice as implemented in MetPy `apparent_temperature`: wind chill where it is
    defined (T ≤ 10 °C = 50 °F, wind above 3 mph = 1.34 m/s), heat index where it is defined
    (T ≥ 26.7 °C = 80 °F), the air temperature itself elsewhere. At exactly 10.0 °C with wind,
    the wind chill applies.

    >>> [round(float(x), 1) for x in apparent_temp_c([32.0, 15.0, -5.0, 10.0], [60, 50, 80, 50],
    ...                                               [2, 3, 8, 5])]
    [37.1, 15.0, -12.8, 7.6]
    """
    temp = _f64(temp_c)
    chill = wind_chill_c(temp, wind_speed_ms)
    heat = heat_index_c(temp, rh_pct)
    return np.where(np.isfinite(chill), chill, np.where(np.isfinite(heat), heat, temp))


def beaufort_number(wind_speed_ms: ArrayLike) -> NDArray[np.float64]:
    """Beaufort force 0..12 of a mean wind speed; NaN where the speed is missing.

    Source: the Beaufort scale's equivalent speeds at 10 m as tabulated by the WMO (Manual on
    Marine Meteorological Services, WMO-No. 558) and the Met Office (National Meteorological
    Library fact sheet 6): force 0 below 0.3 m/s, 1 from 0.3, 2 from 1.6, …, 12 from 32.7 m/s.
    The table is given to 0.1 m/s, so speeds are rounded to 0.1 m/s before the lookup, halves
    upwards as a reader of the table would (not numpy's half-to-even: 0.25 m/s is force 1).

    >>> beaufort_number([0.2, 0.25, 0.3, 5.44, 5.45, 5.46, 40.0]).tolist()
    [0.0, 1.0, 1.0, 3.0, 4.0, 4.0, 12.0]
    """
    # 1e-9 absorbs binary representation error (x · 10 may land just below a half) without
    # moving any speed a school anemometer can report.
    speed = np.floor(_f64(wind_speed_ms) * 10.0 + 0.5 + 1e-9) / 10.0
    force = np.searchsorted(_BEAUFORT_LOWER_MS, speed, side="right").astype(np.float64)
    return np.where(np.isnan(speed), np.nan, force)


def compass_point(wind_dir_deg: ArrayLike) -> pd.Categorical:
    """16-point compass name of a direction in degrees (N = 0/360, E = 90); missing stays missing.

    Source: the 16-point compass rose used in NWS and Met Office forecasts: points every 22.5°
    from N, each name covering ±11.25° around its centre.

    >>> list(compass_point([0, 11.2, 11.3, 90, 350, 359.9]))
    ['N', 'N', 'NNE', 'E', 'N', 'N']
    """
    direction = _f64(wind_dir_deg)
    with np.errstate(invalid="ignore"):
        sector = np.floor(np.mod(direction + 11.25, 360.0) / 22.5)
    codes = np.where(np.isnan(direction), -1, sector).astype(np.int8)
    return pd.Categorical.from_codes(codes, categories=list(COMPASS_POINTS))


@dataclass(frozen=True)
class Derived:
    """A quantity computed from contract fields: its one name (the export's column, the
    dashboard's variable, the unit table's key), the fields it needs and how it is computed from
    them (`elevation_m`: the station's height, per row)."""

    name: str
    sources: tuple[str, ...]
    compute: Callable[[Mapping[str, FloatArray], FloatArray], FloatArray]


DERIVED: dict[str, Derived] = {
    d.name: d
    for d in (
        Derived(
            "dewpoint_c", ("temp_c", "rh_pct"), lambda f, _: dewpoint_c(f["temp_c"], f["rh_pct"])
        ),
        Derived(
            "sea_level_pressure_hpa",
            ("pressure_hpa", "temp_c"),
            lambda f, elevation: sea_level_pressure_hpa(f["pressure_hpa"], f["temp_c"], elevation),
        ),
        Derived(
            "heat_index_c",
            ("temp_c", "rh_pct"),
            lambda f, _: heat_index_c(f["temp_c"], f["rh_pct"]),
        ),
        Derived(
            "wind_chill_c",
            ("temp_c", "wind_speed_ms"),
            lambda f, _: wind_chill_c(f["temp_c"], f["wind_speed_ms"]),
        ),
        Derived(
            "apparent_temp_c",
            ("temp_c", "rh_pct", "wind_speed_ms"),
            lambda f, _: apparent_temp_c(f["temp_c"], f["rh_pct"], f["wind_speed_ms"]),
        ),
    )
}


def derive(name: str, frame: pd.DataFrame, elevation_m: ArrayLike) -> FloatArray:
    """Values of `DERIVED[name]` for the rows of `frame` (missing source fields count as NaN).

    >>> frame = pd.DataFrame({"temp_c": [20.0], "rh_pct": [50.0]})
    >>> [round(float(v), 2) for v in derive("dewpoint_c", frame, [0.0])]
    [9.27]
    """
    quantity = DERIVED[name]
    fields = {
        f: frame[f].to_numpy(np.float64) if f in frame else np.full(len(frame), np.nan)
        for f in quantity.sources
    }
    return quantity.compute(fields, _f64(elevation_m))
