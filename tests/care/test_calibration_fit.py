"""The calibration fit recovers known sensor errors within its stated uncertainty, refuses what
it cannot fit, and corrections apply by date when data are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.core.calibration import Fit, Refusal, apply_corrections, calibrate, fit
from ingest.domain.calibration import Correction

START = "2026-12-01T06:00:00Z"


def side_by_side(
    rng: np.random.Generator,
    errors: dict[str, tuple[float, float]],
    hours: float = 24,
    noise: float = 0.15,
    amplitude: float = 4.0,
) -> pd.DataFrame:
    """One reference and stations reading `gain * true + bias` (+ noise) of the same air, one
    reading a minute, with a few wild readings each (a hand on the case, a drop of water)."""
    n = int(hours * 60)
    time = pd.date_range(START, periods=n, freq="1min", tz="UTC")
    phase = np.arange(n) / 1440 * 2 * np.pi
    true_t = 2.0 + amplitude * np.sin(phase) + np.cumsum(rng.normal(0, 0.01, n))
    true_rh = 80.0 - 3.0 * (true_t - 2.0)
    frames = [pd.DataFrame({"station": "fi-ref", "time": time,
                            "temp_c": true_t + rng.normal(0, 0.05, n),
                            "rh_pct": true_rh + rng.normal(0, 0.3, n)})]  # fmt: skip
    for station, (bias, gain) in errors.items():
        temp = bias + gain * true_t + rng.normal(0, noise, n)
        wild = rng.choice(n, n // 200, replace=False)
        temp[wild] += rng.choice([-1.0, 1.0], wild.size) * 2.5
        rh = 4.0 + 0.95 * true_rh + rng.normal(0, 1.0, n)
        frames.append(
            pd.DataFrame({"station": station, "time": time, "temp_c": temp, "rh_pct": rh})
        )
    return pd.concat(frames, ignore_index=True)


def test_known_offsets_and_slopes_are_recovered_within_the_stated_uncertainty() -> None:
    """The uncertainty is stated at about 95 % (k = 2): over 12 simulated calibration days of
    three stations, most fits lie within it and none is off by more than twice it."""
    errors = {"fi-warm": (0.8, 1.0), "fi-steep": (-0.5, 1.08), "fi-good": (0.0, 1.0)}
    within: list[bool] = []
    for seed in range(12):
        obs = side_by_side(np.random.default_rng(seed), errors)
        fits = {(f.station, f.field): f for f in calibrate(obs, "fi-ref", fields=["temp_c"])}
        assert set(fits) == {(s, "temp_c") for s in errors}
        for station, (bias, gain) in errors.items():
            got = fits[(station, "temp_c")]
            assert isinstance(got, Fit), got
            # raw = bias + gain·true, so true = −bias/gain + raw/gain
            slope_error, offset_error = got.slope - 1 / gain, got.offset + bias / gain
            assert abs(slope_error) <= 2 * got.slope_u, (seed, got)
            assert abs(offset_error) <= 2 * got.offset_u, (seed, got)
            within += [abs(slope_error) <= got.slope_u, abs(offset_error) <= got.offset_u]
            assert 0 < got.offset_u < 0.1 and 0 < got.slope_u < 0.02
            assert got.spread_after < 0.1  # 10-minute means of 0.15 °C noise
            assert got.n == 144
    assert np.mean(within) >= 0.8, np.mean(within)


def test_a_few_wild_readings_do_not_move_the_fit(rng: np.random.Generator) -> None:
    obs = side_by_side(rng, {"fi-warm": (1.0, 1.0)})
    clean = fit(obs, "fi-warm", "fi-ref", "temp_c")
    wet = obs.copy()
    rows = wet.index[(wet["station"] == "fi-warm")][300:330]  # half an hour of a wet sensor
    wet.loc[rows, "temp_c"] -= 1.5
    spoiled = fit(wet, "fi-warm", "fi-ref", "temp_c")
    assert isinstance(clean, Fit) and isinstance(spoiled, Fit)
    assert abs(spoiled.offset - clean.offset) < clean.offset_u
    assert spoiled.bias == pytest.approx(-1.0, abs=0.05)


def test_refuses_too_short_an_overlap_and_says_how_long_is_needed(
    rng: np.random.Generator,
) -> None:
    obs = side_by_side(rng, {"fi-warm": (1.0, 1.0)}, hours=2)
    got = fit(obs, "fi-warm", "fi-ref", "temp_c")
    assert isinstance(got, Refusal)
    assert "only 2 h 00 min" in got.reason and "3 h 00 min" in got.reason
    assert "fi-ref" in got.reason


def test_refuses_too_narrow_a_range_to_tell_slope_from_offset(rng: np.random.Generator) -> None:
    obs = side_by_side(rng, {"fi-warm": (1.0, 1.0)}, amplitude=0.5)
    got = fit(obs, "fi-warm", "fi-ref", "temp_c")
    assert isinstance(got, Refusal)
    assert "at least 3 is needed" in got.reason and "temp_c" in got.reason
    assert "--offset-only" in got.reason


def test_an_offset_alone_is_fitted_over_a_spell_of_little_change(rng: np.random.Generator) -> None:
    obs = side_by_side(rng, {"fi-warm": (1.0, 1.0)}, amplitude=0.5)
    got = fit(obs, "fi-warm", "fi-ref", "temp_c", offset_only=True)
    assert isinstance(got, Fit) and got.slope == 1.0 and got.slope_u == 0.0
    assert abs(got.offset + 1.0) <= 2 * got.offset_u < 0.1


def test_stations_that_did_not_stand_beside_the_reference_are_refused_by_name(
    rng: np.random.Generator,
) -> None:
    obs = side_by_side(rng, {"fi-warm": (1.0, 1.0)})
    got = calibrate(obs, "fi-ref", stations=["fi-away"])
    assert got == [Refusal("fi-away", "-", "fi-away has no readings in this period")]
    assert "no readings" in calibrate(obs, "fi-elsewhere")[0].reason


def test_each_reading_gets_the_correction_in_force_at_its_time() -> None:
    times = pd.date_range("2026-11-30T23:00Z", periods=4, freq="12h")
    obs = pd.DataFrame({"station": ["fi-a"] * 4 + ["fi-b"] * 4, "time": list(times) * 2,
                        "temp_c": 10.0, "rh_pct": 50.0})  # fmt: skip
    first = datetime(2026, 12, 1, tzinfo=UTC)
    later = first + timedelta(days=1)
    cal = [Correction("fi-a", "temp_c", first, -1.0), Correction("fi-a", "temp_c", later, 2.0, 0.5)]
    out = apply_corrections(obs, cal)
    # 23:00 before any calibration; 11:00 and 23:00 next day the first; then the later one
    assert out["temp_c"].tolist() == [10.0, 9.0, 9.0, 7.0] + [10.0] * 4
    assert out["rh_pct"].tolist() == [50.0] * 8
    assert obs["temp_c"].tolist() == [10.0] * 8  # the frame read is left as it was
