"""Where the sun is: the driver of the simulated diurnal cycle, light and UV.

NOAA Global Monitoring Laboratory, "General Solar Position Calculations" (Spencer 1971 series for
declination and the equation of time). Accurate to about a quarter of a degree, far better than a
school thermometer can notice. Vectorised: every argument may be a numpy array.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_DAY_S = 86400.0
_YEAR_DAYS = 365.2422
_J2000_UNIX_DAYS = 10957.0  # 2000-01-01T00:00Z in days since the Unix epoch


def fractional_year_rad(ts: ArrayLike) -> NDArray[np.float64]:
    """γ: the position in the (mean tropical) year, 0 at 1 January, in radians."""
    days = np.asarray(ts, dtype=np.float64) / _DAY_S - _J2000_UNIX_DAYS
    return 2.0 * np.pi * np.mod(days, _YEAR_DAYS) / _YEAR_DAYS


def declination_rad(gamma: ArrayLike) -> NDArray[np.float64]:
    """Solar declination δ from the fractional year (NOAA)."""
    g = np.asarray(gamma, dtype=np.float64)
    return (
        0.006918
        - 0.399912 * np.cos(g)
        + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g)
        + 0.00148 * np.sin(3 * g)
    )


def equation_of_time_min(gamma: ArrayLike) -> NDArray[np.float64]:
    """Apparent minus mean solar time, minutes (NOAA)."""
    g = np.asarray(gamma, dtype=np.float64)
    return 229.18 * (
        0.000075
        + 0.001868 * np.cos(g)
        - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g)
        - 0.040849 * np.sin(2 * g)
    )


def sin_elevation(ts: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """sin of the sun's elevation above the horizon at UTC Unix time `ts` (negative at night).

    sin(e) = sin φ sin δ + cos φ cos δ cos h, with the hour angle h from true solar time.

    At the June solstice the noon sun over Tampere (61.5° N) stands 90 - 61.5 + 23.4 ≈ 52° high:

    >>> import numpy as np
    >>> ts = 1718841600 + 10.45 * 3600  # 2024-06-20 10:27 UTC: solar noon at 23.76° E
    >>> round(float(np.degrees(np.arcsin(sin_elevation(ts, 61.498, 23.761)))))
    52
    """
    t = np.asarray(ts, dtype=np.float64)
    gamma = fractional_year_rad(t)
    decl = declination_rad(gamma)
    minutes_utc = np.mod(t, _DAY_S) / 60.0
    true_solar_min = minutes_utc + equation_of_time_min(gamma) + 4.0 * np.asarray(lon_deg)
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(lat_deg)
    return np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)


def daily_mean_sin_elevation(ts: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.float64]:
    """The 24-hour mean of max(0, sin e) on the day of `ts`: how much sun the day gets.

    (h0 sin φ sin δ + cos φ cos δ sin h0) / π, with cos h0 = -tan φ tan δ the sunset hour angle
    (Iqbal, "An Introduction to Solar Radiation", 1983, eq. 1.10.3 divided by the solar constant).

    >>> round(float(daily_mean_sin_elevation(1710936000, 0.0)), 3)  # equator, March equinox: 1/π
    0.318
    """
    decl = declination_rad(fractional_year_rad(ts))
    lat = np.radians(lat_deg)
    h0 = np.arccos(np.clip(-np.tan(lat) * np.tan(decl), -1.0, 1.0))
    return (h0 * np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.sin(h0)) / np.pi
