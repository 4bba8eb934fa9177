"""Hours and local days from 15-minute bins equal those from raw rows: at +5:45, +5:30 and +8:45,
across both DST changes, with gaps, failed readings, QC-flagged values and a 5-minute station."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.core.bins import daily_summary_bins, resample_bins
from dashboard.core.compare import region_comparison
from dashboard.core.daily import CLIMATE_SPECS, daily_summary
from dashboard.core.frames import CoreInputError
from dashboard.core.resample import Clock, resample
from tests.ingest.bins import whole

from .conftest import make_meta, moving, series

FIELDS = ["temp_c", "rain_mm", "wind_gust_ms", "wind_dir_deg", "rh_pct"]
META = make_meta(
    np_kathmandu={"timezone": "Asia/Kathmandu", "country": "NP", "region": "asia", "lon": 85.3},
    in_kolkata={"timezone": "Asia/Kolkata", "country": "IN", "region": "asia", "lon": 88.4},
    au_eucla={"timezone": "Australia/Eucla", "country": "AU", "region": "asia", "lon": 128.9},
    fi_helsinki={"timezone": "Europe/Helsinki", "lon": 24.9},
    de_berlin={"timezone": "Europe/Berlin", "country": "DE", "lon": 13.4},
)
SPRING, FALL = "2025-03-28 00:00", "2025-10-24 00:00"  # EU clocks change on the 30th / 26th


def observations(start: str, days: int, rng: np.random.Generator) -> pd.DataFrame:
    """A minute (Berlin: 5 minutes) of weather per station, with an outage, failed readings, a
    one-reading +9 °C spike and a 70-minute flat stretch of temperature (both set aside by QC)."""
    parts = []
    for i, station in enumerate(META.index):
        every = 5 if station == "de-berlin" else 1
        n = days * 1440 // every
        frame = series(station, start, n, f"{every}min")
        minutes = np.arange(n) * every
        temp = 10 + 8 * np.sin(minutes / 230 + i) + rng.normal(0, 0.3, n)
        spike, stuck = n // 3, slice(2 * n // 3, 2 * n // 3 + 70 // every)
        temp[spike] += 9.0
        temp[stuck] = temp[stuck.start]
        failed = rng.random(n) < 0.05
        failed[spike - 1 : spike + 2] = failed[stuck] = False
        frame["temp_c"] = np.where(failed, np.nan, temp)
        frame["rain_mm"] = rng.choice([0.0, 0.0, 0.0, 0.2], n)
        frame["wind_gust_ms"] = rng.uniform(0, 15, n).round(1)
        frame["wind_dir_deg"] = rng.uniform(0, 360, n).round(0)
        frame["rh_pct"] = (70 + 15 * np.sin(minutes / 300 - i) + rng.normal(0, 0.5, n)).round(1)
        outage = n // 6
        frame = frame.drop(frame.index[outage : outage + int(rng.integers(30, 300)) // every])
        if station == "in-kolkata":  # nine hours missing: a day below the coverage threshold
            frame = frame[frame["time"] >= pd.Timestamp(start, tz="UTC") + pd.Timedelta("9h")]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def assert_frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert list(got.dtypes) == list(want.dtypes)
    assert len(got) == len(want)
    for column in want.columns:
        if want[column].dtype.kind == "f":
            np.testing.assert_allclose(
                got[column].to_numpy(np.float64),
                want[column].to_numpy(np.float64),
                rtol=1e-9,
                atol=1e-9,
                err_msg=column,
            )
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


@pytest.mark.parametrize("start", [SPRING, FALL], ids=["spring-forward", "fall-back"])
def test_daily_summaries_from_bins_equal_raw(start: str, rng: np.random.Generator) -> None:
    obs = observations(start, 5, rng)
    # The bins count set-aside values over every field they hold, a summary over its own fields:
    # bins of exactly those fields give the same count.
    summarised = whole(obs, ["rain_mm", "temp_c", "wind_gust_ms"])
    for coverage in (0.0, 0.75):
        want = daily_summary(obs, META, min_coverage=coverage)
        got = daily_summary_bins(summarised, META, min_coverage=coverage)
        assert_frames_equal(got, want)
    assert want["temp_c_mean"].isna().any()  # Kolkata's short day
    assert want["n_flagged"].sum() >= len(META) * (1 + 70 // 5)  # spikes and flat stretches
    climate = whole(obs, ["rain_mm", "temp_c", "wind_dir_deg", "wind_gust_ms"])
    assert_frames_equal(
        daily_summary_bins(climate, META, specs=CLIMATE_SPECS),
        daily_summary(obs, META, specs=CLIMATE_SPECS),
    )
    every_field = daily_summary_bins(whole(obs, FIELDS), META)
    assert_frames_equal(every_field.drop(columns="n_flagged"), want.drop(columns="n_flagged"))
    assert (every_field["n_flagged"] >= want["n_flagged"]).all()
    helsinki = got[got["station"] == "fi-helsinki"].set_index("date")
    short_or_long = "2025-03-30" if start == SPRING else "2025-10-26"
    assert helsinki.loc[short_or_long, "n_obs"] == {SPRING: 1380, FALL: 1500}[start]
    kathmandu = got[got["station"] == "np-kathmandu"]
    assert kathmandu["date"].nunique() == 6  # five UTC days touch six local ones at +5:45


@pytest.mark.parametrize("start", [SPRING, FALL], ids=["spring-forward", "fall-back"])
@pytest.mark.parametrize("clock", ["utc", "local"])
@pytest.mark.parametrize("freq", ["15min", "1h", "1D"])
def test_resample_from_bins_equals_raw(
    start: str, clock: Clock, freq: str, rng: np.random.Generator
) -> None:
    obs = observations(start, 4, rng)
    bins = whole(obs, FIELDS)
    want = resample(obs, META, freq, clock, fields=FIELDS)
    got = resample_bins(bins, META, freq, clock, fields=FIELDS)
    assert_frames_equal(got, want)
    assert want["n_flagged"].sum() >= len(META) * (1 + 70 // 5)
    assert_frames_equal(resample_bins(bins, META, freq, clock), resample(obs, META, freq, clock))
    if freq == "1h":
        assert_frames_equal(
            region_comparison(got, META, "temp_c"), region_comparison(want, META, "temp_c")
        )


def test_solar_clock_from_bins_is_within_a_half_bin_of_raw(rng: np.random.Generator) -> None:
    # A 15-minute bin goes whole to the solar hour of its middle: at each edge of a solar hour at
    # most 7.5 minutes of readings (8 one-minute readings) land in the neighbouring hour.
    obs = observations("2025-06-01 00:00", 3, rng)
    want = resample(obs, META, "1h", "solar", fields=FIELDS, min_coverage=0)
    got = resample_bins(whole(obs, FIELDS), META, "1h", "solar", fields=FIELDS, min_coverage=0)
    assert list(got.columns) == list(want.columns) and list(got.dtypes) == list(want.dtypes)
    for column in ("n_obs", "n_flagged", "rain_mm"):
        per_station = got.groupby("station", observed=True)[column].sum()
        np.testing.assert_allclose(
            per_station, want.groupby("station", observed=True)[column].sum(), err_msg=column
        )
    joined = want.merge(got, on=["station", "solar_time"], suffixes=("_raw", "_bins"))
    assert len(joined) >= 0.95 * len(want)
    assert (joined["n_obs_bins"] - joined["n_obs_raw"]).abs().max() <= 2 * 8
    assert (joined["temp_c_bins"] - joined["temp_c_raw"]).abs().max() < 0.5


def test_interval_from_bins_is_the_median_gap() -> None:
    # Without meta.interval_s the cadence comes from the bins: one reading per bin (30 min), many
    # (1 min), a few (5 min), and an outage; coverage then equals the raw rows' to the last digit.
    meta = make_meta(fi_a={}, fi_b={}, fi_c={})
    obs = pd.concat(
        [
            series("fi-a", "2025-01-01", 300, "1min", temp_c=moving(1.0, 300)).drop(range(50, 170)),
            series("fi-b", "2025-01-01", 30, "30min", temp_c=np.arange(30.0)),
            series("fi-c", "2025-01-01", 100, "5min", temp_c=moving(1.0, 100, 5)),
        ],
        ignore_index=True,
    )
    got = resample_bins(whole(obs, ["temp_c"]), meta, "1h")
    assert_frames_equal(got, resample(obs, meta, "1h", fields=["temp_c"]))
    assert got.groupby("station", observed=True)["coverage"].max().tolist() == [1.0, 1.0, 1.0]


def test_flagged_count_is_of_the_fields_asked_for() -> None:
    # A rain value over the range limit counts in an hour of rain, not in an hour of temperature
    # only, as in `resample`: the bins count set-aside values per field.
    meta = make_meta(fi_a={})
    rain = np.r_[np.zeros(30), 60.0, np.zeros(29)]
    obs = series("fi-a", "2025-01-01", 60, temp_c=moving(1.0, 60), rain_mm=rain)
    for fields, flagged in ((["temp_c"], [0]), (["temp_c", "rain_mm"], [1])):
        assert resample(obs, meta, "1h", fields=fields)["n_flagged"].tolist() == flagged
        got = resample_bins(whole(obs, fields), meta, "1h", fields=fields)
        assert got["n_flagged"].tolist() == flagged


def test_bins_finer_than_a_quarter_hour_are_refused(rng: np.random.Generator) -> None:
    bins = whole(observations(FALL, 1, rng), FIELDS)
    with pytest.raises(CoreInputError, match="15-minute bins"):
        resample_bins(bins, META, "10min")
