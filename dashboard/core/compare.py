"""Comparisons between schools: rankings, Asia vs Europe, anomalies, correlations.

Weather is compared between outdoor stations only (wire contract: indoor devices are classroom
monitors); every function here drops indoor stations first.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.core.daily import daily_summary
from dashboard.core.frames import NS_PER_S, S_PER_DAY, station_rows, time_ns
from dashboard.core.localtime import local_clock
from ingest.domain.qc import screen

# Latest reading counts as "now" if it is at most this old.
NOW_MAX_AGE = pd.Timedelta("30min")

# (category, period, source column, largest first?) for `rankings`.
_RANKED: tuple[tuple[str, str, str, bool], ...] = (
    ("hottest", "now", "temp_c", True),
    ("coldest", "now", "temp_c", False),
    ("wettest", "now", "rain_mm_1h", True),
    ("windiest", "now", "wind_gust_ms_1h", True),
    ("hottest", "today", "temp_c_max", True),
    ("coldest", "today", "temp_c_min", False),
    ("wettest", "today", "rain_mm_sum", True),
    ("windiest", "today", "wind_gust_ms_max", True),
    ("range", "today", "temp_c_range", True),
)
# Categories where only a value above zero earns a place: no school is "wettest" with 0.0 mm.
_POSITIVE_ONLY = frozenset({"wettest", "windiest"})


def outdoor(obs: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Observations of outdoor stations only."""
    keep = meta.index[meta["exposure"] == "outdoor"]
    return obs[obs["station"].isin(keep)]


def current_conditions(obs: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Per station: the latest temperature (if at most `NOW_MAX_AGE` old), and the rain total and
    highest gust of the last hour, from usable values only (`qc.screen`). Indexed by station."""
    now_ts = pd.Timestamp(now)
    recent = obs[(obs["time"] > now_ts - pd.Timedelta("1h")) & (obs["time"] <= now_ts)]
    recent = screen(recent, ["temp_c", "rain_mm", "wind_gust_ms"]).obs
    last = recent.sort_values("time").groupby("station", observed=True).last()
    fresh = last["time"] >= now_ts - NOW_MAX_AGE
    grouped = recent.groupby("station", observed=True)
    columns = {
        "temp_c": last["temp_c"].where(fresh) if "temp_c" in last else None,
        "rain_mm_1h": grouped["rain_mm"].sum(min_count=1) if "rain_mm" in recent else None,
        "wind_gust_ms_1h": grouped["wind_gust_ms"].max() if "wind_gust_ms" in recent else None,
    }
    frame = pd.DataFrame({k: v for k, v in columns.items() if v is not None}, index=last.index)
    return frame.reindex(columns=list(columns))


def today_summary(obs: pd.DataFrame, meta: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Each station's daily summary for its own local date at `now`, indexed by station.

    Coverage is not enforced here: "today" is by definition a day still being observed.
    """
    return today_rows(daily_summary(obs, meta, min_coverage=0.0), meta, now)


def today_rows(daily: pd.DataFrame, meta: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The rows of a daily summary made with no coverage minimum (from raw rows or a store's
    bins) that are each station's own local date at `now`, with `temp_c_range`; by station."""
    daily = daily.assign(temp_c_range=daily["temp_c_max"] - daily["temp_c_min"])
    rows = station_rows(daily, meta)
    now_ns = np.full(len(daily), time_ns(pd.DatetimeIndex([pd.Timestamp(now)]))[0])
    clock = local_clock(rows.codes, rows.meta, now_ns)
    today = clock.local_ns(now_ns) // (S_PER_DAY * NS_PER_S) * (S_PER_DAY * NS_PER_S)
    is_today = daily["date"].to_numpy().astype("datetime64[ns]").astype(np.int64) == today
    return daily[is_today].set_index("station")


def rankings(obs: pd.DataFrame, meta: pd.DataFrame, now: datetime, top: int = 5) -> pd.DataFrame:
    """Hottest, coldest, wettest and windiest outdoor stations now and today, and the biggest
    daily range today.

    "Now" ranks the latest temperature, the last hour's rain and highest gust; "today" ranks
    each station's local day so far (highest and lowest temperature, rain total, highest gust,
    highest minus lowest). Rain and gust rank only values above zero: a category with nothing to
    rank is empty, and the page says so. Columns: category, period, rank, station, name,
    country, value, quantity.
    """
    return rank(ranking_tables(obs, meta, now), meta, top)


def ranking_tables(
    obs: pd.DataFrame, meta: pd.DataFrame, now: datetime, days: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """What `rankings` ranks: the "now" and "today" values of each outdoor station, indexed by
    station. Each row depends on its station's observations only, so the tables of a network
    read a few stations at a time, concatenated in station order, are the whole network's.

    "Today" comes from `days` when given (a daily summary with no coverage minimum, e.g. from a
    store's bins; `obs` then needs only the last hour), else from `obs`, which then has to reach
    back to every station's local midnight."""
    weather = outdoor(obs, meta)
    if days is None:
        today = today_summary(weather, meta, now)
    else:
        today = today_rows(outdoor(days, meta), meta, now)
    return {"now": current_conditions(weather, now), "today": today}


def rank(tables: dict[str, pd.DataFrame], meta: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """`rankings` from `ranking_tables` (ties keep the tables' station order)."""
    parts = []
    for category, period, column, largest in _RANKED:
        values = tables[period][column].dropna() if column in tables[period] else pd.Series()
        if category in _POSITIVE_ONLY:
            values = values[values > 0]
        ordered = values.sort_values(ascending=not largest, kind="stable").head(top)
        parts.append(
            pd.DataFrame(
                {
                    "category": category,
                    "period": period,
                    "rank": np.arange(1, len(ordered) + 1),
                    "station": ordered.index.astype(str),
                    "value": ordered.to_numpy(np.float64),
                    "quantity": column,
                }
            )
        )
    ranked = pd.concat(parts, ignore_index=True)
    labels = meta.reindex(ranked["station"])[["name", "country"]].reset_index(drop=True)
    ranked = pd.concat([ranked, labels], axis=1)
    return ranked[["category", "period", "rank", "station", "name", "country", "value", "quantity"]]


# The leaderboard's "usual": the mean of the week before yesterday, from at least 3 of its days.
BASELINE_DAYS = 7
MIN_BASELINE_DAYS = 3


def school_table(
    obs: pd.DataFrame,
    meta: pd.DataFrame,
    now: datetime,
    baseline_days: int = BASELINE_DAYS,
    min_days: int = MIN_BASELINE_DAYS,
    known: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per outdoor school, each column with one meaning, for the leaderboard's table:

    - `now_c`: the latest usable temperature (at most `NOW_MAX_AGE` old);
    - `today_max_c`, `today_min_c`: highest and lowest so far today, the school's local day
      (the same numbers the "today" rankings use);
    - `yesterday_c`: the mean of the school's whole local yesterday (75 % coverage rule);
    - `baseline_c`: the mean of the `baseline_days` days before yesterday (at least `min_days`);
    - `anomaly_c`: yesterday minus its baseline.

    `obs` must reach back `baseline_days + 2` local days, unless `known` gives today's daily
    summary so far (no coverage minimum, e.g. from a store's bins) and the `anomaly` of the
    days before it (`temp_c_mean`, `baseline_days`, `min_days`; a caller keeping those days
    computes it once); then the last hour of `obs` is enough. Indexed by station.
    """
    weather = outdoor(obs, meta)
    columns = ["now_c", "today_max_c", "today_min_c", "yesterday_c", "baseline_c", "anomaly_c"]
    if known is None:
        if weather.empty:
            return pd.DataFrame(columns=columns)
        known = (
            daily_summary(weather, meta, min_coverage=0.0),
            anomaly(
                daily_summary(weather, meta),
                "temp_c_mean",
                baseline_days=baseline_days,
                min_days=min_days,
            ),
        )
    # Summaries of more schools than `meta` (a board's well-sited few) keep only its own.
    partial = outdoor(known[0], meta).assign(station=lambda f: f["station"].astype(str))
    departures = known[1][known[1]["station"].isin(meta.index.astype(str)).to_numpy()]
    if partial.empty:
        return pd.DataFrame(columns=columns)
    today = today_rows(partial, meta, now)
    yesterday = (today["date"] - pd.Timedelta(days=1)).rename("date").reset_index()
    yesterday = yesterday.assign(station=yesterday["station"].astype(str))
    past = yesterday.merge(departures, on=["station", "date"], how="left").set_index("station")
    stations = today.index.astype(str)
    table = pd.DataFrame(
        {
            "now_c": current_conditions(weather, now)["temp_c"].reindex(today.index).to_numpy(),
            "today_max_c": today["temp_c_max"].to_numpy(),
            "today_min_c": today["temp_c_min"].to_numpy(),
            "yesterday_c": past["value"].reindex(stations).to_numpy(),
            "baseline_c": past["baseline"].reindex(stations).to_numpy(),
            "anomaly_c": past["anomaly"].reindex(stations).to_numpy(),
        },
        index=pd.Index(stations, name="station"),
    )
    return table[columns]


def _ids(station: pd.Series) -> pd.Series | pd.Categorical:
    """Station ids as text, keeping a categorical column categorical (no million strings)."""
    if isinstance(station.dtype, pd.CategoricalDtype):
        return station.cat.rename_categories(station.cat.categories.astype(str)).array
    return station.astype(str)


def _per_row(column: pd.Series, station: pd.Series) -> np.ndarray:
    """`column` (indexed by station) for each row's station; NaN where meta has none."""
    if isinstance(station.dtype, pd.CategoricalDtype):
        per_station = column.reindex(station.cat.categories.astype(str)).to_numpy()
        return per_station[station.cat.codes.to_numpy()]
    return column.reindex(station.astype(str)).to_numpy()


def _wide(binned: pd.DataFrame, field: str) -> tuple[pd.Index, pd.Index, np.ndarray]:
    """Bins × stations matrix of `field` (NaN where a station has no value), by index arithmetic."""
    time_column = binned.columns[1]
    bin_codes, bins = pd.factorize(binned[time_column], sort=True)
    station_codes, stations = pd.factorize(_ids(binned["station"]), sort=True)
    matrix = np.full((len(bins), len(stations)), np.nan)
    matrix[bin_codes, station_codes] = binned[field].to_numpy(np.float64)
    ids = pd.Index(np.asarray(stations, dtype=object), name="station")
    return pd.Index(bins, name=time_column), ids, matrix


def _row_quantiles(matrix: np.ndarray, quantiles: tuple[float, ...]) -> list[np.ndarray]:
    """Linear-interpolated quantiles of each row ignoring NaN (numpy's default 'linear' method).

    `np.nanquantile` along an axis loops over rows in Python; sorting once puts the NaNs last and
    leaves each row's valid values in order, so every quantile is two gathers.
    """
    ordered = np.sort(matrix, axis=1)
    valid = np.sum(~np.isnan(matrix), axis=1)
    rows = np.arange(matrix.shape[0])
    result = []
    for q in quantiles:
        position = np.maximum(valid - 1, 0) * q
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(valid - 1, 0))
        low, high = ordered[rows, below], ordered[rows, above]
        result.append(np.where(valid > 0, low + (high - low) * (position - below), np.nan))
    return result


# A side's median and band stand for the side only when enough of its schools are in the bin.
REGION_MIN_SHARE = 0.5
REGION_MIN_STATIONS = 3


def region_quorum(
    n_reporting: int, min_share: float = REGION_MIN_SHARE, min_stations: int = REGION_MIN_STATIONS
) -> int:
    """How many of a side's schools must have a value in a bin for its median and band to show:
    at least `min_share` of the side's schools that report in the period, and never fewer than
    `min_stations` (the median of two schools is their mean; a band needs three).

    >>> [region_quorum(n) for n in (1, 3, 6, 7, 40)]
    [3, 3, 3, 4, 20]
    """
    return max(min_stations, int(np.ceil(min_share * n_reporting)))


def region_comparison(
    binned: pd.DataFrame,
    meta: pd.DataFrame,
    field: str = "temp_c",
    min_share: float = REGION_MIN_SHARE,
    min_stations: int = REGION_MIN_STATIONS,
) -> pd.DataFrame:
    """Asia vs Europe per time bin: median and interquartile range across each side's stations.

    `binned` is the output of `resample` (any clock). Columns: the bin column, region,
    n_stations, quorum, median, q25, q75, iqr. Bins where a region has no station with a value are
    absent; where fewer than `quorum` (`region_quorum` of the side's schools with any value) have
    one, the statistics are NaN (a gap: at the ends of a solar-time chart only one or two schools
    may have reached a bin yet).
    """
    time_column = binned.columns[1]
    is_outdoor = _per_row(meta["exposure"], binned["station"]) == "outdoor"
    weather = binned[is_outdoor & binned[field].notna().to_numpy()]
    regions = _per_row(meta["region"], weather["station"])
    # A bins × stations matrix per region: nanquantile over each row is one vectorised call.
    parts = []
    for name in ("asia", "europe"):
        side = weather[regions == name]
        if side.empty:
            continue
        bins, stations, matrix = _wide(side, field)
        n_stations = np.sum(~np.isnan(matrix), axis=1)
        quorum = region_quorum(len(stations), min_share, min_stations)
        enough = n_stations >= quorum
        q25, median, q75 = (
            np.where(enough, q, np.nan) for q in _row_quantiles(matrix, (0.25, 0.5, 0.75))
        )
        parts.append(
            pd.DataFrame(
                {
                    time_column: bins,
                    "region": name,
                    "n_stations": n_stations,
                    "quorum": quorum,
                    "median": median,
                    "q25": q25,
                    "q75": q75,
                    "iqr": q75 - q25,
                }
            )
        )
    columns = [time_column, "region", "n_stations", "quorum", "median", "q25", "q75", "iqr"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).sort_values(
        [time_column, "region"], ignore_index=True
    )


def anomaly(
    daily: pd.DataFrame,
    column: str = "temp_c_mean",
    baseline_days: int = 30,
    min_days: int = 20,
) -> pd.DataFrame:
    """Each station's departure from its own trailing baseline: the mean of `column` over the
    `baseline_days` calendar days before each date (the day itself excluded), where at least
    `min_days` of them have a value. Columns: station, date, value, baseline, anomaly.

    >>> daily = pd.DataFrame({"station": "fi-a",
    ...     "date": pd.date_range("2024-01-01", periods=4), "temp_c_mean": [1.0, 2.0, 3.0, 10.0]})
    >>> anomaly(daily, baseline_days=3, min_days=3)["anomaly"].tolist()
    [nan, nan, nan, 8.0]
    """
    if daily.empty:  # a network whose first day is today has no day to compare yet
        return pd.DataFrame(
            {
                "station": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[ns]"),
                **{name: pd.Series(dtype=np.float64) for name in ("value", "baseline", "anomaly")},
            }
        )
    wide = daily.pivot_table(index="date", columns="station", values=column, observed=True)
    # Calendar days, not rows: a station's missing days must not stretch its baseline.
    wide = wide.asfreq("D")
    baseline = wide.shift(1).rolling(baseline_days, min_periods=min_days).mean()
    long = pd.DataFrame(
        {
            "value": wide.stack(future_stack=True),
            "baseline": baseline.stack(future_stack=True),
        }
    ).reset_index()
    long = long[long["value"].notna()]
    long["anomaly"] = long["value"] - long["baseline"]
    long["station"] = long["station"].astype(str)
    return long[["station", "date", "value", "baseline", "anomaly"]].sort_values(
        ["station", "date"], ignore_index=True
    )


def correlation_matrix(
    binned: pd.DataFrame, meta: pd.DataFrame, field: str = "temp_c", min_periods: int = 24
) -> pd.DataFrame:
    """Pearson correlation of `field` between every pair of outdoor stations, over the bins both
    have (at least `min_periods` of them, else NaN). Use `resample` output on a common clock."""
    weather = binned[
        (meta["exposure"].reindex(binned["station"].astype(str)) == "outdoor").to_numpy()
    ]
    bins, stations, matrix = _wide(weather, field)
    return pd.DataFrame(matrix, index=bins, columns=stations).corr(min_periods=min_periods)
