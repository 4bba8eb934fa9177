"""What the pages show, read from the store and computed by the comparison core.

Callbacks call these functions and only format the result; every number comes from the core
(`dashboard.core`), every observation from the store interface (`ingest`). Values stay in SI units
(°C, hPa, m/s, mm); the browser's unit choice is applied when rendering. Series leave here already
downsampled (min/max-preserving) so no trace carries more than `MAX_POINTS` points.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from tsdownsample import MinMaxDownsampler

from dashboard.core import compare as core_compare
from dashboard.core import derived
from dashboard.core.bins import daily_summary_bins, hour_shifts_ms, resample_bins
from dashboard.core.resample import Clock, resample
from dashboard.core.solar import sun_times
from dashboard.privacy import coarsen
from dashboard.viewcache import ViewCache
from ingest import Store

MAX_POINTS: Final = 2000
# The stores' bin width (ingest/rollup.py); every page reading longer than a day reads bins.
BIN: Final = "15min"
BIN_MS: Final = 15 * 60 * 1000
HOUR_MS: Final = 3600 * 1000
Hours = Literal["utc", "local"] | None
MAX_NAMED_STATIONS: Final = 200
# Network-wide views read their bins this many stations at a time (bounded memory).
STATIONS_PER_READ: Final = MAX_NAMED_STATIONS
# A station that sent nothing for this long is shown as late, then as offline.
STALE_AFTER: Final = timedelta(minutes=15)
OFFLINE_AFTER: Final = timedelta(hours=1)
PERIODS: Final[dict[str, timedelta]] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
# Bin width per period: fine enough to show the daily cycle, coarse enough to stay fast.
PERIOD_BIN: Final[dict[str, str]] = {"day": "1min", "week": "5min", "month": "30min"}
# Periods whose bins are unions of the store's 15-minute bins: read those, not raw rows.
BINNED_PERIODS: Final = ("month",)
WEATHER_VARIABLES: Final = (
    "temp_c",
    "feels_c",
    "rh_pct",
    "slp_hpa",
    "wind_speed_ms",
    "wind_gust_ms",
    "rain_mm",
    "light_lux",
    "uv_index",
)
INDOOR_VARIABLES: Final = ("co2_ppm", "temp_c", "rh_pct", "pm2_5_ugm3")
# Contract fields each shown quantity is computed from.
SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "feels_c": ("temp_c", "rh_pct", "wind_speed_ms"),
    "slp_hpa": ("pressure_hpa", "temp_c"),
}
DAILY_FIELDS: Final = ("rain_mm", "temp_c")
NOW_FIELDS: Final = (
    "temp_c",
    "rh_pct",
    "pressure_hpa",
    "wind_speed_ms",
    "wind_gust_ms",
    "wind_dir_deg",
    "rain_mm",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Data:
    """The store a dashboard process reads, and the coordinator's stations.toml (if any)."""

    store: Store
    stations_path: Path | None = None
    # The registry changes on a time scale of minutes; one read serves the callbacks of a page
    # update (several in the same second) instead of one read each.
    registry_ttl_s: float = 2.0
    _cached: dict[str, tuple[float, pd.DataFrame]] = field(default_factory=dict, compare=False)
    # Network-wide views: one computation at a time, shared by every tab (dashboard/viewcache.py).
    views: ViewCache = field(default_factory=ViewCache, compare=False)

    def _stations(self) -> pd.DataFrame:
        hit = self._cached.get("stations")
        if hit is not None and time.monotonic() - hit[0] < self.registry_ttl_s:
            return hit[1]
        frame = self.store.stations(self.stations_path)
        self._cached["stations"] = (time.monotonic(), frame)
        return frame

    # -- stations ---------------------------------------------------------------------------
    def registry(self, now: datetime | None = None) -> pd.DataFrame:
        """Stations the core can place (position and time zone known), positions coarsened for
        the public, with `status` online / stale / offline."""
        frame = self._stations()
        frame = frame[frame["lat"].notna() & frame["lon"].notna() & frame["timezone"].notna()]
        frame = coarsen(frame)
        now = now or utcnow()
        age = pd.Timestamp(now) - frame["last_seen"]
        status = np.where(
            (frame["state"] == "offline") | age.isna() | (age > OFFLINE_AFTER),
            "offline",
            np.where(age > STALE_AFTER, "stale", "online"),
        )
        return frame.assign(status=status)

    def version(self) -> dict[str, int]:
        """When each station last delivered something (Unix ms; cheap: registry only). A page
        recomputes only when this changed for a station it shows."""
        seen = self._stations()["last_seen"].dropna()
        return {str(s): int(t.value // 1_000_000) for s, t in seen.items()}

    def _read(
        self, start: datetime, end: datetime, stations: Sequence[str] | None, fields: Sequence[str]
    ) -> pd.DataFrame:
        return self.store.read(start, end, stations=stations, fields=sorted(set(fields)))

    # -- map and now cards ------------------------------------------------------------------
    def latest(
        self, variable: str, now: datetime | None = None, exposure: str = "outdoor"
    ) -> pd.DataFrame:
        """Every placed station with its latest value of `variable` from the last hour."""
        now = now or utcnow()
        reg = self.registry(now)
        reg = reg[reg["exposure"] == exposure]
        fields = SOURCES.get(variable, (variable,))
        last = self.store.latest(now - OFFLINE_AFTER, now + timedelta(minutes=1), fields)
        last = last[last.index.isin(reg.index)]
        values = _quantity(variable, last, reg.reindex(last.index))
        return reg.assign(value=pd.Series(values, index=last.index).reindex(reg.index))

    def now_cards(
        self, stations: Sequence[str], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Per selected station: the latest readings, feels-like, sea-level pressure, wind
        compass point, rain since local midnight, local time, sunrise and sunset."""
        now = now or utcnow()
        reg = self.registry(now)
        chosen = [s for s in stations if s in reg.index]
        if not chosen:
            return []
        meta = reg.loc[chosen]
        obs = self._read(now - timedelta(hours=26), now + timedelta(minutes=1), chosen, NOW_FIELDS)
        last = obs.groupby("station", sort=False).last().reindex(chosen)
        today = (
            core_compare.today_summary(obs, meta, now)
            if len(obs)
            else pd.DataFrame(columns=["rain_mm_sum"])
        )
        local_dates = pd.DatetimeIndex(
            [pd.Timestamp(now).tz_convert(tz).tz_localize(None).normalize() for tz in meta.timezone]
        )
        sun = sun_times(local_dates, meta["lat"].to_numpy(), meta["lon"].to_numpy())
        compass = derived.compass_point(last["wind_dir_deg"].to_numpy())
        cards = []
        for i, station in enumerate(chosen):
            row = last.loc[station]
            zone = ZoneInfo(str(meta.at[station, "timezone"]))
            cards.append(
                {
                    "station": station,
                    "name": str(meta.at[station, "name"]),
                    "country": str(meta.at[station, "country"]),
                    "status": str(meta.at[station, "status"]),
                    "temp_c": _f(row["temp_c"]),
                    "feels_c": _f(_quantity("feels_c", last.iloc[[i]], meta.iloc[[i]])[0]),
                    "rh_pct": _f(row["rh_pct"]),
                    "slp_hpa": _f(_quantity("slp_hpa", last.iloc[[i]], meta.iloc[[i]])[0]),
                    "wind_speed_ms": _f(row["wind_speed_ms"]),
                    "wind_compass": None if pd.isna(compass[i]) else str(compass[i]),
                    "rain_today": _f(today["rain_mm_sum"].get(station, np.nan)),
                    "local_time": now.astimezone(zone).strftime("%H:%M"),
                    "sunrise": _clock(sun["sunrise"].iloc[i], zone),
                    "sunset": _clock(sun["sunset"].iloc[i], zone),
                    "last_seen": _iso(meta.at[station, "last_seen"]),
                }
            )
        return cards

    # -- compare ----------------------------------------------------------------------------
    def compare(
        self,
        stations: Sequence[str],
        variable: str,
        period: str,
        clock: Clock,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Series of `variable` for `stations` over `period`, binned by the core on `clock`,
        at most MAX_POINTS per station. JSON-ready for a dcc.Store."""
        now = now or utcnow()
        chosen, meta = self._outdoor(stations, now)
        out: dict[str, Any] = {"variable": variable, "period": period, "clock": clock}
        out["series"] = []
        if not chosen:
            return out
        fields = sorted(SOURCES.get(variable, (variable,)))
        if period in BINNED_PERIODS:
            bins = store_bins(self.store, now - PERIODS[period], now, meta, fields)
            if bins.empty:
                return out
            binned = resample_bins(bins, meta, PERIOD_BIN[period], clock, fields=fields)
        else:
            obs = self._read(now - PERIODS[period], now + timedelta(minutes=1), chosen, fields)
            if obs.empty:
                return out
            binned = resample(obs, meta, PERIOD_BIN[period], clock, fields=fields)
        x_column = binned.columns[1]
        values = _quantity(variable, binned, meta.reindex(binned["station"].astype(str)))
        for station in chosen:
            mask = (binned["station"].astype(str) == station).to_numpy() & np.isfinite(values)
            x = binned.loc[mask, x_column]
            x_ns = pd.DatetimeIndex(x).as_unit("ns").asi8
            y = values[mask]
            if y.size > MAX_POINTS:
                # Each of MAX_POINTS/2 equal-width bins keeps its lowest and highest point, so peaks
                # and dips (the numbers students compare) survive.
                keep = MinMaxDownsampler().downsample(x_ns, y, n_out=MAX_POINTS - MAX_POINTS % 2)
                x_ns, y = x_ns[keep], y[keep]
            out["series"].append(
                {
                    "station": station,
                    "name": str(meta.at[station, "name"]),
                    "x": _iso_list(x_ns, utc=clock == "utc"),
                    "y": np.round(y, 3).tolist(),
                }
            )
        return out

    def daily(
        self, stations: Sequence[str], days: int = 7, now: datetime | None = None
    ) -> dict[str, Any]:
        """Lowest and highest temperature and rain per local day for `stations`, over the last
        `days` (whatever the chart shows: bars need days to compare)."""
        now = now or utcnow()
        chosen, meta = self._outdoor(stations, now)
        out: dict[str, Any] = {"daily": []}
        if not chosen:
            return out
        bins = store_bins(
            self.store, now - timedelta(days=days), now, meta, DAILY_FIELDS, hours="local"
        )
        if bins.empty:
            return out
        daily = daily_summary_bins(bins, meta, min_coverage=0.0)
        for station in chosen:
            rows = daily[daily["station"].astype(str) == station]
            out["daily"].append(
                {
                    "station": station,
                    "name": str(meta.at[station, "name"]),
                    "date": rows["date"].dt.strftime("%Y-%m-%d").tolist(),
                    "min": _list(rows["temp_c_min"]),
                    "max": _list(rows["temp_c_max"]),
                    "rain": _list(rows["rain_mm_sum"]),
                }
            )
        return out

    def _outdoor(self, stations: Sequence[str], now: datetime) -> tuple[list[str], pd.DataFrame]:
        """The weather stations among `stations` (classroom monitors never compare), placed."""
        reg = self.registry(now)
        chosen = [s for s in stations if s in reg.index and reg.at[s, "exposure"] == "outdoor"]
        return chosen, reg.loc[chosen]

    # -- Asia vs Europe ---------------------------------------------------------------------
    def regions(
        self, variable: str, period: str, clock: Clock, now: datetime | None = None
    ) -> dict[str, Any]:
        """Hourly median and interquartile band of `variable` for each side (outdoor stations)."""
        if now is None:
            return dict(
                self.views.get(
                    ("regions", variable, period, clock),
                    lambda: self._regions(variable, period, clock, utcnow()),
                )
            )
        return self._regions(variable, period, clock, now)

    def _regions(self, variable: str, period: str, clock: Clock, now: datetime) -> dict[str, Any]:
        reg = self.registry(now)
        meta = reg[reg["exposure"] == "outdoor"]
        field = variable if variable in ("temp_c", "rh_pct", "wind_speed_ms", "rain_mm") else None
        out: dict[str, Any] = {"variable": variable, "period": period, "clock": clock, "sides": []}
        if field is None or meta.empty:
            return out
        # Hours on the UTC or the local clock come out of the store whole; solar hours are
        # made of 15-minute bins (see dashboard/core/bins.py).
        hours: Hours = clock if clock in ("utc", "local") else None
        # A few hundred schools at a time, each group reduced to its hours before the next is
        # read: memory holds one group's bins, not a month of the network's.
        parts = []
        for first in range(0, len(meta), STATIONS_PER_READ):
            group = meta.iloc[first : first + STATIONS_PER_READ]
            bins = store_bins(self.store, now - PERIODS[period], now, group, [field], hours)
            if not bins.empty:
                parts.append(resample_bins(bins, group, "1h", clock, fields=[field]))
        if not parts:
            return out
        binned = pd.concat(parts, ignore_index=True)
        binned["station"] = pd.Categorical(binned["station"].astype(str))
        table = core_compare.region_comparison(binned, meta, field)
        x_column = table.columns[0]
        for side in ("asia", "europe"):
            rows = table[table["region"] == side]
            x_ns = pd.DatetimeIndex(rows[x_column]).as_unit("ns").asi8
            out["sides"].append(
                {
                    "region": side,
                    "x": _iso_list(x_ns, utc=clock == "utc"),
                    "median": _list(rows["median"]),
                    "q25": _list(rows["q25"]),
                    "q75": _list(rows["q75"]),
                    "n": rows["n_stations"].astype(int).tolist(),
                }
            )
        return out

    # -- leaderboard ------------------------------------------------------------------------
    def leaderboard(self, now: datetime | None = None, top: int = 5) -> dict[str, Any]:
        """Today's rankings per category (each school's own local day) and temperature anomaly
        against the school's own last week."""
        if now is None:
            return dict(
                self.views.get(("leaderboard", top), lambda: self._leaderboard(utcnow(), top))
            )
        return self._leaderboard(now, top)

    def _leaderboard(self, now: datetime, top: int) -> dict[str, Any]:
        reg = self.registry(now)
        meta = reg[reg["exposure"] == "outdoor"]
        out: dict[str, Any] = {"categories": {}, "anomaly": []}
        if meta.empty:
            return out
        fields = ["temp_c", "rain_mm", "wind_gust_ms"]
        bins = store_bins(self.store, now - timedelta(days=8), now, meta, fields, hours="local")
        if bins.empty:
            return out
        meta = meta[meta.index.isin(bins["station"].unique())]
        # Raw rows for the last hour only ("now": latest reading, rain and gust of the hour).
        recent = self._read(
            now - timedelta(hours=1), now + timedelta(minutes=1), _named(meta), fields
        )
        recent = recent[recent["station"].isin(meta.index)]
        today = core_compare.today_rows(daily_summary_bins(bins, meta, min_coverage=0.0), meta, now)
        ranked = core_compare.rankings(recent, meta, now, top=top, today=today)
        ranked_today = ranked[ranked["period"] == "today"]
        for category in ("hottest", "coldest", "wettest", "windiest"):
            rows = ranked_today[ranked_today["category"] == category]
            out["categories"][category] = _ranking_rows(rows, meta)
        out["categories"]["range"] = _ranking_rows(_range_ranking(today, meta, top), meta)
        daily = daily_summary_bins(bins, meta, min_coverage=0.5)
        anomalies = core_compare.anomaly(daily, "temp_c_mean", baseline_days=7, min_days=3)
        latest = anomalies.dropna(subset=["anomaly"]).groupby("station").last()
        latest = latest.sort_values("anomaly", ascending=False)
        out["anomaly"] = [
            {
                "station": str(station),
                "name": str(meta.at[station, "name"]) if station in meta.index else str(station),
                "value": _f(row["value"]),
                "baseline": _f(row["baseline"]),
                "anomaly": _f(row["anomaly"]),
            }
            for station, row in latest.iterrows()
        ]
        return out

    # -- classrooms -------------------------------------------------------------------------
    def classrooms(self, now: datetime | None = None) -> dict[str, Any]:
        """Indoor monitors over the last day, binned by the core on each school's clock."""
        now = now or utcnow()
        reg = self.registry(now)
        meta = reg[reg["exposure"] == "indoor"]
        out: dict[str, Any] = {"rooms": []}
        if meta.empty:
            return out
        obs = self._read(now - timedelta(days=1), now, list(meta.index), INDOOR_VARIABLES)
        if obs.empty:
            return out
        binned = resample(obs, meta, "5min", "local", fields=list(INDOOR_VARIABLES))
        for station in meta.index:
            rows = binned[binned["station"].astype(str) == station]
            if rows.empty:
                continue
            x_ns = pd.DatetimeIndex(rows["local_time"]).as_unit("ns").asi8
            out["rooms"].append(
                {
                    "station": station,
                    "name": str(meta.at[station, "name"]),
                    "x": _iso_list(x_ns, utc=False),
                    **{f: _list(rows[f]) for f in INDOOR_VARIABLES if f in rows},
                }
            )
        return out

    # -- stations (teachers) ----------------------------------------------------------------
    def station_health(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        reg = self.registry(now)
        rows = [
            {
                "station": str(station),
                "name": str(row["name"]),
                "exposure": str(row["exposure"]),
                "status": str(row["status"]),
                "last_seen": _iso(row["last_seen"]),
                "battery_v": _f(row["battery_v"]),
                "rssi_dbm": _f(row["rssi_dbm"]),
                "firmware": None if pd.isna(row["firmware"]) else str(row["firmware"]),
            }
            for station, row in reg.iterrows()
        ]
        counts = self.store.reject_counts(start=now - timedelta(days=7))
        rejects = [
            {"station": str(r.station), "reason": str(r.reason), "count": int(r.count)}
            for r in counts.itertuples(index=False)
        ]
        letters = self.store.rejects(limit=20)
        recent = [
            {
                "time": _iso(r["time"]),
                "station": str(r["station"]),
                "reason": str(r["reason"]),
                "detail": str(r["detail"]),
            }
            for _, r in letters.iterrows()
        ]
        return {"stations": rows, "rejects": rejects, "recent": recent}


def store_bins(
    store: Store,
    start: datetime,
    end: datetime,
    meta: pd.DataFrame,
    fields: Sequence[str],
    hours: Hours = None,
) -> pd.DataFrame:
    """The store's bins for the stations of `meta` from the 15-minute bin holding `start` up to
    `end` (the bin holding `end` included unless `end` starts it).

    `hours`: None reads the 15-minute bins; "utc" whole UTC hours; "local" each school's local
    hours (their start shifted from the UTC hour by 0, 15, 30 or 45 minutes), out of which
    local days are made too: a quarter of the rows. Schools whose hours move by other than
    whole hours (Lord Howe Island) keep 15-minute bins.
    """
    first = pd.Timestamp(start).floor(BIN)
    last = pd.Timestamp(end).ceil(BIN)
    fields = sorted(set(fields))
    if hours is None:
        return _bins_of(store, first, last, meta, fields, BIN_MS, 0)
    if hours == "utc":
        shifts = pd.Series(0.0, index=meta.index)
    else:
        shifts = hour_shifts_ms(meta, first.value, last.value)
    parts = [
        _bins_of(store, first, last, group, fields, BIN_MS, 0)
        if shift < 0
        else _bins_of(store, first, last, group, fields, HOUR_MS, int(shift))
        for shift, group in meta.groupby(shifts.fillna(-1.0).to_numpy())
    ]
    if not parts:
        return _bins_of(store, first, last, meta, fields, BIN_MS, 0)
    return pd.concat(parts, ignore_index=True).sort_values(
        ["station", "time"], kind="stable", ignore_index=True
    )


def _bins_of(
    store: Store,
    first: pd.Timestamp,
    last: pd.Timestamp,
    meta: pd.DataFrame,
    fields: list[str],
    width_ms: int,
    shift_ms: int,
) -> pd.DataFrame:
    # Naming every station would make a query as long as the network (10,000 names); beyond a
    # few hundred the store returns all and the rows not wanted are dropped here.
    named = _named(meta)
    bins = store.read_bins(
        first.to_pydatetime(), last.to_pydatetime(), named, fields, width_ms, shift_ms
    )
    if named is None:
        bins = bins[bins["station"].isin(meta.index)].reset_index(drop=True)
    return bins


def _named(meta: pd.DataFrame) -> list[str] | None:
    """Stations to name in a raw read, or None (all) when naming them would be longer than
    reading every station's rows and dropping the others."""
    return list(meta.index) if len(meta) <= MAX_NAMED_STATIONS else None


def _quantity(variable: str, frame: pd.DataFrame, meta: pd.DataFrame) -> np.ndarray:
    """Values of a shown quantity: a contract field, or one the core derives from fields."""
    if variable == "feels_c":
        return derived.apparent_temp_c(frame["temp_c"], frame["rh_pct"], frame["wind_speed_ms"])
    if variable == "slp_hpa":
        return derived.sea_level_pressure_hpa(
            frame["pressure_hpa"], frame["temp_c"], meta["elevation_m"].fillna(0.0).to_numpy()
        )
    if variable not in frame:
        return np.full(len(frame), np.nan)
    return frame[variable].to_numpy(np.float64)


def _range_ranking(today: pd.DataFrame, meta: pd.DataFrame, top: int) -> pd.DataFrame:
    # Adapter until the core ranks the daily range itself: the core's own today max and min.
    spread = (today["temp_c_max"] - today["temp_c_min"]).dropna()
    ordered = spread.sort_values(ascending=False, kind="stable").head(top)
    return pd.DataFrame(
        {"station": ordered.index.astype(str), "value": ordered.to_numpy(), "quantity": "range_c"}
    )


def _ranking_rows(rows: pd.DataFrame, meta: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "station": str(r["station"]),
            "name": str(meta.at[r["station"], "name"]) if r["station"] in meta.index else "",
            "value": _f(r["value"]),
            "quantity": str(r["quantity"]),
        }
        for _, r in rows.iterrows()
    ]


def _f(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _list(series: pd.Series) -> list[float | None]:
    values = np.round(series.to_numpy(np.float64), 3)
    return [None if not np.isfinite(v) else float(v) for v in values]


def _iso(moment: Any) -> str | None:
    return None if moment is None or pd.isna(moment) else pd.Timestamp(moment).isoformat()


def _iso_list(t_ns: np.ndarray, utc: bool) -> list[str]:
    # Naive ISO strings: local and solar clocks have no zone, and plotly treats all alike.
    text = np.datetime_as_string(t_ns.astype("datetime64[ns]"), unit="s")
    return text.tolist()


def _clock(moment: Any, zone: ZoneInfo) -> str | None:
    if moment is None or pd.isna(moment):
        return None
    return pd.Timestamp(moment).tz_convert(zone).strftime("%H:%M")
