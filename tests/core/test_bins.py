"""Local days and hours from the stores' 15-minute bins equal those from raw rows: at +5:45,
+5:30 and +8:45, across both DST changes, with gaps, failed readings and a 5-minute station."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.core.bins import daily_summary_bins, interval_s, resample_bins
from dashboard.core.compare import region_comparison
from dashboard.core.daily import daily_summary
from dashboard.core.resample import resample
from dashboard.data import Hours, store_bins
from ingest.batch import Batch, empty_obs
from ingest.rollup import bins_from_obs
from ingest.sqlite import SQLiteStore
from tests.core.conftest import make_meta

FIELDS = ["temp_c", "rain_mm", "wind_gust_ms", "wind_dir_deg", "rh_pct"]
META = make_meta(
    np_kathmandu={"timezone": "Asia/Kathmandu", "country": "NP", "region": "asia", "lon": 85.3},
    in_kolkata={"timezone": "Asia/Kolkata", "country": "IN", "region": "asia", "lon": 88.4},
    au_eucla={"timezone": "Australia/Eucla", "country": "AU", "region": "asia", "lon": 128.9},
    fi_helsinki={"timezone": "Europe/Helsinki", "lon": 24.9},
    de_berlin={"timezone": "Europe/Berlin", "country": "DE", "lon": 13.4},
)


def observations(start: str, days: int, rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for i, station in enumerate(META.index):
        step = "5min" if station == "de-berlin" else "1min"
        time = pd.date_range(start, periods=days * 1440, freq="1min", tz="UTC")
        time = time[:: 5 if step == "5min" else 1]
        n = len(time)
        frame = pd.DataFrame({"station": station, "time": time})
        frame["temp_c"] = 10 + 8 * np.sin(np.arange(n) / 230 + i) + rng.normal(0, 0.3, n)
        frame["rain_mm"] = rng.choice([0.0, 0.0, 0.0, 0.2], n)
        frame["wind_gust_ms"] = rng.uniform(0, 15, n).round(1)
        frame["wind_dir_deg"] = rng.uniform(0, 360, n).round(0)
        frame["rh_pct"] = rng.uniform(40, 95, n).round(1)
        frame.loc[rng.random(n) < 0.05, "temp_c"] = np.nan  # failed readings
        outage = rng.integers(0, n - 300)
        frame = frame.drop(frame.index[outage : outage + int(rng.integers(30, 300))])
        if station == "in-kolkata":  # a short day: coverage below the threshold somewhere
            frame = frame[
                ~(
                    (frame["time"] > f"{start}")
                    & (frame["time"] < pd.Timestamp(start, tz="UTC") + pd.Timedelta("9h"))
                )
            ]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def through_sqlite(
    obs: pd.DataFrame, tmp_path: Path, hours: Hours = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw rows and bins as the SQLite store gives them back after writing `obs`: 15-minute
    bins, or each school's local (or UTC) hours as the dashboard asks for them."""
    store = SQLiteStore(tmp_path / "obs.db")
    frame = empty_obs().reindex(range(len(obs)))
    frame["station"] = obs["station"].to_numpy()
    frame["ts_ms"] = pd.DatetimeIndex(obs["time"]).as_unit("ms").asi8
    for field in FIELDS:
        frame[field] = obs[field].to_numpy()
    store.write(Batch(obs=frame, created_ms=1))
    span = datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    raw = store.read(*span, fields=FIELDS)
    bins = store_bins(store, *span, META, FIELDS, hours)
    store.close()
    return raw, bins


def assert_frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
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


@pytest.mark.parametrize("hours", [None, "local"], ids=["15min-bins", "local-hour-bins"])
@pytest.mark.parametrize(
    "start", ["2025-03-28 00:00", "2025-10-24 00:00"], ids=["spring-forward", "fall-back"]
)
def test_daily_summaries_from_bins_equal_raw(
    start: str, hours: Hours, rng: np.random.Generator, tmp_path: Path
) -> None:
    raw, bins = through_sqlite(observations(start, 5, rng), tmp_path, hours)
    for coverage in (0.0, 0.75):
        want = daily_summary(raw, META, min_coverage=coverage)
        got = daily_summary_bins(bins, META, min_coverage=coverage)
        assert_frames_equal(got, want)
    helsinki = got[got["station"] == "fi-helsinki"]
    lengths = {"2025-03-30": 1380, "2025-10-26": 1500}  # the 23- and 25-hour days
    for day, n in lengths.items():
        if day in helsinki["date"].dt.strftime("%Y-%m-%d").tolist():
            row = helsinki[helsinki["date"] == day]
            assert row["n_obs"].iloc[0] <= n
    kathmandu = got[got["station"] == "np-kathmandu"]
    assert kathmandu["date"].nunique() == 6  # five UTC days touch six local ones at +5:45


@pytest.mark.parametrize("clock", ["utc", "local"])
@pytest.mark.parametrize("freq", ["15min", "1h", "3h"])
def test_resample_from_bins_equals_raw(
    clock: str, freq: str, rng: np.random.Generator, tmp_path: Path
) -> None:
    hours: Hours = None if freq == "15min" else clock  # type: ignore[assignment]
    raw, bins = through_sqlite(observations("2025-10-24 00:00", 4, rng), tmp_path, hours)
    want = resample(raw, META, freq, clock, fields=FIELDS)  # type: ignore[arg-type]
    got = resample_bins(bins, META, freq, clock, fields=FIELDS)  # type: ignore[arg-type]
    assert_frames_equal(got, want)
    if freq == "1h":
        assert_frames_equal(
            region_comparison(got, META, "temp_c"), region_comparison(want, META, "temp_c")
        )


def test_solar_clock_from_bins_is_close_to_raw(rng: np.random.Generator, tmp_path: Path) -> None:
    # Bins go whole to the solar hour of their middle: hourly means differ a little, never much.
    raw, bins = through_sqlite(observations("2025-06-01 00:00", 3, rng), tmp_path)
    want = resample(raw, META, "1h", "solar", fields=["temp_c"], min_coverage=0)
    got = resample_bins(bins, META, "1h", "solar", fields=["temp_c"], min_coverage=0)
    joined = want.merge(got, on=["station", "solar_time"], suffixes=("_raw", "_bins"))
    assert len(joined) >= 0.95 * len(want)
    assert np.nanmax(np.abs(joined["temp_c_raw"] - joined["temp_c_bins"])) < 0.5


def test_interval_from_bins_is_the_median_gap() -> None:
    meta = make_meta(fi_a={}, fi_b={}, fi_c={})
    obs = pd.concat(
        [
            pd.DataFrame(
                {
                    "station": "fi-a",
                    "time": pd.date_range("2025-01-01", periods=300, freq="1min", tz="UTC"),
                }
            ),
            pd.DataFrame(
                {
                    "station": "fi-b",
                    "time": pd.date_range("2025-01-01", periods=30, freq="30min", tz="UTC"),
                }
            ),
            pd.DataFrame(
                {
                    "station": "fi-c",
                    "time": pd.date_range("2025-01-01", periods=100, freq="5min", tz="UTC"),
                }
            ),
        ]
    ).assign(temp_c=1.0)
    bins = bins_from_obs(obs, ["temp_c"])
    codes = pd.Categorical(bins["station"], categories=meta.index).codes.astype(np.int32)
    assert interval_s(bins, codes, 3).tolist() == [60.0, 1800.0, 300.0]
