"""Derived quantities against published tables and MetPy 1.7.1 (values written in, not imported)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.core import derived
from ingest.domain import humidity


def f_to_c(f: float) -> float:
    return (f - 32.0) / 1.8


# NWS heat index chart (weather.gov/safety/heat-index), °F, rounded to whole degrees.
NWS_HEAT_INDEX_CHART_F = [
    (80, 40, 80),
    (86, 90, 105),
    (90, 50, 95),
    (90, 70, 106),
    (96, 65, 121),
    (100, 40, 109),
    (104, 55, 137),
    (110, 40, 136),
    (84, 100, 103),
]


@pytest.mark.parametrize(("temp_f", "rh", "chart_f"), NWS_HEAT_INDEX_CHART_F)
def test_heat_index_matches_nws_chart(temp_f: float, rh: float, chart_f: float) -> None:
    result_f = derived.heat_index_c(f_to_c(temp_f), rh) * 1.8 + 32
    # The chart is printed in whole degrees and some entries round the other way (84 °F, 100 %).
    assert abs(result_f - chart_f) < 1.0


def test_heat_index_matches_metpy() -> None:
    # metpy.calc.heat_index(T, RH) in degC, MetPy 1.7.1.
    temps_f = np.array([90.0, 100.0, 86.0])
    rh = np.array([70.0, 40.0, 90.0])
    metpy_c = np.array([41.06778922, 42.91975656, 40.774647])
    np.testing.assert_allclose(derived.heat_index_c(f_to_c(temps_f), rh), metpy_c, atol=1e-6)


def test_heat_index_is_undefined_below_80f() -> None:
    assert np.isnan(derived.heat_index_c(20.0, 50.0))


# Environment Canada wind chill index table (°C by air temperature and wind at 10 m in km/h).
EC_WIND_CHILL_TABLE = [(0, 10, -3), (-10, 20, -18), (-20, 30, -33), (-30, 50, -49), (-40, 60, -64)]


@pytest.mark.parametrize(("temp_c", "wind_kmh", "table_c"), EC_WIND_CHILL_TABLE)
def test_wind_chill_matches_environment_canada_table(
    temp_c: float, wind_kmh: float, table_c: float
) -> None:
    assert abs(derived.wind_chill_c(temp_c, wind_kmh / 3.6) - table_c) <= 0.5


def test_wind_chill_matches_metpy() -> None:
    # metpy.calc.windchill(T, V km/h), MetPy 1.7.1: -15 °C, 40 km/h and 5 °C, 5 km/h.
    np.testing.assert_allclose(
        derived.wind_chill_c([-15.0, 5.0], np.array([40.0, 5.0]) / 3.6),
        [-27.44996533, 4.08284588],
        atol=1e-6,
    )


def test_wind_chill_undefined_when_warm_or_calm() -> None:
    assert np.isnan(derived.wind_chill_c([12.0, -5.0], [5.0, 1.0])).all()


# MetPy 1.7.1 dewpoint_from_relative_humidity (Ambaum saturation + Bolton inverse): within 0.1 °C.
METPY_DEWPOINT = [
    (20, 50, 9.2561),
    (30, 80, 26.1313),
    (-10, 70, -14.4515),
    (0, 100, -0.0100),
    (35, 20, 8.6673),
    (5, 95, 4.2590),
]


@pytest.mark.parametrize(("temp_c", "rh", "metpy_c"), METPY_DEWPOINT)
def test_dewpoint_matches_metpy(temp_c: float, rh: float, metpy_c: float) -> None:
    assert abs(derived.dewpoint_c(temp_c, rh) - metpy_c) < 0.1


def test_dewpoint_equals_temperature_at_saturation() -> None:
    np.testing.assert_allclose(derived.dewpoint_c([-20.0, 0.0, 25.0], 100.0), [-20.0, 0.0, 25.0])


def test_dewpoint_of_bone_dry_air_is_missing() -> None:
    assert np.isnan(derived.dewpoint_c(20.0, 0.0))


# Saturation vapour pressure over water (WMO-No. 8 Annex 4.B / Wexler), hPa.
@pytest.mark.parametrize(
    ("temp_c", "table_hpa"), [(0, 6.112), (10, 12.282), (20, 23.392), (30, 42.467)]
)
def test_saturation_vapour_pressure_within_bolton_accuracy(temp_c: float, table_hpa: float) -> None:
    assert humidity.saturation_vapour_pressure_hpa(temp_c) == pytest.approx(table_hpa, rel=2e-3)


def test_vapour_pressure_scales_with_humidity() -> None:
    e_s = humidity.saturation_vapour_pressure_hpa(15.0)
    assert humidity.vapour_pressure_hpa(15.0, 40.0) == pytest.approx(0.4 * e_s)


# ICAO standard atmosphere (Doc 7488/3), geopotential height: pressure and temperature.
ICAO_ATMOSPHERE = [(500.0, 954.61, 11.75), (1000.0, 898.746, 8.5), (2000.0, 794.95, 2.0)]


@pytest.mark.parametrize(("height_m", "pressure_hpa", "temp_c"), ICAO_ATMOSPHERE)
def test_sea_level_pressure_of_standard_atmosphere_is_1013_25(
    height_m: float, pressure_hpa: float, temp_c: float
) -> None:
    assert derived.sea_level_pressure_hpa(pressure_hpa, temp_c, height_m) == pytest.approx(
        1013.25, abs=0.02
    )


def test_sea_level_pressure_at_sea_level_is_station_pressure() -> None:
    assert derived.sea_level_pressure_hpa(1001.3, 25.0, 0.0) == pytest.approx(1001.3)


def test_warmer_column_gives_lower_sea_level_pressure() -> None:
    cold, warm = derived.sea_level_pressure_hpa(900.0, [-10.0, 30.0], 1000.0)
    assert warm < cold


def test_apparent_temperature_matches_metpy() -> None:
    # metpy.calc.apparent_temperature, MetPy 1.7.1: heat index case and wind chill case; the
    # masked middle cases are the air temperature itself.
    result = derived.apparent_temp_c([32.0, -5.0, 15.0, 5.0], [60, 80, 50, 70], [2, 8, 3, 1])
    np.testing.assert_allclose(result, [37.07428412, -12.84692935, 15.0, 5.0], atol=1e-6)


# Beaufort scale equivalents (m/s, WMO-No. 558 / Met Office): the lowest speed of each force.
@pytest.mark.parametrize(
    ("speed_ms", "force"),
    [(0.0, 0), (0.2, 0), (0.3, 1), (1.5, 1), (1.6, 2), (3.3, 2), (3.4, 3), (5.5, 4), (8.0, 5),
     (10.8, 6), (13.9, 7), (17.2, 8), (20.8, 9), (24.5, 10), (28.5, 11), (32.6, 11), (32.7, 12)],
)  # fmt: skip
def test_beaufort_boundaries(speed_ms: float, force: int) -> None:
    assert derived.beaufort_number(speed_ms) == force


def test_beaufort_of_missing_is_missing() -> None:
    assert np.isnan(derived.beaufort_number(np.nan))


@pytest.mark.parametrize(
    ("direction", "point"),
    [(0, "N"), (360, "N"), (11.24, "N"), (11.25, "NNE"), (45, "NE"), (180, "S"), (258.75, "W"),
     (281.24, "W"), (281.25, "WNW"), (348.75, "N")],
)  # fmt: skip
def test_compass_points(direction: float, point: str) -> None:
    assert derived.compass_point([direction])[0] == point


def test_compass_point_of_missing_is_missing() -> None:
    assert derived.compass_point([np.nan]).isna().all()
