"""Where the sun is, from a UTC instant and a place: the one solar-position implementation that the
comparison core (sunrise, solar time, elevation) and the simulators (daily cycle, light, UV) share.

Source for every function here: the NOAA Global Monitoring Laboratory solar calculator and its
spreadsheet (gml.noaa.gov/grad/solcalc/calcdetails.html), which implement Meeus, J. (1991),
Astronomical Algorithms, ch. 25 (sun) and 28 (equation of time). Stated accuracy: about 0.01° in
position and one minute in sunrise and sunset for latitudes within ±72° and years 1800–2100.

Pure numpy: instants are int64 nanoseconds since the Unix epoch (UTC), latitudes north and
longitudes east positive, every argument may be an array.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

NS_PER_S = 1_000_000_000
S_PER_DAY = 86_400
_JD_UNIX_EPOCH = 2440587.5
_JD_J2000 = 2451545.0
# Zenith of the sun's upper limb at the horizon: 90° + 0.833° (refraction 34′ + semidiameter 16′).
SUNRISE_ZENITH_DEG = 90.833


def _julian_century(t_ns: NDArray[np.int64]) -> FloatArray:
    julian_day = np.asarray(t_ns) / (NS_PER_S * S_PER_DAY) + _JD_UNIX_EPOCH
    return (julian_day - _JD_J2000) / 36525.0


def declination_and_eot(t_ns: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """Solar declination (degrees) and equation of time (minutes), NOAA spreadsheet columns G–V.

    >>> t = np.array([1718884800 * NS_PER_S])  # 2024-06-20 12:00 UTC, near the solstice
    >>> [round(float(x[0]), 1) for x in declination_and_eot(t)]
    [23.4, -1.7]
    """
    jc = _julian_century(t_ns)
    mean_long = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    mean_anom = np.radians(357.52911 + jc * (35999.05029 - 0.0001537 * jc))
    eccent = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    centre = (
        np.sin(mean_anom) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + np.sin(2 * mean_anom) * (0.019993 - 0.000101 * jc)
        + np.sin(3 * mean_anom) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * jc)
    apparent_long = np.radians(mean_long + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliquity = (
        23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60
    )
    obliquity = np.radians(mean_obliquity + 0.00256 * np.cos(omega))
    declination = np.degrees(np.arcsin(np.sin(obliquity) * np.sin(apparent_long)))
    var_y = np.tan(obliquity / 2) ** 2
    long_rad = np.radians(mean_long)
    eot_min = 4 * np.degrees(
        var_y * np.sin(2 * long_rad)
        - 2 * eccent * np.sin(mean_anom)
        + 4 * eccent * var_y * np.sin(mean_anom) * np.cos(2 * long_rad)
        - 0.5 * var_y**2 * np.sin(4 * long_rad)
        - 1.25 * eccent**2 * np.sin(2 * mean_anom)
    )
    return declination, eot_min


def sin_geometric_elevation(
    t_ns: NDArray[np.int64], lat_deg: ArrayLike, lon_deg: ArrayLike
) -> FloatArray:
    """sin of the sun centre's geometric elevation (no refraction; negative at night).

    Formula: sin e = sin φ sin δ + cos φ cos δ cos h, with the hour angle h from the true solar
    time (UTC minutes + equation of time + 4 min/° longitude).

    At the June solstice the noon sun over Tampere (61.5° N) stands 90 − 61.5 + 23.4 ≈ 52° high:

    >>> t = np.array([int((1718841600 + 10.45 * 3600) * NS_PER_S)])  # 10:27 UTC: solar noon
    >>> round(float(np.degrees(np.arcsin(sin_geometric_elevation(t, 61.498, 23.761)[0]))))
    52
    """
    t = np.asarray(t_ns, dtype=np.int64)
    declination, eot_min = declination_and_eot(t)
    minutes_of_day = np.mod(t, NS_PER_S * S_PER_DAY) / (NS_PER_S * 60)
    true_solar_min = np.mod(
        minutes_of_day + eot_min + 4.0 * np.asarray(lon_deg, np.float64), 1440.0
    )
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(np.asarray(lat_deg, np.float64))
    decl = np.radians(declination)
    return np.clip(
        np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle), -1.0, 1.0
    )


def elevation_deg(t_ns: NDArray[np.int64], lat_deg: ArrayLike, lon_deg: ArrayLike) -> FloatArray:
    """Apparent elevation of the sun's centre above the horizon, NOAA's refraction included.

    Greenwich at 12:00 UTC on the June solstice: 90° − 51.48° + 23.44° ≈ 62°:

    >>> round(float(elevation_deg(np.array([1718884800 * NS_PER_S]), 51.4769, 0.0)[0]), 1)
    62.0
    """
    geometric = np.degrees(np.arcsin(sin_geometric_elevation(t_ns, lat_deg, lon_deg)))
    return geometric + _refraction_deg(geometric)


def _refraction_deg(elevation: FloatArray) -> FloatArray:
    """NOAA's atmospheric refraction approximation (degrees) for a geometric elevation."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tan_e = np.tan(np.radians(elevation))
        high = 58.1 / tan_e - 0.07 / tan_e**3 + 0.000086 / tan_e**5
        near = 1735.0 + elevation * (
            -518.2 + elevation * (103.4 + elevation * (-12.79 + elevation * 0.711))
        )
        below = -20.772 / tan_e
    arcsec = np.where(
        elevation > 85.0,
        0.0,
        np.where(elevation > 5.0, high, np.where(elevation > -0.575, near, below)),
    )
    return arcsec / 3600.0


def solar_time_ns(t_ns: NDArray[np.int64], lon_deg: ArrayLike) -> NDArray[np.int64]:
    """Apparent (sundial) solar time at a longitude, as naive wall-clock int64 ns.

    Formula: UTC + longitude · 4 min/° + equation of time. The sun is highest at 12:00 solar time.
    """
    t = np.asarray(t_ns, dtype=np.int64)
    _, eot_min = declination_and_eot(t)
    shift_ns = (np.asarray(lon_deg, np.float64) * 4.0 + eot_min) * 60 * NS_PER_S
    return t + np.round(shift_ns).astype(np.int64)


def daily_mean_sin_elevation(t_ns: NDArray[np.int64], lat_deg: ArrayLike) -> FloatArray:
    """The 24-hour mean of max(0, sin e) on the day of `t_ns`: how much sun the day gets.

    (h0 sin φ sin δ + cos φ cos δ sin h0) / π, with cos h0 = −tan φ tan δ the sunset hour angle
    (Iqbal, "An Introduction to Solar Radiation", 1983, eq. 1.10.3 divided by the solar constant).

    >>> round(float(daily_mean_sin_elevation(np.array([1710936000 * NS_PER_S]), 0.0)[0]), 3)
    0.318
    """
    declination, _ = declination_and_eot(np.asarray(t_ns, dtype=np.int64))
    decl = np.radians(declination)
    lat = np.radians(np.asarray(lat_deg, np.float64))
    h0 = np.arccos(np.clip(-np.tan(lat) * np.tan(decl), -1.0, 1.0))
    return (h0 * np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.sin(h0)) / np.pi
