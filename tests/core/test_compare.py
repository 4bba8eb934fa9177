"""Rankings, Asia vs Europe, anomalies and correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.core.compare import (
    anomaly,
    correlation_matrix,
    rankings,
    region_comparison,
    school_table,
)
from dashboard.core.daily import daily_summary
from dashboard.core.resample import resample

from .conftest import make_meta, series

META = make_meta(
    fi_a={"name": "Hervanta", "timezone": "Europe/Helsinki"},
    de_b={"name": "Berlin", "country": "DE", "timezone": "Europe/Berlin"},
    sg_c={"name": "Raffles", "country": "SG", "region": "asia", "timezone": "Asia/Singapore"},
    in_d={"name": "Kolkata", "country": "IN", "region": "asia", "timezone": "Asia/Kolkata"},
    fi_a_room12={"name": "Hervanta room 12", "timezone": "Europe/Helsinki", "exposure": "indoor"},
)


def fleet() -> pd.DataFrame:
    start, n = "2024-06-03 00:00", 600
    # A working thermometer moves (a flat line is a stuck sensor to QC): a sawtooth of ±0.2 °C
    # whose mean over every whole hour is exactly 0, so hourly means stay round numbers.
    wiggle = 0.2 * ((np.arange(n) % 60) - 29.5) / 29.5
    return pd.concat(
        [
            series("fi-a", start, n, temp_c=12.0 + wiggle, rain_mm=0.0, wind_gust_ms=9.0),
            series("de-b", start, n, temp_c=18.0 + wiggle, rain_mm=0.05, wind_gust_ms=4.0),
            series("sg-c", start, n, temp_c=31.0 + wiggle, rain_mm=0.2, wind_gust_ms=3.0),
            series("in-d", start, n, temp_c=35.0 + wiggle, rain_mm=0.0, wind_gust_ms=6.0),
            series("fi-a-room12", start, n, temp_c=40.0 + wiggle, rain_mm=9.0, wind_gust_ms=50.0),
        ],
        ignore_index=True,
    )


def test_rankings_now_and_today_outdoor_only() -> None:
    ranked = rankings(fleet(), META, now=pd.Timestamp("2024-06-03 09:59", tz="UTC"), top=2)
    top = ranked[ranked["rank"] == 1].set_index(["category", "period"])["station"]
    assert top[("hottest", "now")] == "in-d" and top[("coldest", "now")] == "fi-a"
    assert top[("wettest", "today")] == "sg-c" and top[("windiest", "today")] == "fi-a"
    assert "fi-a-room12" not in set(ranked["station"])
    assert ranked.loc[ranked["station"] == "sg-c", "name"].iloc[0] == "Raffles"


def test_stale_readings_do_not_rank_now() -> None:
    ranked = rankings(fleet(), META, now=pd.Timestamp("2024-06-03 11:00", tz="UTC"))
    assert ranked[(ranked["period"] == "now") & (ranked["category"] == "hottest")].empty


def test_asia_vs_europe_median_and_iqr() -> None:
    hourly = resample(fleet(), META, "1h")
    table = region_comparison(hourly, META, min_stations=1)
    out = table.set_index(["region"]).groupby(level=0).first()
    assert out.loc["europe", "median"] == pytest.approx(15.0)
    assert out.loc["asia", "median"] == pytest.approx(33.0)
    assert out.loc["europe", "iqr"] == pytest.approx(3.0)  # quartiles 13.5 and 16.5
    assert out.loc["europe", "n_stations"] == 2  # the indoor monitor is left out


def test_anomaly_against_trailing_baseline() -> None:
    days = pd.date_range("2024-05-01", periods=40)
    temps = np.r_[np.full(39, 15.0), 21.0]
    daily = pd.DataFrame({"station": "fi-a", "date": days, "temp_c_mean": temps})
    out = anomaly(daily, baseline_days=30, min_days=20)
    assert out["anomaly"].iloc[-1] == pytest.approx(6.0)
    assert out["anomaly"].iloc[:20].isna().all()


def test_anomaly_needs_enough_baseline_days() -> None:
    daily = pd.DataFrame({"station": "fi-a", "date": pd.date_range("2024-05-01", periods=10) ,
                          "temp_c_mean": 10.0})  # fmt: skip
    assert anomaly(daily, baseline_days=30, min_days=20)["anomaly"].isna().all()


def test_correlation_matrix_of_stations(rng: np.random.Generator) -> None:
    common = rng.normal(size=48)
    obs = pd.concat(
        [series("fi-a", "2024-06-01", 48, freq="1h", temp_c=common),
         series("de-b", "2024-06-01", 48, freq="1h", temp_c=2 * common + 1),
         series("sg-c", "2024-06-01", 48, freq="1h", temp_c=-common)],
        ignore_index=True,
    )  # fmt: skip
    hourly = resample(obs, META.assign(interval_s=3600), "1h")
    corr = correlation_matrix(hourly, META)
    assert corr.loc["fi-a", "de-b"] == pytest.approx(1.0)
    assert corr.loc["fi-a", "sg-c"] == pytest.approx(-1.0)


def test_daily_summary_feeds_anomaly() -> None:
    daily = daily_summary(fleet(), META, min_coverage=0)
    out = anomaly(daily, baseline_days=3, min_days=1)
    assert set(out.columns) == {"station", "date", "value", "baseline", "anomaly"}


def test_row_quantiles_match_numpy(rng: np.random.Generator) -> None:
    from dashboard.core.compare import _row_quantiles

    matrix = rng.normal(size=(50, 9))
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    matrix[0] = np.nan
    expected = np.nanquantile(matrix[1:], [0.25, 0.5, 0.75], axis=1)
    got = np.array(_row_quantiles(matrix, (0.25, 0.5, 0.75)))
    np.testing.assert_allclose(got[:, 1:], expected)
    assert np.isnan(got[:, 0]).all()


def test_nothing_to_rank_when_no_school_had_rain() -> None:
    dry = fleet().assign(rain_mm=0.0)
    ranked = rankings(dry, META, now=pd.Timestamp("2024-06-03 09:59", tz="UTC"))
    assert ranked[ranked["category"] == "wettest"].empty  # not a ranking of 0.0 mm
    assert not ranked[ranked["category"] == "hottest"].empty


def test_range_is_ranked_by_the_core() -> None:
    ranked = rankings(fleet(), META, now=pd.Timestamp("2024-06-03 09:59", tz="UTC"))
    spread = ranked[ranked["category"] == "range"]
    assert set(spread["quantity"]) == {"temp_c_range"}
    assert (spread["value"] > 0).all() and spread["value"].is_monotonic_decreasing


def test_school_table_and_rankings_say_the_same_number() -> None:
    now = pd.Timestamp("2024-06-03 09:59", tz="UTC")
    ranked = rankings(fleet(), META, now=now)
    table = school_table(fleet(), META, now)
    hottest = ranked[(ranked["category"] == "hottest") & (ranked["period"] == "today")]
    for row in hottest.itertuples():
        assert table.at[row.station, "today_max_c"] == row.value
    assert "fi-a-room12" not in table.index
    assert list(table.columns) == [
        "now_c", "today_max_c", "today_min_c", "yesterday_c", "baseline_c", "anomaly_c",
    ]  # fmt: skip


def test_a_side_is_a_gap_where_too_few_of_its_schools_report() -> None:
    # Six European schools; in the last hours only one or two still report (the edge of a
    # solar-time chart): the median there would be one school's value, so it is a gap.
    meta = make_meta(**{f"fi_{k}": {"timezone": "Europe/Helsinki"} for k in "abcdef"})
    parts = []
    for k, sid in enumerate(meta.index):
        hours = 10 if k < 2 else 6  # two schools run 4 hours longer
        n = hours * 60
        parts.append(
            series(sid, "2024-06-03 00:00", n, temp_c=10.0 + k + 0.3 * np.sin(np.arange(n) / 9))
        )
    table = region_comparison(resample(pd.concat(parts, ignore_index=True), meta, "1h"), meta)
    assert set(table["quorum"]) == {3}  # half of 6 is 3, and never fewer than 3
    full = table[table["n_stations"] >= 3]
    thin = table[table["n_stations"] < 3]
    assert len(full) == 6 and full["median"].notna().all()
    assert len(thin) == 4 and thin[["median", "q25", "q75"]].isna().all().all()
