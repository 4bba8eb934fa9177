"""The weather a student would believe: checked against common sense and climate normals."""

from __future__ import annotations

import numpy as np
import pytest

from firmware import wire
from simulators import towns
from simulators.weather import Weather

DAY = 86400
# 2025-01-01T00:00Z
Y2025 = 1735689600


@pytest.fixture(scope="module")
def model() -> tuple[Weather, dict[str, int]]:
    fleet = towns.stations(len(towns.towns()))
    return Weather(fleet, towns.towns(), seed=7), {s.station: i for i, s in enumerate(fleet)}


def series(model, station: str, start: int, days: float, step: int = 600):
    weather, index = model
    ts = np.arange(start, start + int(days * DAY), step, dtype=np.int64)
    idx = np.full(ts.shape, index[station], dtype=np.intp)
    return ts, weather.readings(idx, ts, np.full(ts.shape, step, dtype=np.int64))


def solar_hour(ts, lon: float):
    return (ts / 3600 + lon / 15) % 24


@pytest.mark.parametrize(
    "station, lon",
    [
        ("fi-tampere-01", 23.8),
        ("ph-manila-01", 121.0),
        ("au-sydney-01", 151.2),
        ("in-delhi-01", 77.2),
    ],
)
def test_afternoon_is_warmer_than_dawn(model, station, lon) -> None:
    ts, r = series(model, station, Y2025 + 150 * DAY, 30)
    hour = solar_hour(ts, lon)
    afternoon = r["temp_c"][(hour >= 13) & (hour < 16)].mean()
    dawn = r["temp_c"][(hour >= 4) & (hour < 7)].mean()
    evening = r["temp_c"][(hour >= 20) & (hour < 23)].mean()
    assert afternoon > evening > dawn  # it keeps cooling through the night


def test_humidity_falls_as_the_day_warms(model) -> None:
    ts, r = series(model, "th-bangkok-01", Y2025 + 30 * DAY, 30)
    hour = solar_hour(ts, 100.5)
    assert r["rh_pct"][(hour >= 13) & (hour < 16)].mean() + 10 < r["rh_pct"][hour < 6].mean()
    assert np.corrcoef(r["temp_c"], r["rh_pct"])[0, 1] < -0.5


def monthly_mean(model, station: str, month: int, field: str = "temp_c") -> float:
    start = Y2025 + int((month - 1) * 30.44 * DAY)
    return float(series(model, station, start, 28, 3600)[1][field].mean())


def test_seasons_follow_the_hemisphere(model) -> None:
    # In October Tampere heads into winter while Sydney heads into summer.
    assert monthly_mean(model, "fi-tampere-01", 7) > monthly_mean(model, "fi-tampere-01", 10) + 8
    assert monthly_mean(model, "au-sydney-01", 10) > monthly_mean(model, "au-sydney-01", 7) + 3
    assert monthly_mean(model, "au-sydney-01", 1) > monthly_mean(model, "au-sydney-01", 10)
    assert abs(monthly_mean(model, "fi-tampere-01", 1) - -6.5) < 3  # the normal, within a spell


def test_winter_days_in_the_north_have_little_diurnal_range(model) -> None:
    def mean_daily_range(month: int) -> float:
        _, r = series(model, "fi-tampere-01", Y2025 + int((month - 1) * 30.44 * DAY), 28)
        days = r["temp_c"].reshape(28, -1)
        return float((days.max(axis=1) - days.min(axis=1)).mean())

    assert mean_daily_range(6) > mean_daily_range(12) + 2


def test_station_pressure_follows_elevation_and_systems(model) -> None:
    _, ub = series(model, "mn-ulaanbaatar-01", Y2025, 60, 3600)
    _, dublin = series(model, "ie-dublin-01", Y2025, 60, 3600)
    _, singapore = series(model, "sg-singapore-01", Y2025, 60, 3600)
    assert 830 < ub["pressure_hpa"].mean() < 890  # 1350 m up
    assert 1000 < dublin["pressure_hpa"].mean() < 1025
    # Passing lows and highs: a wide swing in Dublin, a small one on the equator.
    assert np.ptp(dublin["pressure_hpa"]) > 25
    assert np.ptp(singapore["pressure_hpa"]) < 15


def test_monsoon_rain_comes_in_its_season(model) -> None:
    wet = monthly_mean(model, "in-mumbai-01", 7, "rain_mm")
    dry = monthly_mean(model, "in-mumbai-01", 2, "rain_mm")
    assert wet > 20 * max(dry, 1e-3)


def test_yearly_rain_is_near_the_normal(model) -> None:
    for station, normal in (
        ("sg-singapore-01", 2350),
        ("es-seville-01", 540),
        ("fi-tampere-01", 650),
        ("ph-manila-01", 2050),
    ):
        _, r = series(model, station, Y2025, 365, 1800)
        assert 0.5 * normal < r["rain_mm"].sum() < 1.6 * normal, station


def spells(rain_mm):
    wet = np.concatenate(([0], (rain_mm > 0).astype(int), [0]))
    edges = np.flatnonzero(np.diff(wet))
    return edges[1::2] - edges[::2]


def test_tropical_showers_are_short_and_heavy_frontal_rain_long_and_light(model) -> None:
    _, manila = series(model, "ph-manila-01", Y2025 + 180 * DAY, 60, 600)
    _, dublin = series(model, "ie-dublin-01", Y2025, 120, 600)
    manila_rate = manila["rain_mm"][manila["rain_mm"] > 0].mean() * 6  # mm/h
    dublin_rate = dublin["rain_mm"][dublin["rain_mm"] > 0].mean() * 6
    assert manila_rate > 2 * dublin_rate
    assert np.median(spells(dublin["rain_mm"])) > np.median(spells(manila["rain_mm"]))
    assert 0.3 <= np.median(spells(manila["rain_mm"])) * 10 / 60 <= 6  # hours


def test_wind_direction_persists_and_gusts_exceed_the_mean(model) -> None:
    _, r = series(model, "nl-utrecht-01", Y2025, 10, 60)
    turn = np.abs((np.diff(r["wind_dir_deg"]) + 180) % 360 - 180)
    assert np.median(turn) < 10
    assert (r["wind_gust_ms"] >= r["wind_speed_ms"]).all()


def test_every_value_is_inside_the_contract_ranges(model) -> None:
    weather, index = model
    n = len(index)
    ts = np.repeat(np.arange(Y2025, Y2025 + 365 * DAY, 7 * 3600, dtype=np.int64), n)
    idx = np.tile(np.arange(n), ts.size // n)
    readings = weather.readings(idx, ts, np.full(ts.shape, 60, dtype=np.int64))
    for name, values in readings.items():
        low, high, _ = wire.FIELDS[name]
        assert np.isfinite(values).all(), name
        assert low <= values.min() and values.max() <= high, name


def test_same_seed_same_weather_other_seed_other_weather() -> None:
    fleet = towns.stations(5)
    ts = np.arange(Y2025, Y2025 + DAY, 600, dtype=np.int64)
    idx = np.zeros(ts.shape, dtype=np.intp)
    iv = np.full(ts.shape, 600, dtype=np.int64)
    a = Weather(fleet, towns.towns(), 3).readings(idx, ts, iv)
    b = Weather(fleet, towns.towns(), 3).readings(idx, ts, iv)
    c = Weather(fleet, towns.towns(), 4).readings(idx, ts, iv)
    assert all((a[k] == b[k]).all() for k in a)
    assert not (a["temp_c"] == c["temp_c"]).all()


def _solar_days(ts, lon: float, *fields):
    """Split readings into whole local solar days (rows: days, columns: readings of the day)."""
    shift = int(lon / 15 * 3600)
    first = -(-(ts[0] + shift) // DAY) * DAY - shift  # the first solar midnight
    keep = (ts >= first) & (ts < first + (len(ts) * 600 - DAY) // DAY * DAY)
    per_day = DAY // 600
    n = keep.sum() // per_day
    return [f[keep][: n * per_day].reshape(n, per_day) for f in fields]


@pytest.mark.parametrize(
    "station, lon",
    [("sg-singapore-01", 103.8), ("th-bangkok-01", 100.5), ("ph-manila-01", 121.0)],
)
def test_tropical_days_are_ruled_by_the_sun(model, station, lon) -> None:
    # The day's lowest reading comes near dawn, not at the day's edge (midnight): the daily cycle
    # is larger than the drift from one day to the next.
    ts, r = series(model, station, Y2025 + 60 * DAY, 60)
    (temps,) = _solar_days(ts, lon, r["temp_c"])
    hour_of_min = temps.argmin(axis=1) * 600 / 3600
    assert np.mean((hour_of_min >= 3.5) & (hour_of_min <= 8.5)) >= 0.7
    assert np.mean((hour_of_min < 1.5) | (hour_of_min > 22.5)) <= 0.2


@pytest.mark.parametrize(
    "station, lon",
    [
        ("sg-singapore-01", 103.8),
        ("th-bangkok-01", 100.5),
        ("jp-tokyo-01", 139.7),
        ("fi-tampere-01", 23.8),
    ],
)
def test_humidity_moves_against_temperature_through_the_day(model, station, lon) -> None:
    ts, r = series(model, station, Y2025 + 120 * DAY, 60)
    temps, rh = _solar_days(ts, lon, r["temp_c"], r["rh_pct"])
    within_t = (temps - temps.mean(axis=1, keepdims=True)).ravel()
    within_rh = (rh - rh.mean(axis=1, keepdims=True)).ravel()
    assert np.corrcoef(within_t, within_rh)[0, 1] < -0.6
