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
    python bench/climate.py --days-only      # the indices alone, from a day table (aggregates)
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
    parser.add_argument(
        "--days-only",
        action="store_true",
        help="skip the rows: make the fleet's climate day table directly and time the indices",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(21)
    meta = fleet_meta(args.schools)

    if args.days_only:
        time_indices(climate_days_directly(meta, rng), rows=0, summarise_s=0.0)
        return
    summaries, rows, summarise_s = [], 0, 0.0
    for first in range(0, args.schools, args.chunk):
        part = meta.iloc[first : first + args.chunk]
        obs = one_minute_rows(part, rng)
        rows += len(obs)
        started = time.perf_counter()
        summaries.append(daily_summary(obs, part, specs=CLIMATE_SPECS))
        summarise_s += time.perf_counter() - started
        del obs
        print(f"  ... {first + len(part)} schools summarised", flush=True)
    started = time.perf_counter()
    days = climate_days(pd.concat(summaries, ignore_index=True))
    summarise_s += time.perf_counter() - started
    time_indices(days, rows, summarise_s)


def climate_days_directly(meta: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The fleet's year as a climate day table (what daily aggregates in a store would give):
    the same climate as `one_minute_rows`, a day's values drawn directly, 1 % of days missing."""
    dates = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31", freq="D")
    n = len(dates)
    frames = []
    for k, station in enumerate(meta.index):
        mean = 28.0 if "Asia" in meta.at[station, "timezone"] else 8.0
        season = -10 * np.cos(2 * np.pi * np.arange(n) / n) * (k % 3) / 2
        tg = mean + season + rng.normal(0, 2, n)
        frames.append(
            pd.DataFrame(
                {
                    "station": station,
                    "date": dates,
                    "tx_c": tg + 5 + rng.normal(0, 1, n),
                    "tn_c": tg - 5 + rng.normal(0, 1, n),
                    "tg_c": tg,
                    "rr_mm": np.where(rng.random(n) < 0.4, rng.gamma(0.8, 8, n), 0.0),
                    "gust_ms": rng.gamma(4, 3, n),
                    "wind_dir_deg": rng.uniform(0, 360, n),
                    "coverage": 1.0,
                    "complete": True,
                }
            )[rng.random(n) > 0.01]
        )
    return pd.concat(frames, ignore_index=True)


def time_indices(days: pd.DataFrame, rows: int, summarise_s: float) -> None:
    started = time.perf_counter()
    monthly = climate_indices(days, "month")
    yearly = climate_indices(days, "year")
    indices_s = time.perf_counter() - started

    schools = days["station"].nunique()
    print(f"{schools} schools, {YEAR}: {rows:,} one-minute rows -> {len(days):,} school-days")
    if rows:
        print(f"  climate day table from rows : {summarise_s:7.2f} s  "
              f"({rows / summarise_s:,.0f} rows/s)")  # fmt: skip
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
