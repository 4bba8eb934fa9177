"""What the pages show, read from the store and computed by the comparison core.

Callbacks call these functions and only format the result; every number comes from the core
(`dashboard.core`), every observation from the store interface (`ingest`). Values stay in SI units
(°C, hPa, m/s, mm); the browser's unit choice is applied when rendering. Series leave here already
downsampled (min/max-preserving) so no trace carries more than `MAX_POINTS` points.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from tsdownsample import MinMaxDownsampler

from dashboard.core import compare as core_compare
from dashboard.core import derived
from dashboard.core.bins import daily_summary_bins, resample_bins
from dashboard.core.calibration import apply_corrections
from dashboard.core.daily import daily_summary
from dashboard.core.resample import Clock, flagged_readings, resample
from dashboard.core.siting import siting_class, siting_view
from dashboard.core.solar import sun_times
from dashboard.hourly import HourKeepers, kept_hourly
from dashboard.kept_days import DayKeeper, KeptDays, dates_today
from dashboard.privacy import coarsen
from dashboard.reads import split_reads
from dashboard.viewcache import ViewCache
from ingest import Store, StoreError
from ingest.base import KeepsBins
from ingest.domain.calibration import Correction, load_corrections
from ingest.domain.siting import Siting

log = logging.getLogger("classnet.dashboard")

MAX_POINTS: Final = 2000
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
WEATHER_VARIABLES: Final = (
    "temp_c",
    "apparent_temp_c",
    "rh_pct",
    "sea_level_pressure_hpa",
    "wind_speed_ms",
    "wind_gust_ms",
    "rain_mm",
    "light_lux",
    "uv_index",
)
INDOOR_VARIABLES: Final = ("co2_ppm", "temp_c", "rh_pct", "pm2_5_ugm3")
# Contract fields each shown quantity is computed from (the core's registry of derived ones).
SOURCES: Final[dict[str, tuple[str, ...]]] = {
    name: quantity.sources for name, quantity in derived.DERIVED.items()
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
    _cached: dict[str, tuple[float, Any]] = field(default_factory=dict, compare=False)
    _last_state: dict[str, str] = field(default_factory=dict, compare=False)
    # Network-wide views: one computation at a time, shared by every tab (dashboard/viewcache.py).
    views: ViewCache = field(default_factory=ViewCache, compare=False)
    # The leaderboard's days before today: yesterday and the week before it, and a day's margin.
    # Asia vs Europe's hours of the days before today, per field and clock (dashboard/hourly.py).
    hour_days: HourKeepers = field(default_factory=HourKeepers, compare=False)
    recent_days: DayKeeper = field(
        default_factory=lambda: DayKeeper(back=9, with_records=False), compare=False
    )
    # Yesterday against the week before it, per school: computed once per version of those days.
    _departures: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(
        default_factory=dict, compare=False
    )

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

    def store_state(self) -> str | None:
        """ "down" when the store cannot be read, "empty" when no station has delivered anything
        yet, None when there is something to show. Logs once when the state changes (the
        callbacks that fail meanwhile stay quiet: see `dashboard.app.on_error`)."""
        try:
            frame = self._stations()
            state = None if frame["last_seen"].notna().any() else "empty"
        except StoreError as exc:
            state, why = "down", str(exc)
        else:
            why = "no station has delivered anything yet" if state else "readable again"
        if self._last_state.get("store", "ok") != (state or "ok"):
            self._last_state["store"] = state or "ok"
            log.log(logging.WARNING if state else logging.INFO, "store %s: %s", self.store.url, why)
        return state

    def version(self) -> dict[str, int]:
        """When each station last delivered something (Unix ms; cheap: registry only). A page
        recomputes only when this changed for a station it shows.

        Read from the same cached registry the pages compute from: a version newer than the
        registry a page used would mark that page current while it still showed the older data
        (a station "never" seen, for good, when its reading landed inside the cache's window)."""
        seen = self._stations()["last_seen"].dropna()
        return {str(s): int(t.value // 1_000_000) for s, t in seen.items()}

    def _view(self, key: tuple[Any, ...], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A network-wide view (every school) for the browsers asking now: computed once for all
        of them (dashboard/viewcache.py), and again when a station has delivered since or the
        live tick's period has passed (the clock moves "today" and "online" on)."""
        latest = self._stations()["last_seen"].max()
        return dict(self.views.get((*key, latest), compute))

    def corrections(self) -> list[Correction]:
        """The calibrations in stations.toml (read with the registry, as often)."""
        hit = self._cached.get("corrections")
        if hit is not None and time.monotonic() - hit[0] < self.registry_ttl_s:
            return list(hit[1])
        found = load_corrections(self.stations_path)
        self._cached["corrections"] = (time.monotonic(), found)
        return found

    def siting(self) -> dict[str, Siting]:
        """How each station is sited: its meta and stations.toml, merged in the registry."""
        return {
            str(station): found
            for station, found in self._stations()["siting"].items()
            if isinstance(found, Siting)
        }

    def _read(
        self, start: datetime, end: datetime, stations: Sequence[str] | None, fields: Sequence[str]
    ) -> pd.DataFrame:
        # Calibrations are applied here, on the way out of the store: what is stored stays raw.
        obs = self.store.read(start, end, stations=stations, fields=sorted(set(fields)))
        return apply_corrections(obs, self.corrections())

    def _read_recent(
        self, start: datetime, end: datetime, stations: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        """`_read` of a window asked for on every refresh, from a store that keeps bins."""
        assert isinstance(self.store, KeepsBins)  # chunks of `_by_bins`: only on such a store
        obs = self.store.read_recent(start, end, stations, sorted(set(fields)))
        return apply_corrections(obs, self.corrections())

    def _by_bins(
        self, stations: Sequence[str], fields: Sequence[str], start: datetime, end: datetime
    ) -> tuple[list[list[str]], list[list[str]]]:
        calibrated = {c.station for c in self.corrections() if c.field in fields}
        return split_reads(self.store, stations, calibrated, start, end, len(set(fields)))

    def _bins(
        self, start: datetime, end: datetime, stations: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        assert isinstance(self.store, KeepsBins)
        return self.store.read_bins(start, end, stations=stations, fields=sorted(set(fields)))

    # -- map and now cards ------------------------------------------------------------------
    def latest(
        self, variable: str, now: datetime | None = None, exposure: str = "outdoor"
    ) -> pd.DataFrame:
        """Every placed station with its latest value of `variable` from the last hour."""
        now = now or utcnow()
        reg = self.registry(now)
        reg = reg[reg["exposure"] == exposure]
        fields = SOURCES.get(variable, (variable,))
        start, end = now - OFFLINE_AFTER, now + timedelta(minutes=1)
        # The store picks each school's latest values; a calibrated school's need its readings'
        # times (the calibration in force then), so those few are read as rows.
        calibrated = sorted({c.station for c in self.corrections() if c.field in fields})
        last = self.store.latest(start, end, fields)
        last = last[last.index.isin(reg.index) & ~last.index.isin(calibrated)]
        mine = [s for s in calibrated if s in reg.index]
        if mine:
            rows = self._read(start, end, mine, fields).groupby("station", sort=False).last()
            last = pd.concat([last, rows[list(fields)]]) if len(rows) else last
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
        sun = sun_times(
            local_dates, meta["lat"].to_numpy(), meta["lon"].to_numpy(), list(meta["timezone"])
        )
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
                    "apparent_temp_c": _f(
                        _quantity("apparent_temp_c", last.iloc[[i]], meta.iloc[[i]])[0]
                    ),
                    "rh_pct": _f(row["rh_pct"]),
                    "sea_level_pressure_hpa": _f(
                        _quantity("sea_level_pressure_hpa", last.iloc[[i]], meta.iloc[[i]])[0]
                    ),
                    "wind_speed_ms": _f(row["wind_speed_ms"]),
                    "wind_compass": None if pd.isna(compass[i]) else str(compass[i]),
                    "rain_today": _f(today["rain_mm_sum"].get(station, np.nan)),
                    "local_time": now.astimezone(zone).strftime("%H:%M"),
                    "sunrise": _clock(sun["sunrise"].iloc[i], zone),
                    "sunset": _clock(sun["sunset"].iloc[i], zone),
                    "sun_up_all_day": bool(sun["up_all_day"].iloc[i]),
                    "sun_down_all_day": bool(sun["down_all_day"].iloc[i]),
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
        well_sited: bool = False,
    ) -> dict[str, Any]:
        """Series of `variable` for `stations` over `period`, binned by the core on `clock`,
        at most MAX_POINTS per station. JSON-ready for a dcc.Store. With `well_sited`, only
        stations of WMO siting class 1–3 for `variable`; `left_out` names the others, `notes`
        says when the comparison mixes sitings (`dashboard.core.siting`)."""
        now = now or utcnow()
        chosen, meta = self._outdoor(stations, now)
        view = siting_view(chosen, self.siting(), variable, well_sited)
        chosen, meta = view.kept, meta.loc[view.kept]
        out: dict[str, Any] = {"variable": variable, "period": period, "clock": clock}
        out["left_out"], out["notes"] = view.left_out, view.notes
        out["series"] = []
        if not chosen:
            return out
        fields = sorted(SOURCES.get(variable, (variable,)))
        obs = self._read(now - PERIODS[period], now + timedelta(minutes=1), chosen, fields)
        if obs.empty:
            return out
        binned = resample(obs, meta, PERIOD_BIN[period], clock, fields=fields)
        x_column = binned.columns[1]
        values = _quantity(variable, binned, meta.reindex(binned["station"].astype(str)))
        # Readings QC set aside, at their raw value, for the chart to mark (they are not in the
        # line: every bin is an aggregate of usable values only).
        aside = flagged_readings(obs, meta, clock, fields)
        aside_values = _quantity(variable, aside, meta.reindex(aside["station"].astype(str)))
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
            mine = (aside["station"].astype(str) == station).to_numpy() & np.isfinite(aside_values)
            out["series"].append(
                {
                    "station": station,
                    "name": str(meta.at[station, "name"]),
                    "x": _iso_list(x_ns, utc=clock == "utc"),
                    "y": np.round(y, 3).tolist(),
                    "flagged": {
                        "x": _iso_list(aside["clock_ns"].to_numpy()[mine], utc=clock == "utc"),
                        "y": np.round(aside_values[mine], 3).tolist(),
                        "why": aside["why"].to_numpy()[mine].tolist(),
                    },
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
        start = now - timedelta(days=days)
        obs = self._read(start, now + timedelta(minutes=1), chosen, DAILY_FIELDS)
        if obs.empty:
            return out
        daily = daily_summary(obs, meta, min_coverage=0.0)
        aside = {field: _aside_by_day(obs, meta, field) for field in DAILY_FIELDS}
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
                    "flagged": rows["n_flagged"].astype(int).tolist(),
                    "aside": {field: days.get(station, _NO_ASIDE) for field, days in aside.items()},
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
        self,
        variable: str,
        period: str,
        clock: Clock,
        now: datetime | None = None,
        well_sited: bool = False,
    ) -> dict[str, Any]:
        """Hourly median and interquartile band of `variable` for each side (outdoor stations;
        with `well_sited`, only those of siting class 1–3 for it: `left_out` names the others,
        `notes` says when the sides mix sitings)."""
        if now is None:
            key = ("regions", variable, period, clock, well_sited)
            return dict(
                self.views.get(
                    key, lambda: self._regions(variable, period, clock, utcnow(), well_sited)
                )
            )
        return self._regions(variable, period, clock, now, well_sited)

    def _regions(
        self, variable: str, period: str, clock: Clock, now: datetime, well_sited: bool
    ) -> dict[str, Any]:
        reg = self.registry(now)
        meta = reg[reg["exposure"] == "outdoor"]
        field = variable if variable in ("temp_c", "rh_pct", "wind_speed_ms", "rain_mm") else None
        out: dict[str, Any] = {"variable": variable, "period": period, "clock": clock, "sides": []}
        if field is None or meta.empty:
            return out
        view = siting_view(list(meta.index), self.siting(), field, well_sited)
        meta = meta.loc[view.kept]
        out["left_out"], out["notes"] = view.left_out, view.notes
        if meta.empty:
            return out
        binned = self._hourly(now - PERIODS[period], now, meta, field, clock)
        if binned.empty:
            return out
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
                    "quorum": int(rows["quorum"].max()) if len(rows) else None,
                }
            )
        return out

    def _hourly(
        self, start: datetime, end: datetime, meta: pd.DataFrame, field: str, clock: Clock
    ) -> pd.DataFrame:
        """Hourly bins of `field` for the stations of `meta`, read and binned a few stations at a
        time (`reads.split_reads`): a month of 500 schools is 21.6 M raw rows (8 GB as one frame,
        issue #17) but 360,000 bins. The same bins as all at once: QC and binning are per
        station."""
        start = pd.Timestamp(start).floor("15min").to_pydatetime()
        parts = []
        groups, raw = self._by_bins(list(meta.index), [field], start, end)
        binned = meta.loc[[s for chunk in groups for s in chunk]]
        kept = (
            kept_hourly(self.store, self.hour_days, start, end, binned, field, clock)
            if groups
            else None
        )
        if kept is not None:
            parts.append(kept)
        else:
            for chunk in groups:
                bins = self._bins(start, end, chunk, [field])
                if not bins.empty:
                    parts.append(resample_bins(bins, meta.loc[chunk], "1h", clock, fields=[field]))
        for chunk in raw:
            obs = self._read(start, end, chunk, [field])
            if not obs.empty:
                parts.append(resample(obs, meta.loc[chunk], "1h", clock, fields=[field]))
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame()
        hours = pd.concat(parts, ignore_index=True)
        # By codes, not a lookup per row (a month of 500 schools is 360,000 hours).
        codes, names = pd.factorize(hours["station"].astype(str))
        position = meta.index.get_indexer(pd.Index(names))
        hours["station"] = pd.Categorical.from_codes(position[codes], categories=meta.index)
        return hours

    # -- leaderboard ------------------------------------------------------------------------
    def leaderboard(
        self, now: datetime | None = None, top: int = 5, well_sited: bool = False
    ) -> dict[str, Any]:
        """Today's rankings per category (each school's own local day so far) and, per school,
        the table's columns (`core.compare.school_table`): now, highest and lowest so far today,
        yesterday's mean against the usual. A card's value and the table's for the same school
        are the same number. With `well_sited`, a temperature board and the table keep only
        schools of temperature siting class 1–3, the wind board those of wind class 1–3
        (`left_out`: every school some board left out); `notes` says when the wind board mixes
        roof and ground anemometers."""
        if now is None:
            key = ("leaderboard", top, well_sited)
            return self._view(key, lambda: self._leaderboard(utcnow(), top, well_sited))
        return self._leaderboard(now, top, well_sited)

    def _leaderboard(self, now: datetime, top: int, well_sited: bool) -> dict[str, Any]:
        reg = self.registry(now)
        meta = reg[reg["exposure"] == "outdoor"]
        out: dict[str, Any] = {
            "categories": {},
            "anomaly": [],
            "left_out": [],
            "notes": [],
            "filtered": [],  # boards the well-sited filter took schools from
        }
        if meta.empty:
            return out
        sited, everyone = self.siting(), list(meta.index)
        kept = {f: siting_view(everyone, sited, f, well_sited) for f in _BOARD_FIELD.values()}
        out["left_out"] = sorted({s for view in kept.values() for s in view.left_out})
        temp_kept = kept["temp_c"].kept
        tables, table = self._board_tables(now, meta, temp_kept)
        if table is None:
            return out
        # Ranked in full, then each board keeps its own well-sited schools before its top few.
        ranked = core_compare.rank(tables, meta, top=len(meta))
        today = ranked[ranked["period"] == "today"]
        for category, quantity in _BOARD_FIELD.items():
            rows = today[today["category"] == category]
            rows = rows[rows["station"].isin(kept[quantity].kept)].head(top)
            out["categories"][category] = _ranking_rows(rows, meta)
            if kept[quantity].left_out:
                out["filtered"].append(category)
        windiest = [r["station"] for r in out["categories"]["windiest"]]
        out["notes"] = siting_view(windiest, sited, "wind_gust_ms", False).notes
        table = table.sort_values("anomaly_c", ascending=False, na_position="last")
        names = meta["name"].astype(str)
        columns = ["now_c", "today_max_c", "yesterday_c", "baseline_c", "anomaly_c"]
        out["anomaly"] = [
            {"station": station, "name": names.get(station, station), "now": _f(now_c),
             "today_max": _f(today_max), "value": _f(yesterday), "baseline": _f(baseline),
             "anomaly": _f(departure)}
            for station, now_c, today_max, yesterday, baseline, departure in zip(
                table.index.astype(str), *(table[c].to_numpy() for c in columns), strict=True
            )
        ]  # fmt: skip
        return out

    def _board_departures(self, kept: KeptDays) -> pd.DataFrame:
        """Each school's yesterday against the week before it (`core.compare.anomaly`) from the
        leaderboard's kept days: computed again only when those days change."""
        known = self._departures.get("board")
        if known is not None and known[0] is kept.days:
            return known[1]
        days = kept.days
        departures = core_compare.anomaly(
            pd.DataFrame(
                {
                    "station": days["station"].astype(str),
                    "date": pd.to_datetime(days["date"]),
                    "temp_c_mean": days["tg_c"].astype(np.float64),
                }
            ),
            "temp_c_mean",
            baseline_days=core_compare.BASELINE_DAYS,
            min_days=core_compare.MIN_BASELINE_DAYS,
        )
        self._departures["board"] = (days, departures)  # holds the days: their id stays theirs
        return departures

    def _board_tables(
        self, now: datetime, meta: pd.DataFrame, temp_kept: Sequence[str]
    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
        """The leaderboard's per-school tables (`core.compare.ranking_tables` and, for the
        schools in `temp_kept`, `school_table`), from ten days of readings read a few schools at
        a time (`reads.READ_ROWS`); table None when no school has a reading."""
        start = pd.Timestamp(now - timedelta(days=10)).floor("15min").to_pydatetime()
        end = now + timedelta(minutes=1)
        # Every school's local today began within the last 25 hours (a day clocks fall back).
        today_start = pd.Timestamp(now - timedelta(hours=26)).floor("15min").to_pydatetime()
        fields = ["temp_c", "rain_mm", "wind_gust_ms"]
        sited_for_temp = set(temp_kept)
        parts: dict[str, list[pd.DataFrame]] = {"now": [], "today": [], "table": []}
        groups, raw = self._by_bins(list(meta.index), fields, today_start, end)
        if groups:
            # The days before today (yesterday's mean and the week's before it) are kept
            # (`kept_days`): a refresh reads today's bins only.
            binned = meta.loc[[s for chunk in groups for s in chunk]]
            kept = self.recent_days.days(
                self.store, binned, dates_today(binned, now), self.corrections()
            )
            departures = self._board_departures(kept)
        for chunk in groups:
            # Today from the bins, the days before from those kept, "now" from the last hour.
            bins = self._bins(today_start, end, chunk, fields)
            if bins.empty:
                continue
            chunk_meta = meta.loc[chunk]
            today_so_far = daily_summary_bins(bins, chunk_meta, min_coverage=0.0)
            recent = self._read_recent(now - timedelta(hours=1), end, chunk, fields)
            for period, frame in core_compare.ranking_tables(
                recent, chunk_meta, now, days=today_so_far
            ).items():
                parts[period].append(frame)
            sited = meta.loc[[s for s in chunk if s in sited_for_temp]]
            parts["table"].append(
                core_compare.school_table(recent, sited, now, known=(today_so_far, departures))
            )
        for chunk in raw:
            obs = self._read(start, end, chunk, fields)
            if obs.empty:
                continue
            recent = obs[obs["time"] >= pd.Timestamp(now) - timedelta(hours=26)]
            for period, frame in core_compare.ranking_tables(recent, meta.loc[chunk], now).items():
                parts[period].append(frame)
            sited = meta.loc[[s for s in chunk if s in sited_for_temp]]
            parts["table"].append(core_compare.school_table(obs, sited, now))
        if not parts["table"]:
            return {}, None
        # Empty parts (a chunk of schools the filter left out) would only muddle the dtypes.
        # In station order whichever way each school was read: ties rank in that order.
        order = {station: i for i, station in enumerate(meta.index)}
        joined = {
            name: _in_order(pd.concat([p for p in frames if len(p)] or frames[:1]), order)
            for name, frames in parts.items()
        }
        table = joined.pop("table")
        return joined, table

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
        in_force = _in_force(self.corrections(), now)
        sited = self.siting()
        rows = [
            {
                "station": str(station),
                "name": str(row["name"]),
                "calibration": in_force.get(str(station), []),
                "siting_temp": siting_class(sited.get(str(station)), "temp_c"),
                "siting_wind": siting_class(sited.get(str(station)), "wind_speed_ms"),
                "exposure": str(row["exposure"]),
                "status": str(row["status"]),
                "last_seen": _iso(row["last_seen"]),
                "battery_v": _f(row["battery_v"]),
                "rssi_dbm": _f(row["rssi_dbm"]),
                "firmware": None if pd.isna(row["firmware"]) else str(row["firmware"]),
                "outbox": _f(row.get("outbox")),
                "outbox_max": _f(row.get("outbox_max")),
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


def _in_order(frame: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    """A per-station table (indexed by station) in the registry's station order."""
    rank = np.array([order.get(str(s), len(order)) for s in frame.index], dtype=np.int64)
    return frame.iloc[np.argsort(rank, kind="stable")]


def _in_force(corrections: Sequence[Correction], now: datetime) -> dict[str, list[str]]:
    """Per station, the corrections its readings get now, in words ("temp_c −0.42 since …")."""
    latest: dict[tuple[str, str], Correction] = {}
    for c in sorted(corrections, key=lambda c: c.valid_from):
        if c.valid_from <= now:
            latest[(c.station, c.field)] = c
    out: dict[str, list[str]] = {}
    for (station, _field), c in sorted(latest.items()):
        out.setdefault(station, []).append(c.describe())
    return out


def _quantity(variable: str, frame: pd.DataFrame, meta: pd.DataFrame) -> np.ndarray:
    """Values of a shown quantity: a contract field, or one the core derives from fields."""
    if variable in derived.DERIVED:
        return derived.derive(variable, frame, meta["elevation_m"].fillna(0.0).to_numpy())
    if variable not in frame:
        return np.full(len(frame), np.nan)
    return frame[variable].to_numpy(np.float64)


# The quantity whose siting class decides which schools a board may rank.
_BOARD_FIELD: Final = {
    "hottest": "temp_c",
    "coldest": "temp_c",
    "wettest": "rain_mm",
    "windiest": "wind_gust_ms",
    "range": "temp_c",
}


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


_NO_ASIDE: Final[dict[str, list[Any]]] = {"date": [], "y": [], "why": []}


def _aside_by_day(obs: pd.DataFrame, meta: pd.DataFrame, field: str) -> dict[str, dict[str, list]]:
    """Per station, the readings of `field` QC set aside, at their raw value and local date, for
    the daily bars to mark beside the bar they were left out of."""
    aside = flagged_readings(obs, meta, "local", [field])
    aside = aside[np.isfinite(aside[field].to_numpy(np.float64))]
    dates = pd.to_datetime(aside["clock_ns"].to_numpy()).strftime("%Y-%m-%d")
    out: dict[str, dict[str, list]] = {}
    for station, rows in aside.assign(date=dates).groupby(aside["station"].astype(str)):
        out[str(station)] = {
            "date": rows["date"].tolist(),
            "y": np.round(rows[field].to_numpy(np.float64), 3).tolist(),
            "why": rows["why"].tolist(),
        }
    return out


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
