"""How long every ETCCDI index takes for a year of 1-minute data from a fleet of schools.

Two stages, timed apart, because they will be paid apart once the stores keep daily aggregates
(issue #17): (1) the climate day table from 1-minute rows (`daily_summary` per local day with the
coverage rule: what reading raw rows costs today), done in chunks of schools so a year of a
large fleet never sits in memory at once; (2) all 18 indices per month and per year from that
table (what the climate layer costs on its own, and all it costs with pushed-down aggregates).

Data: made here, deterministically. Each school gets a time zone of an ASEM school (DST in
Europe and Adelaide, +5:30 and +5:45 offsets), one reading a minute for a calendar year with a
seasonal and daily temperature cycle plus noise, showers (rain on ~3 % of minutes), gusts and
wind directions; 1 % of minutes are lost at random and each school has a 2-day outage, so the
coverage and missing-data rules do real work. Generation is not timed.

    python bench/climate.py                  # 500 schools, a year of 1-minute data
    python bench/climate.py --schools 20     # a quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from dashboard.core.climate_days import climate_days
from dashboard.core.daily import CLIMATE_SPECS, daily_summary
from dashboard.core.indices import climate_indices

ZONES = ["Europe/Helsinki", "Europe/Berlin", "Europe/Lisbon", "Europe/Athens", "Asia/Manila",
         "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tokyo", "Asia/Singapore",
         "Australia/Adelaide"]  # fmt: skip
YEAR = 2024


def fleet_meta(n: int) -> pd.DataFrame:
    ids = [f"xx-school-{i:03d}" for i in range(n)]
    return pd.DataFrame(
        {"timezone": [ZONES[i % len(ZONES)] for i in range(n)], "interval_s": 60.0}, index=ids
    )


def one_minute_rows(meta: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A year of 1-minute readings for every school in `meta` (see the module docstring)."""
    minutes = pd.date_range(f"{YEAR}-01-01", f"{YEAR + 1}-01-01", freq="1min", tz="UTC")[:-1]
    t = minutes.as_unit("s").asi8 // 60
    frames = []
    for k, station in enumerate(meta.index):
        phase = 2 * np.pi * (t % 525_600) / 525_600
        daily = 2 * np.pi * (t % 1440) / 1440
        mean = 28.0 if "Asia" in meta.at[station, "timezone"] else 8.0
        temp = (
            mean - 10 * np.cos(phase) * (k % 3) / 2 - 5 * np.cos(daily) + rng.normal(0, 1, t.size)
        )
        keep = rng.random(t.size) > 0.01
        outage = rng.integers(0, t.size - 2880)
        keep[outage : outage + 2880] = False
        frames.append(
            pd.DataFrame(
                {
                    "station": station,
                    "time": minutes[keep],
                    "temp_c": temp[keep],
                    "rain_mm": np.where(rng.random(keep.sum()) < 0.03, 0.2, 0.0),
                    "wind_gust_ms": rng.gamma(2.0, 3.0, keep.sum()),
                    "wind_dir_deg": rng.uniform(0, 360, keep.sum()),
                }
            )
        )
    obs = pd.concat(frames, ignore_index=True)
    obs["station"] = pd.Categorical(obs["station"], categories=meta.index)
    return obs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=10, help="schools summarised at once")
    args = parser.parse_args()
    rng = np.random.default_rng(21)
    meta = fleet_meta(args.schools)

    summaries, rows, summarise_s = [], 0, 0.0
    for first in range(0, args.schools, args.chunk):
        part = meta.iloc[first : first + args.chunk]
        obs = one_minute_rows(part, rng)
        rows += len(obs)
        started = time.perf_counter()
        summaries.append(daily_summary(obs, part, specs=CLIMATE_SPECS))
        summarise_s += time.perf_counter() - started
        del obs
    started = time.perf_counter()
    days = climate_days(pd.concat(summaries, ignore_index=True))
    summarise_s += time.perf_counter() - started

    started = time.perf_counter()
    monthly = climate_indices(days, "month")
    yearly = climate_indices(days, "year")
    indices_s = time.perf_counter() - started

    print(f"{args.schools} schools, {YEAR}: {rows:,} one-minute rows -> {len(days):,} school-days")
    print(
        f"  climate day table from rows : {summarise_s:7.2f} s  ({rows / summarise_s:,.0f} rows/s)"
    )
    values = monthly.size + yearly.size
    print(f"  18 indices, month and year  : {indices_s:7.3f} s  "
          f"({values:,} values; {len(days) / indices_s:,.0f} school-days/s)")  # fmt: skip
    print(f"  total                       : {summarise_s + indices_s:7.2f} s")
    # East of UTC the last readings fall on 1 January of the next local year: leave it out.
    year = yearly[yearly.index.get_level_values("period").year == YEAR]
    computed = year.notna().mean().mean()
    print(f"  {YEAR} values passing ETCCDI's missing-data rule: {computed:.0%}")


if __name__ == "__main__":
    main()
