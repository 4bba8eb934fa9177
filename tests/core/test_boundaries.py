"""The edges of each formula against its reference implementation: MetPy 1.7 (NWS heat index,
wind chill, apparent temperature), the Beaufort table as printed, NREL's SPA through pvlib."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dashboard.core.derived import apparent_temp_c, beaufort_number, heat_index_c

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # MetPy's import-time notices about optional backends
    from metpy.calc import apparent_temperature, heat_index
    from metpy.units import units


def _metpy_apparent(temp_c: np.ndarray, rh: np.ndarray, wind_ms: np.ndarray) -> np.ndarray:
    out = apparent_temperature(
        units.Quantity(temp_c, "degC"),
        units.Quantity(rh, "percent"),
        units.Quantity(wind_ms, "m/s"),
        mask_undefined=False,
    )
    return np.asarray(out.m_as("degC"), dtype=np.float64)


def test_apparent_temperature_at_exactly_10_c_is_the_wind_chill() -> None:
    # NWS and MetPy: wind chill for T ≤ 50 °F (10 °C). Before: T itself (10.0 instead of 7.6).
    temp = np.array([10.0, 10.0, 9.9, 10.1])
    rh = np.full(4, 60.0)
    wind = np.array([5.0, 1.0, 5.0, 5.0])
    got = apparent_temp_c(temp, rh, wind)
    np.testing.assert_allclose(got, _metpy_apparent(temp, rh, wind), atol=1e-6)
    assert got[0] == pytest.approx(7.58, abs=0.01)


def test_apparent_temperature_matches_metpy_across_both_switches() -> None:
    temp, rh, wind = np.meshgrid(
        np.arange(-10.0, 40.01, 0.25), [5.0, 13.0, 40.0, 86.0, 100.0], [0.5, 1.35, 3.0, 12.0]
    )
    got = apparent_temp_c(temp.ravel(), rh.ravel(), wind.ravel())
    np.testing.assert_allclose(
        got, _metpy_apparent(temp.ravel(), rh.ravel(), wind.ravel()), atol=1e-6
    )


def test_heat_index_switch_follows_anderson_2013_as_metpy() -> None:
    # Near 80 °F the old rule (simple formula unaveraged, switch at 80 °F) was up to 0.84 °C off.
    temp_f, rh = np.meshgrid(np.arange(80.0, 112.01, 0.1), np.arange(0.0, 100.01, 1.0))
    temp_c = (temp_f.ravel() - 32.0) / 1.8
    reference = heat_index(
        units.Quantity(temp_c, "degC"), units.Quantity(rh.ravel(), "percent"), mask_undefined=True
    ).m_as("degC")
    np.testing.assert_allclose(heat_index_c(temp_c, rh.ravel()), np.asarray(reference), atol=1e-6)


def test_heat_index_undefined_below_80_f() -> None:
    eighty_f = (80.0 - 32.0) / 1.8
    assert np.isnan(heat_index_c(eighty_f - 0.01, 50.0))
    assert np.isfinite(heat_index_c(eighty_f, 50.0))


@pytest.mark.parametrize(
    ("speed", "force"),
    # Met Office / WMO-No. 558 table, lower bounds to 0.1 m/s: a speed half a step below a bound
    # rounds up to it (half up, as the table is read), half-to-even would give the force below.
    [(0.25, 1), (1.55, 2), (3.35, 3), (5.45, 4), (7.95, 5), (10.75, 6), (32.65, 12), (0.24, 0)],
)
def test_beaufort_rounds_halves_up(speed: float, force: int) -> None:
    assert beaufort_number([speed])[0] == force
