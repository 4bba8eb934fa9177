"""Where the sun is at each station: elevation, sunrise, sunset, day length, local solar time.

Source for every function here: the NOAA Global Monitoring Laboratory solar calculator and its
spreadsheet (gml.noaa.gov/grad/solcalc/calcdetails.html), which implement Meeus, J. (1991),
Astronomical Algorithms, ch. 25 (sun) and 28 (equation of time). Stated accuracy: about 0.01° in
position and one minute in sunrise and sunset for latitudes within ±72° and years 1800–2100.

Times go in as UTC (tz-aware pandas or int64 ns); latitudes north and longitudes east positive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dashboard.core.frames import NS_PER_S, S_PER_DAY, time_ns

FloatArray = NDArray[np.float64]

_JD_UNIX_EPOCH = 2440587.5
_JD_J2000 = 2451545.0
# Zenith of the sun's upper limb at the horizon: 90° + 0.833° (refraction 34′ + semidiameter 16′).
_SUNRISE_ZENITH_DEG = 90.833


def _julian_century(t_ns: NDArray[np.int64]) -> FloatArray:
    julian_day = t_ns / (NS_PER_S * S_PER_DAY) + _JD_UNIX_EPOCH
    return (julian_day - _JD_J2000) / 36525.0


def _declination_and_eot(t_ns: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """Solar declination (degrees) and equation of time (minutes), NOAA spreadsheet columns G–V."""
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


def equation_of_time_min(time: pd.Series | pd.DatetimeIndex) -> FloatArray:
    """Apparent minus mean solar time, in minutes.

    Formula: NOAA spreadsheet column V, from the sun's mean longitude, mean anomaly, the orbit's
    eccentricity and the obliquity of the ecliptic (Meeus 1991, eq. 28.3).

    Early November the sundial runs about 16.5 minutes ahead of the clock:

    >>> round(float(equation_of_time_min(pd.DatetimeIndex(["2024-11-03 12:00"], tz="UTC"))[0]), 1)
    16.5
    """
    return _declination_and_eot(time_ns(time))[1]


def sun_elevation_deg(
    time: pd.Series | pd.DatetimeIndex, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> FloatArray:
    """Apparent elevation of the sun's centre above the horizon, refraction included.

    Formula: cos(zenith) = sin φ sin δ + cos φ cos δ cos h, with the hour angle h from the true
    solar time (UTC minutes + equation of time + 4 min/° longitude); NOAA's refraction
    approximation (spreadsheet column AE) is then added.

    Greenwich at 12:00 UTC on the June solstice: 90° − 51.48° + 23.44° ≈ 62°:

    >>> t = pd.DatetimeIndex(["2024-06-20 12:00"], tz="UTC")
    >>> round(float(sun_elevation_deg(t, 51.4769, 0.0)[0]), 1)
    62.0
    """
    t_ns = time_ns(time)
    declination, eot_min = _declination_and_eot(t_ns)
    minutes_of_day = np.mod(t_ns, NS_PER_S * S_PER_DAY) / (NS_PER_S * 60)
    true_solar_min = np.mod(
        minutes_of_day + eot_min + 4.0 * np.asarray(lon_deg, np.float64), 1440.0
    )
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(np.asarray(lat_deg, np.float64))
    decl = np.radians(declination)
    cos_zenith = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    elevation = 90.0 - np.degrees(np.arccos(np.clip(cos_zenith, -1.0, 1.0)))
    return elevation + _refraction_deg(elevation)


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


def local_solar_time(time: pd.Series | pd.DatetimeIndex, lon_deg: ArrayLike) -> pd.DatetimeIndex:
    """Apparent (sundial) solar time at a longitude, as naive wall-clock datetimes.

    Formula: UTC + longitude · 4 min/° + equation of time. The sun is highest at 12:00 solar time
    everywhere, which is what lets a school in Kolkata (+5:30) and one in Lisbon line up noons.

    >>> t = pd.DatetimeIndex(["2024-11-03 12:00"], tz="UTC")
    >>> str(local_solar_time(t, 15.0)[0])[:16]
    '2024-11-03 13:16'
    """
    t_ns = time_ns(time)
    _, eot_min = _declination_and_eot(t_ns)
    shift_ns = (np.asarray(lon_deg, np.float64) * 4.0 + eot_min) * 60 * NS_PER_S
    return pd.DatetimeIndex((t_ns + np.round(shift_ns).astype(np.int64)).astype("datetime64[ns]"))


def sun_times(
    date: pd.Series | pd.DatetimeIndex, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> pd.DataFrame:
    """Sunrise, solar noon and sunset (UTC) and day length for a local calendar date at each place.

    `date` holds the local calendar dates (any time of day is ignored). Polar day gives a day
    length of 24 h and polar night 0 h, with no sunrise or sunset (NaT).

    Formula: hour angle of sunrise cos H0 = cos(90.833°)/(cos φ cos δ) − tan φ tan δ; solar noon
    = 12:00 − 4 min/° · longitude − equation of time; sunrise/sunset = noon ∓ 4 min/° · H0.
    As NOAA's web calculator does, declination and equation of time are evaluated again at each
    event's first estimate, which brings the result within a minute of the full algorithm.

    Tampere (61.5° N, 23.76° E) on the June solstice has about 19.5 hours of daylight:

    >>> times = sun_times(pd.DatetimeIndex(["2024-06-20"]), 61.4981, 23.7610)
    >>> round(float(times["day_length_h"].iloc[0]), 1)
    19.5
    """
    day_ns = pd.DatetimeIndex(date).normalize().tz_localize(None).as_unit("ns").asi8
    lon = np.asarray(lon_deg, np.float64)
    lat = np.radians(np.asarray(lat_deg, np.float64))
    minute_ns = 60 * NS_PER_S

    def noon_ns(estimate_ns: NDArray[np.int64]) -> NDArray[np.int64]:
        _, eot = _declination_and_eot(estimate_ns)
        return day_ns + np.round((720.0 - 4.0 * lon - eot) * minute_ns).astype(np.int64)

    def half_day_min(at_ns: NDArray[np.int64]) -> FloatArray:
        declination, _ = _declination_and_eot(at_ns)
        decl = np.radians(declination)
        cos_h0 = np.cos(np.radians(_SUNRISE_ZENITH_DEG)) / (np.cos(lat) * np.cos(decl)) - np.tan(
            lat
        ) * np.tan(decl)
        # Beyond ±1 the sun never crosses the horizon: polar night (>1) or polar day (<-1).
        return 4.0 * np.degrees(np.arccos(np.clip(cos_h0, -1.0, 1.0)))

    noon = noon_ns(noon_ns(day_ns + 12 * 60 * minute_ns))
    first = half_day_min(noon)
    rise_guess = noon - np.round(first * minute_ns).astype(np.int64)
    set_guess = noon + np.round(first * minute_ns).astype(np.int64)
    rise = noon - np.round(half_day_min(rise_guess) * minute_ns).astype(np.int64)
    sunset = noon + np.round(half_day_min(set_guess) * minute_ns).astype(np.int64)
    length_h = (sunset - rise) / (3600 * NS_PER_S)
    polar = (length_h <= 0.0) | (length_h >= 24.0)
    utc = pd.DatetimeIndex(noon.astype("datetime64[ns]")).tz_localize("UTC")
    return pd.DataFrame(
        {
            "sunrise": pd.DatetimeIndex(rise.astype("datetime64[ns]"), tz="UTC").where(~polar),
            "solar_noon": utc,
            "sunset": pd.DatetimeIndex(sunset.astype("datetime64[ns]"), tz="UTC").where(~polar),
            "day_length_h": np.clip(length_h, 0.0, 24.0),
        }
    )
