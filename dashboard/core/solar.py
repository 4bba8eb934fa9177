"""The sun at each station for the comparison core: elevation, sunrise, sunset, day length, local
solar time. The astronomy is `ingest.domain.solar` (NOAA / Meeus), shared with the simulators;
this module takes pandas times and gives each school's calendar day its events.

Times go in as UTC (tz-aware pandas or int64 ns); latitudes north and longitudes east positive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dashboard.core.frames import NS_PER_S, S_PER_DAY, time_ns
from ingest.domain import solar as astro

FloatArray = NDArray[np.float64]
_MINUTE_NS = 60 * NS_PER_S
_DAY_NS = S_PER_DAY * NS_PER_S


def equation_of_time_min(time: pd.Series | pd.DatetimeIndex) -> FloatArray:
    """Apparent minus mean solar time, in minutes (Meeus 1991, eq. 28.3; NOAA column V).

    Early November the sundial runs about 16.5 minutes ahead of the clock:

    >>> round(float(equation_of_time_min(pd.DatetimeIndex(["2024-11-03 12:00"], tz="UTC"))[0]), 1)
    16.5
    """
    return astro.declination_and_eot(time_ns(time))[1]


def sun_elevation_deg(
    time: pd.Series | pd.DatetimeIndex, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> FloatArray:
    """Apparent elevation of the sun's centre above the horizon, refraction included.

    >>> t = pd.DatetimeIndex(["2024-06-20 12:00"], tz="UTC")
    >>> round(float(sun_elevation_deg(t, 51.4769, 0.0)[0]), 1)
    62.0
    """
    return astro.elevation_deg(time_ns(time), lat_deg, lon_deg)


def local_solar_time(time: pd.Series | pd.DatetimeIndex, lon_deg: ArrayLike) -> pd.DatetimeIndex:
    """Apparent (sundial) solar time at a longitude, as naive wall-clock datetimes.

    Formula: UTC + longitude · 4 min/° + equation of time. The sun is highest at 12:00 solar time
    everywhere, which is what lets a school in Kolkata (+5:30) and one in Lisbon line up noons.

    >>> t = pd.DatetimeIndex(["2024-11-03 12:00"], tz="UTC")
    >>> str(local_solar_time(t, 15.0)[0])[:16]
    '2024-11-03 13:16'
    """
    return pd.DatetimeIndex(astro.solar_time_ns(time_ns(time), lon_deg).astype("datetime64[ns]"))


def _half_day_min(at_ns: NDArray[np.int64], lat: FloatArray) -> FloatArray:
    """Minutes from solar noon to sunset at the declination of `at_ns`; NaN where the sun does not
    cross the horizon that day (cos H0 beyond ±1: polar day or polar night)."""
    declination, _ = astro.declination_and_eot(at_ns)
    decl = np.radians(declination)
    cos_h0 = np.cos(np.radians(astro.SUNRISE_ZENITH_DEG)) / (np.cos(lat) * np.cos(decl)) - np.tan(
        lat
    ) * np.tan(decl)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(cos_h0) <= 1.0, 4.0 * np.degrees(np.arccos(cos_h0)), np.nan)


# The sun's upper limb on the horizon, refraction included: its centre's geometric elevation.
_SIN_HORIZON = np.sin(np.radians(90.0 - astro.SUNRISE_ZENITH_DEG))
# Bisection steps over half a day: 12 h / 2^20 ≈ 0.04 s.
_BISECTIONS = 20


def _crossing(
    start: NDArray[np.int64], end: NDArray[np.int64], lat_deg: FloatArray, lon: FloatArray
) -> NDArray[np.int64]:
    """The instant in [start, end] where the sun's upper limb crosses the horizon, or `_NAT`
    where it is on the same side at both ends (no crossing between the culminations)."""
    above_start = astro.sin_geometric_elevation(start, lat_deg, lon) > _SIN_HORIZON
    above_end = astro.sin_geometric_elevation(end, lat_deg, lon) > _SIN_HORIZON
    low, high = start.copy(), end.copy()
    for _ in range(_BISECTIONS):
        middle = low + (high - low) // 2
        same = (astro.sin_geometric_elevation(middle, lat_deg, lon) > _SIN_HORIZON) == above_start
        low, high = np.where(same, middle, low), np.where(same, high, middle)
    return np.where(above_start != above_end, low + (high - low) // 2, _NAT)


def _solar_day_events(
    day_ns: NDArray[np.int64], lat: FloatArray, lon: FloatArray
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], FloatArray]:
    """Solar noon, sunrise, sunset (UTC ns; `_NAT` where none) and day length (h) of the solar day
    around mean noon of `day_ns`. Sunrise is where the sun's elevation crosses the horizon between
    the lower culmination before noon and noon, sunset between noon and the lower culmination
    after it, found by bisection: at the edge of polar day the sun grazes the horizon and a
    closed formula evaluated once promises a sunset (or sunrise) the sun never makes."""

    def noon_ns(estimate_ns: NDArray[np.int64]) -> NDArray[np.int64]:
        _, eot = astro.declination_and_eot(estimate_ns)
        return day_ns + np.round((720.0 - 4.0 * lon - eot) * _MINUTE_NS).astype(np.int64)

    noon = noon_ns(noon_ns(day_ns + _DAY_NS // 2))
    lat_deg = np.degrees(lat)
    rise = _crossing(noon - _DAY_NS // 2, noon, lat_deg, lon)
    sunset = _crossing(noon, noon + _DAY_NS // 2, lat_deg, lon)
    first = _half_day_min(noon, lat)
    up_at_noon = astro.sin_geometric_elevation(noon, lat_deg, lon) > _SIN_HORIZON
    length_h = np.where(np.isfinite(first), 2.0 * first / 60.0, np.where(up_at_noon, 24.0, 0.0))
    return noon, rise, sunset, length_h


_NAT = np.iinfo(np.int64).min


def sun_times(
    date: pd.Series | pd.DatetimeIndex,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    timezone: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sunrise, solar noon and sunset (UTC), day length, and whether the sun is up or down all
    day, for a local calendar date at each place.

    `date` holds the local calendar dates (any time of day is ignored). With `timezone` (one IANA
    zone per row), each event belongs to the local date it happens on: at Tromsø the sunset that
    ends the solar day of 2024-05-16 falls at 00:09 on the 17th and is the 17th's sunset; after
    it the sun stays up (its lowest, −0.75°, is above the −0.83° horizon). Without zones, the
    events are those of the solar day around the date's noon. A date with no sunset (no sunrise)
    has NaT there: the page says "the sun does not set (rise) today" instead of inventing an
    event. `up_all_day` / `down_all_day` mark polar day and polar night.

    Sunrise and sunset are where the upper limb crosses the horizon (centre at −0.833°, NOAA and
    SPA's h0′), solar noon = 12:00 − 4 min/° · longitude − equation of time; the day length is
    2 · H0 with cos H0 = cos(90.833°)/(cos φ cos δ) − tan φ tan δ at noon.

    Tampere (61.5° N, 23.76° E) on the June solstice has about 19.5 hours of daylight:

    >>> times = sun_times(pd.DatetimeIndex(["2024-06-20"]), 61.4981, 23.7610)
    >>> round(float(times["day_length_h"].iloc[0]), 1)
    19.5
    """
    day_ns = pd.DatetimeIndex(date).normalize().tz_localize(None).as_unit("ns").asi8
    n = day_ns.size
    lon = np.broadcast_to(np.asarray(lon_deg, np.float64), (n,))
    lat = np.radians(np.broadcast_to(np.asarray(lat_deg, np.float64), (n,)))
    noon, rise, sunset, length_h = _solar_day_events(day_ns, lat, lon)
    if timezone is not None:
        rise, sunset = _events_on_local_date(day_ns, lat, lon, list(timezone), rise, sunset)
    up_noon = astro.sin_geometric_elevation(noon, np.degrees(lat), lon) > _SIN_HORIZON
    no_event = (rise == _NAT) & (sunset == _NAT)

    def utc(ns: NDArray[np.int64]) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(np.where(ns == _NAT, np.datetime64("NaT"), ns.astype("M8[ns]")))

    return pd.DataFrame(
        {
            "sunrise": utc(rise).tz_localize("UTC"),
            "solar_noon": utc(noon).tz_localize("UTC"),
            "sunset": utc(sunset).tz_localize("UTC"),
            "day_length_h": np.clip(length_h, 0.0, 24.0),
            "up_all_day": no_event & up_noon,
            "down_all_day": no_event & ~up_noon,
        }
    )


def _events_on_local_date(
    day_ns: NDArray[np.int64],
    lat: FloatArray,
    lon: FloatArray,
    zones: list[str],
    rise: NDArray[np.int64],
    sunset: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The sunrise and sunset that happen on each row's local date, looking at the solar days
    before and after as well; the date's own solar day wins when both qualify."""
    candidates = {0: (rise, sunset)}
    for shift in (-1, 1):
        _, r, s, _ = _solar_day_events(day_ns + shift * _DAY_NS, lat, lon)
        candidates[shift] = (r, s)
    zone_of = pd.Series(zones)

    def local_day(ns: NDArray[np.int64]) -> NDArray[np.int64]:
        out = np.full(ns.size, _NAT)
        for zone, rows in zone_of.groupby(zone_of).groups.items():
            index = np.asarray(rows)
            ok = index[ns[index] != _NAT]
            local = pd.DatetimeIndex(ns[ok].astype("M8[ns]"), tz="UTC").tz_convert(str(zone))
            out[ok] = local.tz_localize(None).normalize().as_unit("ns").asi8
        return out

    chosen = []
    for which in (0, 1):
        pick = np.full(day_ns.size, _NAT)
        for shift in (1, -1, 0):  # later assignments win: the date's own solar day last
            event = candidates[shift][which]
            pick = np.where(local_day(event) == day_ns, event, pick)
        chosen.append(pick)
    return chosen[0], chosen[1]
