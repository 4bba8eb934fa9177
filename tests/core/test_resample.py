"""Resampling: aggregates per variable, coverage, and the three clocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.core.frames import CoreInputError
from dashboard.core.resample import resample

from .conftest import make_meta, moving, series


def test_each_variable_gets_its_aggregate() -> None:
    meta = make_meta(fi_a={})
    gust = np.r_[np.zeros(59), 12.0]
    direction = np.r_[np.full(30, 350.0), np.full(30, 10.0)]
    obs = series("fi-a", "2024-06-01", 60, temp_c=np.arange(60.0), rain_mm=0.1,
                 wind_gust_ms=gust, wind_dir_deg=direction)  # fmt: skip
    row = resample(obs, meta, "1h").iloc[0]
    assert row["temp_c"] == pytest.approx(29.5)
    assert row["rain_mm"] == pytest.approx(6.0)
    assert row["wind_gust_ms"] == 12.0
    # The vector mean of 350° and 10° is north, not the arithmetic 180°.
    assert min(row["wind_dir_deg"], 360 - row["wind_dir_deg"]) < 1e-9


def test_partial_bins_report_coverage_and_drop_values() -> None:
    meta = make_meta(fi_a={})
    # One full hour, then half an hour.
    obs = series("fi-a", "2024-06-01 00:00", 90, temp_c=moving(1.0, 90))
    out = resample(obs, meta, "1h")
    assert out["coverage"].tolist() == [1.0, 0.5]
    assert out["temp_c"].tolist()[0] == pytest.approx(1.0) and np.isnan(out["temp_c"].iloc[1])
    assert resample(obs, meta, "1h", min_coverage=0.5)["temp_c"].notna().all()


@pytest.mark.parametrize("freq", ["1min", "10min", "1h", "3h", "1D"])
def test_bins_sum_rain_without_losing_any(freq: str, rng: np.random.Generator) -> None:
    meta = make_meta(fi_a={})
    rain = rng.exponential(0.1, 2880)
    out = resample(series("fi-a", "2024-06-01", 2880, rain_mm=rain), meta, freq, min_coverage=0)
    assert out["rain_mm"].sum() == pytest.approx(rain.sum())
    assert out["n_obs"].sum() == 2880


def test_local_clock_aligns_school_mornings() -> None:
    meta = make_meta(fi_a={"timezone": "Europe/Helsinki"}, in_b={"timezone": "Asia/Kolkata"})
    # 08:00 local at each school: 05:00 UTC in Helsinki (EEST), 02:30 UTC in Kolkata.
    obs = pd.concat([series("fi-a", "2024-06-03 05:00", 60, temp_c=moving(15.0, 60)),
                     series("in-b", "2024-06-03 02:30", 60, temp_c=moving(31.0, 60))])  # fmt: skip
    out = resample(obs, meta, "1h", clock="local")
    assert (out["local_time"] == pd.Timestamp("2024-06-03 08:00")).all()
    assert sorted(out["temp_c"]) == pytest.approx([15.0, 31.0])


def test_solar_clock_puts_noon_where_the_sun_is_highest() -> None:
    meta = make_meta(es_a={"lon": -8.5, "timezone": "Europe/Madrid"})
    # Santiago de Compostela: solar noon on 2024-06-20 is near 12:36 UTC (14:36 on the clock).
    obs = series("es-a", "2024-06-20 12:10", 50, temp_c=20.0)
    out = resample(obs, meta, "1h", clock="solar", min_coverage=0)
    assert pd.Timestamp("2024-06-20 12:00") in set(out["solar_time"])


def test_utc_bins_are_tz_aware() -> None:
    out = resample(series("fi-a", "2024-06-01", 60, temp_c=1.0), make_meta(fi_a={}), "1h")
    assert str(out["time"].dt.tz) == "UTC"


@pytest.mark.parametrize("freq", ["30s", "7min", "2D", "banana"])
def test_bad_bin_widths_are_refused(freq: str) -> None:
    with pytest.raises(CoreInputError, match="bin width"):
        resample(series("fi-a", "2024-06-01", 60, temp_c=1.0), make_meta(fi_a={}), freq)
