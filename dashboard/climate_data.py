"""What the dashboard's climate views read: reports, records and partner comparisons, as plain
payloads for `dcc.Store`. Every figure comes from the climate day table: the days before each
school's local today from those the dashboard keeps (`kept_days`), today's read afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from flask import current_app

from dashboard.climate_render import render_html
from dashboard.climate_store import read_climate_days, read_climate_summary
from dashboard.context import data as current_data
from dashboard.core.climate_days import climate_days
from dashboard.core.climate_report import Report
from dashboard.core.compare import today_rows
from dashboard.core.indices import INDICES, climate_indices
from dashboard.core.records import broken_records
from dashboard.data import Data, utcnow
from dashboard.kept_days import DayKeeper, KeptDays, dates_today
from dashboard.report_actions import Period, period_report
from ingest import StoreError

CLIMATE_KEY = "CLASSNET_CLIMATE"


def _f(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


@dataclass
class Climate:
    """The climate views of one dashboard process over its `Data`."""

    data: Data
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # One history read and one records computation at a time: the tabs of a class opening the
    # dashboard together wait for the one read (a year of 500 schools), then share it.
    _days: DayKeeper = field(default_factory=DayKeeper, repr=False)
    _computing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # (when, data version, records()): a page's layout and its banner callback ask together.
    _recent: tuple[float, dict[str, int], dict[str, Any]] | None = field(default=None, repr=False)

    def _outdoor(self, now: datetime) -> pd.DataFrame:
        reg = self.data.registry(now)
        return reg[reg["exposure"] == "outdoor"]

    def _kept_days(self, meta: pd.DataFrame, today: dict[str, date]) -> KeptDays:
        return self._days.days(self.data.store, meta, today, self.data.corrections())

    def days(
        self, first: date, last: date, stations: Sequence[str], now: datetime | None = None
    ) -> pd.DataFrame:
        """The climate day table of `stations` from `first` to `last`, as `read_climate_days`
        gives it: kept days, and today's (incomplete until its end) read from the store."""
        now = now or utcnow()
        meta = self._outdoor(now)
        known = [s for s in stations if s in meta.index]
        today = dates_today(meta, now)
        kept = self._kept_days(meta, today)
        if first < kept.start:  # older than a large network keeps: read as it is asked
            return read_climate_days(
                self.data.store, meta, first, last, known, self.data.corrections()
            )
        days = kept.between(first, last, known)
        current = [s for s in known if first <= today[s] <= last]
        if not current:
            return days
        fresh = read_climate_days(
            self.data.store,
            meta,
            min(today[s] for s in current),
            last,
            current,
            self.data.corrections(),
        )
        began = {s: pd.Timestamp(d) for s, d in today.items()}
        fresh = fresh[(fresh["date"] >= fresh["station"].map(began)).to_numpy()]
        both = pd.concat([d for d in (days, fresh) if not d.empty], ignore_index=True)
        if both.empty:
            return days
        return both.sort_values(["station", "date"], kind="stable").reset_index(drop=True)

    def records(self, now: datetime | None = None) -> dict[str, Any]:
        """Every outdoor school's records before today, and those today's readings broke.
        Computed once for the requests of the same moment (the registry's time to live) while
        no station delivered anything new: a page's layout draws its records banner, and the
        banner's callback asks again as the page loads."""
        if now is not None:
            return self._records(now)
        version = self.data.version()
        with self._computing:
            with self._lock:
                recent = self._recent
            if (
                recent is not None
                and recent[1] == version
                and time.monotonic() - recent[0] < self.data.registry_ttl_s
            ):
                return recent[2]
            found = self._records(utcnow())
            with self._lock:
                self._recent = (time.monotonic(), version, found)
            return found

    def warm(self) -> threading.Thread:
        """Read every school's history now, in the background, so that the first page drawn
        after the dashboard starts does not wait for it (its records banner needs it)."""

        def read() -> None:
            try:
                self.records()
            except StoreError:
                # Not logged here: the first page's request reports the outage, once (`Data`),
                # and its banner says it; the records are then read when a page asks.
                return

        thread = threading.Thread(target=read, name="classnet-records", daemon=True)
        thread.start()
        return thread

    def _records(self, now: datetime) -> dict[str, Any]:
        meta = self._outdoor(now)
        out: dict[str, Any] = {"records": [], "broken": []}
        if meta.empty:
            return out
        records = self._kept_days(meta, dates_today(meta, now)).records
        records = records[records["station"].isin(list(meta.index)).to_numpy()]
        # Every school's local today began within the last 25 hours (a day clocks fall back).
        running = read_climate_summary(
            self.data.store,
            meta,
            pd.Timestamp(now - timedelta(hours=26)).floor("15min").to_pydatetime(),
            now + timedelta(minutes=1),
            list(meta.index),
            self.data.corrections(),
            min_coverage=0.0,
        )
        if not running.empty:
            today = today_rows(running, meta, now)
            broken = broken_records(records, climate_days(today.reset_index()))
        else:
            broken = broken_records(records, pd.DataFrame())
        names = meta["name"].astype(str)
        out["records"] = [
            {"station": r.station, "name": names.get(r.station, r.station), "record": r.record,
             "value": _f(r.value), "date": pd.Timestamp(r.date).date().isoformat(),
             "since": pd.Timestamp(r.since).date().isoformat()}
            for r in records.itertuples(index=False)
        ]  # fmt: skip
        out["broken"] = [
            {"station": b.station, "name": names.get(b.station, b.station), "record": b.record,
             "value": _f(b.value), "previous": _f(b.previous),
             "previous_date": pd.Timestamp(b.previous_date).date().isoformat()}
            for b in broken.itertuples(index=False)
        ]  # fmt: skip
        return out

    def report(self, station: str, period: Period) -> tuple[Report, pd.Series] | None:
        """The monthly or yearly report of `station` and its metadata (None: unknown station)."""
        meta = self._outdoor(utcnow())
        if station not in meta.index:
            return None
        days = self.days(period.first, period.last, [station])
        return period_report(days, station, period), meta.loc[station]

    def report_html(self, station: str, period: Period, lang: str) -> str | None:
        """The printable report page of `station` (None when the station is unknown)."""
        built = self.report(station, period)
        return None if built is None else render_html(*built, lang)

    def partners(
        self, stations: list[str], year: int, month: int, now: datetime | None = None
    ) -> dict[str, Any]:
        """The month's indices of `stations` side by side, this year and the year before (when
        data exist), and every school's month averaged per region (Asia vs Europe)."""
        now = now or utcnow()
        meta = self._outdoor(now)
        out: dict[str, Any] = {"schools": [], "regions": []}
        if meta.empty:
            return out
        periods = [pd.Timestamp(year, month, 1), pd.Timestamp(year - 1, month, 1)]
        # The month of every school (the regions' table) and the same month a year before of
        # the schools chosen: two months read, not the thirteen between them.
        chosen = [s for s in stations if s in meta.index]
        reads = [(periods[0], list(meta.index)), (periods[1], chosen)]
        days = pd.concat(
            [
                self.days(first.date(), (first + pd.offsets.MonthEnd(0)).date(), schools, now)
                for first, schools in reads
                if schools
            ],
            ignore_index=True,
        )
        if days.empty:
            return out
        monthly = climate_indices(days, "month").reset_index()
        monthly = monthly[monthly["period"].isin(periods)]
        names = [index.name for index in INDICES if not index.annual_only]
        for station in stations:
            if station not in meta.index:
                continue
            mine = monthly[monthly["station"] == station].set_index("period")
            for period in periods:
                if period in mine.index and mine.loc[period, names].notna().any():
                    out["schools"].append(
                        {"station": station, "name": str(meta.at[station, "name"]),
                         "period": period.strftime("%Y-%m"),
                         **{n: _f(mine.at[period, n]) for n in names}}
                    )  # fmt: skip
        this = monthly[monthly["period"] == periods[0]]
        region = this["station"].map(meta["region"].astype(str))
        for name, group in this.groupby(region.to_numpy()):
            counts = group[names].notna().sum()
            if not counts.any():
                continue
            out["regions"].append(
                {"region": str(name), "schools": int(counts.max()),
                 **{n: _f(group[n].mean()) if counts[n] else None for n in names}}
            )  # fmt: skip
        return out


def climate() -> Climate:
    """The Climate of the dashboard serving this request (one per app, made on first use)."""
    config = current_app.config
    found = config.get(CLIMATE_KEY)
    if not isinstance(found, Climate) or found.data is not current_data():
        found = config[CLIMATE_KEY] = Climate(current_data())
    return found
