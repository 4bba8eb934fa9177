"""Benchmark calibration: the cost of a fit, and of applying corrections on every read.

Prints (1) seconds per fit (one station, one field, Theil–Sen with its block bootstrap) for a
calibration day and a calibration week, and (2) rows/s of `apply_corrections` over a fleet where
every station has two dated corrections of two fields (what every dashboard read pays).

    python bench/calibration.py                  # 500 stations x 1 day x 1-minute = 720,000 rows
    python bench/calibration.py --stations 50    # a quick run on a shared machine
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.core.calibration import apply_corrections, fit
from ingest.domain.calibration import Correction


def side_by_side(days: float, rng: np.random.Generator) -> pd.DataFrame:
    n = int(days * 1440)
    time_ = pd.date_range("2026-12-01", periods=n, freq="1min", tz="UTC")
    true = 2 + 4 * np.sin(np.arange(n) / 1440 * 2 * np.pi)
    return pd.concat(
        [
            pd.DataFrame({"station": "fi-ref", "time": time_, "temp_c": true}),
            pd.DataFrame(
                {
                    "station": "fi-a",
                    "time": time_,
                    "temp_c": 0.5 + 1.05 * true + rng.normal(0, 0.2, n),
                }
            ),
        ],
        ignore_index=True,
    )


def fleet(stations: int, days: float, rng: np.random.Generator) -> pd.DataFrame:
    n = int(days * 1440)
    time_ = pd.date_range("2026-12-01", periods=n, freq="1min", tz="UTC")
    ids = np.repeat([f"fi-s{i:04d}" for i in range(stations)], n)
    return pd.DataFrame(
        {
            "station": ids,
            "time": np.tile(time_, stations),
            "temp_c": rng.normal(5, 3, ids.size),
            "rh_pct": rng.uniform(30, 90, ids.size),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--days", type=float, default=1.0)
    args = parser.parse_args()
    rng = np.random.default_rng(1)

    for days in (1, 7):
        obs = side_by_side(days, rng)
        start = time.perf_counter()
        result = fit(obs, "fi-a", "fi-ref", "temp_c")
        print(f"fit, {days} day(s) side by side: {time.perf_counter() - start:.3f} s ({result})")

    obs = fleet(args.stations, args.days, rng)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    corrections = [
        Correction(f"fi-s{i:04d}", field, t0 + timedelta(hours=h), 0.1 * h, 1.0 + 0.01 * h)
        for i in range(args.stations)
        for field in ("temp_c", "rh_pct")
        for h in (0, 12)
    ]
    start = time.perf_counter()
    apply_corrections(obs, corrections)
    seconds = time.perf_counter() - start
    print(
        f"apply_corrections: {len(obs):,} rows, {len(corrections):,} corrections: "
        f"{seconds:.3f} s = {len(obs) / seconds:,.0f} rows/s"
    )
    start = time.perf_counter()
    apply_corrections(obs, [])
    print(f"apply_corrections without any: {time.perf_counter() - start:.6f} s")


if __name__ == "__main__":
    main()
