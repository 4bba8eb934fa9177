"""Benchmark the comparison core against DuckDB on a synthetic fleet.

Computes (1) daily summaries per LOCAL day at every station and (2) the Asia-vs-Europe hourly
comparison (median and IQR of hourly mean temperature), once with `dashboard.core` and once in
DuckDB in the same process, checks that both agree, and prints rows/s, the time ratio and the
core's peak memory against the input's size. Target (issue 6): within 1.5x DuckDB's time,
peak memory under 3x the input.

    python bench/compare.py                 # 500 stations x 30 days x 1-minute = 21.6 M rows
    python bench/compare.py --stations 50   # a quick run on a shared machine

DuckDB is a bench-only dependency (`pip install duckdb`).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from dashboard.core.compare import region_comparison
from dashboard.core.daily import daily_summary
from dashboard.core.resample import resample
from ingest.domain.qc import screen

T = TypeVar("T")

# Zones of ASEM schools, with DST (Europe, Adelaide) and half/quarter-hour offsets.
ASIA_ZONES = ["Asia/Singapore", "Asia/Kolkata", "Asia/Tokyo", "Asia/Manila", "Asia/Kathmandu",
              "Asia/Bangkok", "Australia/Adelaide", "Asia/Seoul"]  # fmt: skip
EUROPE_ZONES = ["Europe/Helsinki", "Europe/Berlin", "Europe/London", "Europe/Lisbon",
                "Europe/Madrid", "Europe/Warsaw", "Europe/Athens", "Europe/Dublin"]  # fmt: skip
# The span covers Europe's spring-forward (31 March) and Adelaide's fall-back (7 April).
START = "2024-03-20"


def synthetic_fleet(stations: int, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per station and minute, sorted by station then time, as the store returns them."""
    rng = np.random.default_rng(seed)
    ids = [f"{'sg' if i % 2 else 'fi'}-school-{i:04d}" for i in range(stations)]
    asia = np.arange(stations) % 2 == 1
    zones = np.where(asia, np.array(ASIA_ZONES)[np.arange(stations) % 8],
                     np.array(EUROPE_ZONES)[np.arange(stations) % 8])  # fmt: skip
    meta = pd.DataFrame(
        {
            "name": ids,
            "country": np.where(asia, "SG", "FI"),
            "region": np.where(asia, "asia", "europe"),
            "lat": rng.uniform(-35, 65, stations),
            "lon": rng.uniform(-10, 140, stations),
            "elevation_m": rng.uniform(0, 800, stations),
            "timezone": zones,
            "exposure": "outdoor",
            "interval_s": 60.0,
        },
        index=pd.Index(ids, name="station"),
    )
    per_station = days * 1440
    n = stations * per_station
    minute = np.tile(np.arange(per_station, dtype=np.int64), stations)
    code = np.repeat(np.arange(stations, dtype=np.int16), per_station)
    start_ns = pd.Timestamp(START, tz="UTC").value
    base = np.where(asia, 28.0, 8.0)[code]
    temp = base + 6 * np.sin(2 * np.pi * (minute % 1440) / 1440) + rng.normal(0, 0.5, n)
    temp[rng.random(n) < 0.01] = np.nan  # a sensor read fails now and then
    obs = pd.DataFrame(
        {
            "station": pd.Categorical.from_codes(code, categories=ids),
            "time": pd.DatetimeIndex(start_ns + minute * 60_000_000_000, tz="UTC"),
            "temp_c": temp,
            "rain_mm": np.where(rng.random(n) < 0.05, rng.exponential(0.2, n), 0.0),
            "wind_gust_ms": rng.gamma(2.0, 2.0, n),
        }
    )
    return obs, meta


def core_run(obs: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    daily = daily_summary(obs, meta)
    hourly = resample(obs, meta, "1h", fields=["temp_c"])
    return daily, region_comparison(hourly, meta)


DUCK_DAILY = """
WITH d AS (
    SELECT o.station::VARCHAR AS station, CAST(timezone(s.timezone, o.time) AS DATE) AS date,
           count(*) AS n_obs,
           min(temp_c) AS tmin, max(temp_c) AS tmax, avg(temp_c) AS tmean, count(temp_c) AS nt,
           sum(rain_mm) AS rsum, count(rain_mm) AS nr, max(wind_gust_ms) AS gmax,
           count(wind_gust_ms) AS ng, any_value(s.timezone) AS tz, any_value(s.interval_s) AS iv
    FROM obs o JOIN stations s ON o.station::VARCHAR = s.station
    GROUP BY ALL
), e AS (
    SELECT *, (epoch(timezone(tz, (date + 1)::TIMESTAMP)) - epoch(timezone(tz, date::TIMESTAMP)))
              / iv AS expected
    FROM d
)
SELECT station, date, n_obs, least(n_obs / expected, 1.0) AS coverage,
       CASE WHEN nt >= 0.75 * expected THEN tmin END AS temp_c_min,
       CASE WHEN nt >= 0.75 * expected THEN tmax END AS temp_c_max,
       CASE WHEN nt >= 0.75 * expected THEN tmean END AS temp_c_mean,
       CASE WHEN nr >= 0.75 * expected THEN rsum END AS rain_mm_sum,
       CASE WHEN ng >= 0.75 * expected THEN gmax END AS wind_gust_ms_max
FROM e ORDER BY station, date
"""

DUCK_HOURLY = """
WITH h AS (
    SELECT station::VARCHAR AS station, time_bucket(INTERVAL 1 hour, time) AS hour,
           avg(temp_c) AS t, count(temp_c) AS n
    FROM obs GROUP BY ALL
)
SELECT h.hour AS time, s.region, count(*) AS n_stations, median(t) AS median,
       quantile_cont(t, 0.25) AS q25, quantile_cont(t, 0.75) AS q75
FROM h JOIN stations s ON h.station = s.station
WHERE s.exposure = 'outdoor' AND n >= 0.75 * 3600 / s.interval_s
GROUP BY ALL ORDER BY time, region
"""


def duck_run(con: object, obs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    daily = con.execute(DUCK_DAILY).df()  # type: ignore[attr-defined]
    hourly = con.execute(DUCK_HOURLY).df()  # type: ignore[attr-defined]
    return daily, hourly


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result  # type: ignore[return-value]


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak of memory allocated while `fn` runs (numpy and pandas buffers are traced)."""
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def check_agreement(
    core: tuple[pd.DataFrame, pd.DataFrame], duck: tuple[pd.DataFrame, pd.DataFrame]
) -> str:
    core_daily = (
        core[0].assign(station=core[0]["station"].astype(str)).sort_values(["station", "date"])
    )
    duck_daily = duck[0].sort_values(["station", "date"])
    assert len(core_daily) == len(duck_daily), (len(core_daily), len(duck_daily))
    assert (core_daily["n_obs"].to_numpy() == duck_daily["n_obs"].to_numpy()).all()
    daily_diff = np.nanmax(
        np.abs(core_daily["temp_c_mean"].to_numpy() - duck_daily["temp_c_mean"].to_numpy())
    )
    cov_diff = np.nanmax(
        np.abs(core_daily["coverage"].to_numpy() - duck_daily["coverage"].to_numpy())
    )
    core_h = core[1].sort_values(["time", "region"])
    duck_h = duck[1].sort_values(["time", "region"])
    assert len(core_h) == len(duck_h), (len(core_h), len(duck_h))
    hourly_diff = np.nanmax(np.abs(core_h["median"].to_numpy() - duck_h["median"].to_numpy()))
    return (
        f"max |Δ| daily mean {daily_diff:.2e}, coverage {cov_diff:.2e}, "
        f"hourly median {hourly_diff:.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default)")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()

    obs, meta = synthetic_fleet(args.stations, args.days, args.seed)
    rows = len(obs)
    input_bytes = int(obs.memory_usage(deep=True).sum())
    print(f"input: {rows:,} rows ({args.stations} stations x {args.days} days x 1 min), "
          f"{input_bytes / 2**20:,.0f} MiB")  # fmt: skip

    core_s, core = timed(lambda: core_run(obs, meta), args.repeat)
    peak = peak_bytes(lambda: core_run(obs, meta))

    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    # DuckDB gets the values the core's QC leaves usable (flagged ones as NULL), so both answer
    # the same question; the core's timing includes the QC itself, DuckDB's does not.
    con.register("obs", screen(obs, ["temp_c", "rain_mm", "wind_gust_ms"]).obs)
    con.register("stations", meta.reset_index())
    duck_s, duck = timed(lambda: duck_run(con, obs), args.repeat)
    threads = con.execute("SELECT current_setting('threads')").fetchone()

    print(f"agreement: {check_agreement(core, duck)}")
    print(f"core   : {core_s:7.2f} s  {rows / core_s / 1e6:6.1f} M rows/s  "
          f"({len(core[0]):,} station-days, {len(core[1]):,} region-hours)")  # fmt: skip
    print(
        f"duckdb : {duck_s:7.2f} s  {rows / duck_s / 1e6:6.1f} M rows/s  "
        f"(threads={threads[0] if threads else '?'})"
    )
    ratio = core_s / duck_s
    print(
        f"ratio core/duckdb time: {ratio:.2f} (target <= 1.5) {'OK' if ratio <= 1.5 else 'MISSED'}"
    )
    print(f"core peak memory: {peak / 2**20:,.0f} MiB = {peak / input_bytes:.2f} x input "
          f"(target < 3) {'OK' if peak < 3 * input_bytes else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
