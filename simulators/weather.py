"""Believable weather for many stations at once: a pure function of (seed, station, time).

Every reading is computed from the town's climate normals (towns.csv) and a few persistent random
processes (noise.Smooth), vectorised over whatever stations and times are asked for:

- temperature: the seasonal level from the January and July normals (so Sydney is warming in
  October while Tampere cools), plus passing warm and cold spells, plus a diurnal cycle driven by
  the sun's elevation at that place and time. The sun's heating is felt with a lag (an exponential
  memory of about six hours over a whole day), so the maximum comes in the afternoon and the air
  keeps cooling all night, to its minimum near dawn; the range grows with the day's sunshine
  (large in a Finnish June, nearly nothing in its December) and shrinks under cloud. In the
  tropics the spells are small and slow, so the daily cycle rules each day, as it does there.
- pressure: station pressure, i.e. the sea-level value reduced to the station's elevation, with
  passing highs and lows (larger at higher latitude) and the tropics' twice-daily tide.
- humidity: the dew point follows the day's mean temperature, not the hour's, so relative humidity
  falls as the afternoon warms and rises at night; rain saturates the air.
- rain: it rains while a wetness process, pushed up by low pressure, exceeds a threshold set per
  month so that the month gets its climatological total (monsoon months wet, dry season dry).
  Mid-latitude rain is frontal (long, light); tropical rain is convective (short, heavy, mostly in
  the afternoon).
- wind: a mean speed that wanders around the town's normal and picks up in daytime mixing and in
  lows, gusts above it, and a direction that persists for hours and veers with passing systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from ingest.domain import solar
from simulators import noise
from simulators.towns import Station, Town

FloatArray = NDArray[np.float64]

EPOCH = 1577836800  # 2020-01-01Z: times are taken from here so sinusoid arguments stay small
_HOUR = 3600.0
_DAY = 86400.0
_YEAR_DAYS = 365.2422
_J2000_UNIX_DAYS = 10957.0  # 2000-01-01T00:00Z in days since the Unix epoch

# The air's memory of the sun: heating felt over the last LAGS hours, weighted exp(-lag / TAU).
# A whole day of memory with a 6-hour time constant keeps the air cooling all night, so the
# minimum comes near dawn (about a fifth of the day's range is lost between midnight and dawn, as
# at tropical stations); a 12-hour memory left the night flat, and day-to-day drift then put the
# minimum at midnight on most days.
_LAGS = 24
_TAU_H = 6.0
_LAG_WEIGHTS = np.exp(-np.arange(_LAGS) / _TAU_H)
_LAG_WEIGHTS /= _LAG_WEIGHTS.sum()

# Rain intensity while it rains, mm/h: frontal drizzle-to-moderate, tropical downpours.
_FRONTAL_MM_H = 1.5
_CONVECTIVE_MM_H = 7.0
_TROPICS_DEG = 25.0

# Channels of the random processes (any distinct numbers; changing one changes the weather).
_CH_TEMP, _CH_PRES, _CH_WET, _CH_HUM, _CH_WIND, _CH_DIR, _CH_DIR2 = 1, 2, 3, 4, 5, 6, 7
_CH_GUST, _CH_JITTER, _CH_STATION = 20, 21, 22
_CH_TURB_T, _CH_TURB_P, _CH_TURB_W = 23, 24, 25

# Magnus formula coefficients over water (Alduchov & Eskridge 1996), T in °C.
_MAGNUS_B, _MAGNUS_C = 17.62, 243.12


def _ns(ts: FloatArray) -> NDArray[np.int64]:
    return np.round(np.asarray(ts, np.float64) * 1e9).astype(np.int64)


def _sin_elevation(ts: FloatArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
    return solar.sin_geometric_elevation(_ns(ts), lat, lon)


def year_angle_rad(ts: FloatArray) -> FloatArray:
    """The position in the (mean tropical) year, 0 at 1 January, in radians: the calendar that
    climate normals are given in."""
    days = np.asarray(ts, dtype=np.float64) / _DAY - _J2000_UNIX_DAYS
    return 2.0 * np.pi * np.mod(days, _YEAR_DAYS) / _YEAR_DAYS


def _lagged_sun(ts: FloatArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """The sun's heating as the air feels it now: exponentially weighted past sunshine."""
    heat = np.zeros_like(ts)
    for lag, weight in enumerate(_LAG_WEIGHTS):
        heat += weight * np.maximum(_sin_elevation(ts - lag * _HOUR, lat, lon), 0.0)
    return heat


def _month_index(ts: FloatArray) -> NDArray[np.intp]:
    """0..11 from the fractional year: close enough to the calendar month for climate normals."""
    return np.minimum((year_angle_rad(ts) / (2 * np.pi) * 12).astype(np.intp), 11)


def _monthly_rain_mm(town: Town) -> FloatArray:
    weights = np.array(
        [
            1.0 if not town.wet_months or m in town.wet_months else town.dry_share
            for m in range(1, 13)
        ]
    )
    return town.rain_mm * weights / weights.sum()


def _diurnal_scale(town: Town) -> float:
    """°C per unit of lagged sunshine, so that an equinox day has the town's normal range."""
    day = EPOCH + 79 * _DAY + np.arange(0, _DAY, 600.0)  # 2020-03-20, every 10 minutes
    heat = _lagged_sun(day, np.full_like(day, town.lat), np.full_like(day, town.lon))
    return town.dtr_c / float(heat.max() - heat.min())


@dataclass(frozen=True)
class _TownClimate:
    """Per-town constants derived once from the normals; indexed by station through `town`."""

    t_mean_c: FloatArray
    t_half_range_c: FloatArray  # July minus January, halved: negative in the south
    diurnal_c: FloatArray
    rh_pct: FloatArray
    wind_ms: FloatArray
    tropical: NDArray[np.bool_]
    intensity_mm_h: FloatArray
    wet_fraction: FloatArray  # (town, month): share of the time it rains


def _climate(table: tuple[Town, ...]) -> _TownClimate:
    intensity = np.array(
        [_CONVECTIVE_MM_H if abs(t.lat) < _TROPICS_DEG else _FRONTAL_MM_H for t in table]
    )
    mean_rate = np.array([_monthly_rain_mm(t) for t in table]) / (30.44 * 24.0)  # mm/h
    return _TownClimate(
        t_mean_c=np.array([(t.t_jan_c + t.t_jul_c) / 2 for t in table]),
        t_half_range_c=np.array([(t.t_jul_c - t.t_jan_c) / 2 for t in table]),
        diurnal_c=np.array([_diurnal_scale(t) for t in table]),
        rh_pct=np.array([t.rh_pct for t in table]),
        wind_ms=np.array([t.wind_ms for t in table]),
        tropical=np.array([abs(t.lat) < _TROPICS_DEG for t in table]),
        intensity_mm_h=intensity,
        wet_fraction=np.clip(mean_rate / intensity[:, None], 0.002, 0.45),
    )


def dewpoint_c(temp_c: FloatArray, rh_pct: FloatArray) -> FloatArray:
    """Dew point from temperature and relative humidity (Magnus formula).

    >>> round(float(dewpoint_c(np.array(20.0), np.array(50.0))), 1)  # psychrometric tables: 9.3
    9.3
    """
    gamma = np.log(rh_pct / 100.0) + _MAGNUS_B * temp_c / (_MAGNUS_C + temp_c)
    return _MAGNUS_C * gamma / (_MAGNUS_B - gamma)


def relative_humidity_pct(temp_c: FloatArray, dewpoint: FloatArray) -> FloatArray:
    """Relative humidity from temperature and dew point (Magnus formula), at most 100 %.

    >>> round(float(relative_humidity_pct(np.array(20.0), np.array(9.3))), 0)
    50.0
    """
    ratio = np.exp(
        _MAGNUS_B * dewpoint / (_MAGNUS_C + dewpoint) - _MAGNUS_B * temp_c / (_MAGNUS_C + temp_c)
    )
    return np.minimum(100.0 * ratio, 100.0)


def station_pressure_hpa(sea_level_hpa: FloatArray, elevation_m: FloatArray) -> FloatArray:
    """Pressure at the station's height from the sea-level value (ICAO standard atmosphere).

    >>> round(float(station_pressure_hpa(np.array(1013.25), np.array(1350.0))), 0)  # ISA: 861
    861.0
    """
    return sea_level_hpa * (1.0 - 2.25577e-5 * elevation_m) ** 5.25588


class _TownWeather:
    """What the schools of one town share: its climate, its spells and systems, its showers and
    its wind direction. Built once per (towns, seed): the rain calibration takes a second."""

    def __init__(self, table: tuple[Town, ...], seed: int) -> None:
        self.climate = _climate(table)
        n, tropical = len(table), self.climate.tropical
        self.temp = noise.Smooth(seed, _CH_TEMP, n, 3 * _DAY, 10 * _DAY)
        self.pressure = noise.Smooth(seed, _CH_PRES, n, 2.5 * _DAY, 8 * _DAY)
        self.wet = noise.Smooth(
            seed,
            _CH_WET,
            n,
            np.where(tropical, 1.5 * _HOUR, 5 * _HOUR),
            np.where(tropical, 12 * _HOUR, 3 * _DAY),
        )
        self.direction = noise.Smooth(seed, _CH_DIR, n, 12 * _HOUR, 6 * _DAY)
        self.direction_fast = noise.Smooth(seed, _CH_DIR2, n, 1 * _HOUR, 6 * _HOUR)
        self.prevailing_deg = 360.0 * noise.uniform(seed, _CH_STATION, np.arange(n), 0)
        self.threshold, self.excess = self._calibrate_rain(table)

    def wetness(self, town: NDArray[np.intp], t: FloatArray, heat: FloatArray) -> FloatArray:
        """How close to raining the air is: the town's wet spells, low pressure and, in the
        tropics, afternoon heating."""
        wet = 0.8 * self.wet(town, t) - 0.6 * self.pressure(town, t)
        return wet + np.where(self.climate.tropical[town], 1.2 * heat, 0.0)

    def _calibrate_rain(self, table: tuple[Town, ...]) -> tuple[FloatArray, FloatArray]:
        """Per town and month, the wetness above which it rains and the mean excess while it
        does, measured on a simulated reference year so each month gets its normal total."""
        hours = EPOCH + 366 * _DAY + np.arange(0, 365 * _DAY, _HOUR)  # the year 2021, hourly
        threshold = np.zeros((len(table), 12))
        excess = np.ones((len(table), 12))
        month = _month_index(hours)
        for i, town in enumerate(table):
            where = np.full(hours.shape, i, dtype=np.intp)
            heat = _lagged_sun(hours, np.full_like(hours, town.lat), np.full_like(hours, town.lon))
            wet = self.wetness(where, hours - EPOCH, heat)
            for m in range(12):
                sample = wet[month == m]
                z = float(np.quantile(sample, 1.0 - self.climate.wet_fraction[i, m]))
                over = sample[sample > z] - z
                threshold[i, m] = z
                excess[i, m] = float(over.mean()) if over.size else 1.0
        return threshold, excess


@cache
def _town_weather(table: tuple[Town, ...], seed: int) -> _TownWeather:
    return _TownWeather(table, seed)


class Weather:
    """The weather model for one fleet: `readings(station_index, ts, interval_s)`."""

    def __init__(self, fleet: tuple[Station, ...], table: tuple[Town, ...], seed: int) -> None:
        n = len(fleet)
        self.seed = seed
        self._town = np.array([s.town for s in fleet], dtype=np.intp)
        self._lat = np.array([s.lat for s in fleet])
        self._lon = np.array([s.lon for s in fleet])
        self._elev = np.array([s.elevation_m for s in fleet])
        self._shared = _town_weather(table, seed)
        self._climate = self._shared.climate
        abs_lat = np.abs(np.radians(self._lat))
        # Passing systems: bigger swings of pressure and temperature away from the equator.
        self._pressure_sd = 1.0 + 9.0 * np.sin(abs_lat) ** 2
        self._temp_sd = 0.6 + 2.8 * np.sin(abs_lat)
        # Each school keeps its own exposure: humidity, wind speed, Wi-Fi signal.
        # Slow (a day and more): within a day humidity follows the temperature, not noise.
        self._humid = noise.Smooth(seed, _CH_HUM, n, 1 * _DAY, 5 * _DAY)
        self._wind = noise.Smooth(seed, _CH_WIND, n, 3 * _HOUR, 3 * _DAY)
        self._rssi_dbm = -45.0 - 35.0 * noise.uniform(seed, _CH_STATION, np.arange(n), 1)

    def _rain_rate_mm_h(
        self, town: NDArray[np.intp], month: NDArray[np.intp], wet: FloatArray
    ) -> FloatArray:
        over = wet - self._shared.threshold[town, month]
        scale = self._climate.intensity_mm_h[town] / self._shared.excess[town, month]
        return np.where(over > 0, over * scale, 0.0)

    def readings(
        self, idx: NDArray[np.intp], ts: NDArray[np.int64], interval_s: NDArray[np.int64]
    ) -> dict[str, FloatArray]:
        """Sensor readings (contract field names and units) for station `idx[i]` at `ts[i]`,
        covering the `interval_s[i]` seconds before it (rain sum, wind mean and gust)."""
        c = self._climate
        town = self._town[idx]
        lat, lon, elev = self._lat[idx], self._lon[idx], self._elev[idx]
        tsf = ts.astype(np.float64)
        t = tsf - EPOCH

        heat = _lagged_sun(tsf, lat, lon)
        sin_e = _sin_elevation(tsf, lat, lon)
        day_heat = solar.daily_mean_sin_elevation(_ns(tsf), lat)
        pressure_anomaly = self._shared.pressure(town, t)

        # The air's heating changes little within one reporting interval: one value serves both
        # ends of the rain trapezoid.
        month = _month_index(tsf)
        wet = self._shared.wetness(town, t, heat)
        rain_now = self._rain_rate_mm_h(town, month, wet)
        rain_before = self._rain_rate_mm_h(
            town, month, self._shared.wetness(town, t - interval_s, heat)
        )
        rain_mm = (rain_now + rain_before) / 2.0 * interval_s / _HOUR
        cloud = 1.0 / (1.0 + np.exp(-2.5 * (wet - self._shared.threshold[town, month] + 0.8)))

        season = c.t_mean_c[town] - c.t_half_range_c[town] * np.cos(
            year_angle_rad(tsf) - 2 * np.pi * 20 / 365.25  # coldest ~20 Jan (north)
        )
        level = season + self._temp_sd[idx] * self._shared.temp(town, t)
        diurnal = c.diurnal_c[town] * (1.0 - 0.6 * cloud) * (heat - day_heat)
        # Rain cools the air and saturates it, in proportion to how hard it rains (up to 1 mm/h).
        soaked = np.minimum(rain_now, 1.0)
        # What a real sensor adds to the smooth signal: turbulence (eddies of warmer and cooler
        # air, stronger when the sun stirs the air) and the instrument's own noise. Without it a
        # simulated thermometer is flat for an hour at every turning point of the day, which
        # quality control rightly reads as a stuck sensor.
        stir = np.sqrt(np.clip(sin_e, 0.0, 1.0))
        eddy = noise.uniform(self.seed, _CH_TURB_T, idx, ts) - 0.5
        temp = level + diurnal - 1.5 * soaked + (0.3 + 0.5 * stir) * eddy

        humid = np.clip(c.rh_pct[town] + 8.0 * self._humid(idx, t), 25.0, 98.0)
        dew = dewpoint_c(level, humid)
        dew = dew + 0.85 * soaked * np.maximum(temp - dew, 0.0)
        rh = relative_humidity_pct(temp, np.minimum(dew, temp))

        solar_hour = np.mod(tsf / _HOUR + lon / 15.0, 24.0)
        tide = 1.2 * np.cos(np.radians(lat)) ** 2 * np.cos(2 * np.pi * (solar_hour - 10.0) / 12.0)
        sea_level = 1013.0 + self._pressure_sd[idx] * pressure_anomaly + tide
        pressure_noise = 0.25 * (noise.uniform(self.seed, _CH_TURB_P, idx, ts) - 0.5)
        pressure = station_pressure_hpa(sea_level, elev) + pressure_noise

        mixing = 0.75 + 0.5 * np.sqrt(np.clip(sin_e, 0.0, 1.0))
        stormy = 1.0 + 0.35 * np.maximum(-pressure_anomaly, 0.0)
        gustiness = 1.0 + 0.7 * (noise.uniform(self.seed, _CH_TURB_W, idx, ts) - 0.5)
        wind = (
            c.wind_ms[town] * np.exp(0.45 * self._wind(idx, t) - 0.1) * mixing * stormy * gustiness
        )
        gust_u = noise.uniform(self.seed, _CH_GUST, idx, ts)
        gust = wind * (1.3 + 0.6 * gust_u) + 0.5 * gust_u
        jitter = noise.uniform(self.seed, _CH_JITTER, idx, ts) - 0.5
        direction = np.mod(
            self._shared.prevailing_deg[town]
            + 75.0 * self._shared.direction(town, t)
            + 20.0 * self._shared.direction_fast(town, t)
            + 30.0 * jitter,
            360.0,
        )

        daylight = np.clip(sin_e, 0.0, 1.0)
        lux = 110000.0 * daylight**1.15 * (1.0 - 0.75 * cloud)
        uv = 12.5 * daylight**2.5 * (1.0 - 0.6 * cloud)
        battery = 3.75 + 0.35 * np.minimum(heat * 2.0, 1.0) * (1.0 - 0.5 * cloud) + 0.02 * jitter
        rssi = self._rssi_dbm[idx] + 6.0 * jitter

        return {
            "temp_c": np.round(temp, 1),
            "rh_pct": np.round(rh, 1),
            "pressure_hpa": np.round(pressure, 1),
            "wind_speed_ms": np.round(wind, 1),
            "wind_gust_ms": np.round(gust, 1),
            "wind_dir_deg": np.mod(np.round(direction), 360.0),
            "rain_mm": np.round(rain_mm, 2),
            "light_lux": np.round(lux),
            "uv_index": np.round(uv, 1),
            "battery_v": np.round(battery, 2),
            "rssi_dbm": np.round(rssi),
        }
