"""Daily summaries per local day: DST days, half-hour offsets, coverage rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.core.daily import SUMMARY_COLUMNS, daily_summary

from .conftest import make_meta, moving, series


def test_columns_are_the_cli_contract() -> None:
    meta = make_meta(fi_a={})
    out = daily_summary(series("fi-a", "2024-06-01", 1440, temp_c=moving(10.0, 1440)), meta)
    assert tuple(out.columns) == SUMMARY_COLUMNS == (
        "station", "date", "n_obs", "coverage", "temp_c_min", "temp_c_max", "temp_c_mean",
        "rain_mm_sum", "wind_gust_ms_max", "n_flagged",
    )  # fmt: skip


def test_spring_forward_day_has_23_hours_and_full_coverage() -> None:
    meta = make_meta(gb_a={"timezone": "Europe/London"})
    # Local 2024-03-31 runs from 00:00 UTC (GMT) to 23:00 UTC (BST): 23 × 60 minutes.
    obs = series("gb-a", "2024-03-31 00:00", 23 * 60, temp_c=np.arange(23 * 60) / 100, rain_mm=0.1)
    day = daily_summary(obs, meta).set_index("date").loc["2024-03-31"]
    assert day["n_obs"] == 1380
    assert day["coverage"] == 1.0
    assert day["rain_mm_sum"] == pytest.approx(138.0)
    assert day["temp_c_max"] == pytest.approx(13.79)


def test_fall_back_day_has_25_hours() -> None:
    meta = make_meta(gb_a={"timezone": "Europe/London"})
    # Local 2024-10-27 runs from 23:00 UTC on the 26th (BST) to 00:00 UTC on the 28th (GMT).
    obs = series("gb-a", "2024-10-26 23:00", 25 * 60, temp_c=5.0)
    out = daily_summary(obs, meta)
    assert out["date"].astype(str).tolist() == ["2024-10-27"]
    assert out["n_obs"].iloc[0] == 1500 and out["coverage"].iloc[0] == 1.0


def test_24_hours_on_a_25_hour_day_is_not_full_coverage() -> None:
    meta = make_meta(gb_a={"timezone": "Europe/London"})
    obs = series("gb-a", "2024-10-27 00:00", 24 * 60, temp_c=5.0)
    day = daily_summary(obs, meta).set_index("date").loc["2024-10-27"]
    assert day["coverage"] == pytest.approx(24 / 25)


@pytest.mark.parametrize(
    ("zone", "utc_start"),
    [("Asia/Kolkata", "2024-05-31 18:30"), ("Australia/Adelaide", "2024-05-31 14:30")],
)
def test_half_hour_offsets_split_days_at_local_midnight(zone: str, utc_start: str) -> None:
    meta = make_meta(xx_a={"timezone": zone})
    # Two local days of minutes, the first day warm and the second cold.
    temps = np.r_[moving(30.0, 1440), moving(20.0, 1440)]
    out = daily_summary(series("xx-a", utc_start, 2880, temp_c=temps), meta)
    assert out["date"].astype(str).tolist() == ["2024-06-01", "2024-06-02"]
    # The 10 °C jump at midnight is (rightly) a suspect step: one value fewer on the second day.
    assert out["temp_c_mean"].tolist() == pytest.approx([30.0, 20.0], abs=0.01)
    assert out["n_obs"].tolist() == [1440, 1440]


def test_no_daily_value_below_coverage_threshold() -> None:
    meta = make_meta(fi_a={})
    # 17 of 24 hours observed: below the 75 % (18 h) rule.
    obs = series("fi-a", "2024-06-01", 17 * 60, temp_c=12.0, rain_mm=0.1, wind_gust_ms=4.0)
    day = daily_summary(obs, meta).iloc[0]
    assert day["coverage"] == pytest.approx(17 / 24)
    assert (
        day[["temp_c_min", "temp_c_max", "temp_c_mean", "rain_mm_sum", "wind_gust_ms_max"]]
        .isna()
        .all()
    )
    assert day["n_obs"] == 17 * 60


def test_exactly_at_threshold_keeps_the_value() -> None:
    meta = make_meta(fi_a={})
    obs = series("fi-a", "2024-06-01", 18 * 60, temp_c=moving(12.0, 18 * 60))
    day = daily_summary(obs, meta).iloc[0]
    assert day["temp_c_mean"] == pytest.approx(12.0)


def test_coverage_is_per_variable() -> None:
    meta = make_meta(fi_a={})
    rain = np.where(np.arange(1440) < 600, 0.2, np.nan)  # the gauge failed after 10 hours
    obs = series("fi-a", "2024-06-01", 1440, temp_c=moving(8.0, 1440), rain_mm=rain)
    day = daily_summary(obs, meta).iloc[0]
    assert day["temp_c_mean"] == pytest.approx(8.0) and np.isnan(day["rain_mm_sum"])


def test_interval_from_metadata_sets_expected_count() -> None:
    meta = make_meta(fi_a={"interval_s": 300})
    day = daily_summary(series("fi-a", "2024-06-01", 288, freq="5min", temp_c=1.0), meta).iloc[0]
    assert day["coverage"] == 1.0


def test_interval_is_inferred_from_gaps_when_not_given() -> None:
    meta = make_meta(fi_a={})
    obs = series("fi-a", "2024-06-01", 288, freq="5min", temp_c=1.0)
    obs = obs[(obs.index < 72) | (obs.index >= 216)]  # a 12-hour outage at midday
    assert daily_summary(obs, meta)["coverage"].iloc[0] == pytest.approx(0.5)


def test_row_order_does_not_matter(rng: np.random.Generator) -> None:
    meta = make_meta(fi_a={"timezone": "Europe/Helsinki"}, in_b={"timezone": "Asia/Kolkata"})
    obs = pd.concat(
        [series("fi-a", "2024-03-30", 4320, temp_c=rng.normal(5, 3, 4320), rain_mm=0.01),
         series("in-b", "2024-03-30", 4320, temp_c=rng.normal(30, 3, 4320), rain_mm=0.02)]
    )  # fmt: skip
    shuffled = obs.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(daily_summary(obs, meta), daily_summary(shuffled, meta))


def test_matches_a_plain_pandas_groupby(rng: np.random.Generator) -> None:
    meta = make_meta(fi_a={"timezone": "Europe/Helsinki"}, au_b={"timezone": "Australia/Adelaide"})
    obs = pd.concat(
        [series("fi-a", "2024-03-29", 5000, temp_c=rng.normal(5, 0.3, 5000)),
         series("au-b", "2024-04-05", 5000, temp_c=rng.normal(20, 0.3, 5000))],
        ignore_index=True,
    )  # fmt: skip
    out = daily_summary(obs, meta, min_coverage=0.0)
    zone = obs["station"].map(meta["timezone"])
    local = pd.concat(
        [g["time"].dt.tz_convert(z).dt.tz_localize(None) for z, g in obs.groupby(zone)]
    )
    reference = obs.assign(date=local.sort_index().dt.normalize()).groupby(["station", "date"])[
        "temp_c"
    ]
    expected = reference.agg(["min", "max", "mean", "size"]).reset_index()
    got = out.assign(station=out["station"].astype(str)).sort_values(
        ["station", "date"], ignore_index=True
    )
    expected = expected.sort_values(["station", "date"], ignore_index=True)
    np.testing.assert_allclose(got["temp_c_mean"], expected["mean"])
    np.testing.assert_array_equal(got["n_obs"], expected["size"])
    np.testing.assert_array_equal(got["date"].to_numpy(), expected["date"].to_numpy())
