"""What is wrong with a station right now, from the registry, its recent readings and the
gateway's reject counts: pure functions, one finding per (station, problem).

Problems, each an episode of its own (`kind`):
- `silent`: nothing heard for longer than `silent_factor` × its usual interval (at least
  `min_silent`); the usual interval is the median gap between its recent readings.
- `qc:<field>`: every reading of that field over the last `qc_window` failed quality control
  (`ingest.domain.qc`: stuck, out of range, jumping): a sensor to look at.
- `battery`: the latest supply voltage is below `battery_low_v`.
- `clock`: the gateway rejected readings for an impossible time stamp (`bad_ts`), or the latest
  reading is stamped ahead of now: the station's clock is drifting.
- `outbox`: the station last reported more than `outbox_high` (half) of its outbox capacity
  waiting to be sent (`outbox` / `outbox_max` in its status, docs/protocol.md). The episode ends
  only once it has reported less than `outbox_low` (a quarter), so a level wavering around half
  sends no stream of e-mails; a quarter is also where the ClassNet firmware reports its level
  again (it says it at each quarter crossed). A backlog that drains between two checks is no
  episode: nothing was left for the teacher to do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ingest.domain.qc import FLAG_NAMES, QC_TABLE, qc_flags


@dataclass(frozen=True)
class Limits:
    silent_factor: float = 3.0
    min_silent: timedelta = timedelta(minutes=15)
    default_interval: timedelta = timedelta(minutes=1)
    qc_window: timedelta = timedelta(hours=3)
    battery_low_v: float = 3.4  # a Li-ion cell near empty; the Stations page uses the same
    clock_ahead: timedelta = timedelta(minutes=2)
    outbox_high: float = 0.5  # share of the outbox capacity that opens an episode (above it)
    outbox_low: float = 0.25  # ... and the share it must fall below to end


@dataclass(frozen=True)
class Finding:
    station: str
    kind: str
    detail: dict[str, str] = field(default_factory=dict, compare=False)


def usual_interval(times: pd.Series, default: timedelta) -> timedelta:
    """The median gap between readings (`default` with fewer than three).

    >>> t = pd.Series(pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:05",
    ...     "2026-01-01 00:10", "2026-01-01 02:00"], utc=True))
    >>> usual_interval(t, timedelta(minutes=1))
    datetime.timedelta(seconds=300)
    """
    if len(times) < 3:
        return default
    gaps = np.diff(np.sort(times.to_numpy("datetime64[ns]")).astype(np.int64))
    return timedelta(microseconds=float(np.median(gaps)) / 1000)


def find(
    now: datetime,
    registry: pd.DataFrame,
    recent: pd.DataFrame,
    rejects: pd.DataFrame,
    stations: Iterable[str],
    limits: Limits = Limits(),
    open_: Collection[tuple[str, str]] = (),
) -> list[Finding]:
    """Findings for `stations`. `registry`: `Store.stations()`; `recent`: `Store.read()` of the
    last hours; `rejects`: `Store.reject_counts()` over the same window; `open_`: the episodes
    open now, (station, kind), for problems whose end has its own mark (the outbox)."""
    out: list[Finding] = []
    by_station = dict(tuple(recent.groupby("station", sort=False))) if len(recent) else {}
    for station in stations:
        obs = by_station.get(station, recent.iloc[0:0])
        row = registry.loc[station] if station in registry.index else None
        out.extend(_silent(station, now, row, obs, limits))
        out.extend(_qc(station, now, obs, limits))
        battery = np.nan if row is None else float(row.get("battery_v", np.nan))
        if battery < limits.battery_low_v:  # NaN (no battery reading) is never low
            out.append(Finding(station, "battery", {"value": f"{battery:.2f} V"}))
        out.extend(_clock(station, now, row, rejects, limits))
        out.extend(_outbox(station, row, obs, limits, (station, "outbox") in open_))
    return out


def _silent(
    station: str, now: datetime, row: pd.Series | None, obs: pd.DataFrame, limits: Limits
) -> list[Finding]:
    seen = None if row is None else row.get("last_seen")
    if seen is None or pd.isna(seen):
        return []  # never heard of: nothing to miss yet
    interval = usual_interval(obs["time"], limits.default_interval)
    allowed = max(interval * limits.silent_factor, limits.min_silent)
    if pd.Timestamp(now) - pd.Timestamp(seen) <= allowed:
        return []
    return [Finding(station, "silent", {"last_seen": pd.Timestamp(seen).isoformat()})]


def _qc(station: str, now: datetime, obs: pd.DataFrame, limits: Limits) -> list[Finding]:
    window = obs[obs["time"] >= pd.Timestamp(now) - limits.qc_window]
    if len(window) < 3:
        return []
    # The window must be covered, or a station that just started would be judged on minutes.
    if window["time"].min() > pd.Timestamp(now) - 0.9 * limits.qc_window:
        return []
    flags = qc_flags(window)
    out = []
    for field_name in QC_TABLE:
        column = f"{field_name}_qc"
        if column not in flags:
            continue
        present = window[field_name].notna().to_numpy()
        codes = flags[column].to_numpy()[present]
        if codes.size >= 3 and (codes != 0).all():
            names = sorted({n for bit, n in FLAG_NAMES.items() for c in codes if c & bit})
            out.append(Finding(station, f"qc:{field_name}", {"checks": "+".join(names)}))
    return out


def _clock(
    station: str, now: datetime, row: pd.Series | None, rejects: pd.DataFrame, limits: Limits
) -> list[Finding]:
    bad = 0
    if len(rejects):
        mine = rejects[(rejects["station"] == station) & (rejects["reason"] == "bad_ts")]
        bad = int(mine["count"].sum())
    seen = None if row is None else row.get("last_seen")
    ahead = (
        seen is not None
        and pd.notna(seen)
        and pd.Timestamp(seen) - pd.Timestamp(now) > limits.clock_ahead
    )
    if bad or ahead:
        return [Finding(station, "clock", {"rejected": str(bad)})]
    return []


def _outbox(
    station: str, row: pd.Series | None, obs: pd.DataFrame, limits: Limits, is_open: bool
) -> list[Finding]:
    if row is None:
        return []
    waiting, capacity = float(row.get("outbox", np.nan)), float(row.get("outbox_max", np.nan))
    if not capacity > 0 or np.isnan(waiting):  # never reported: nothing to judge
        return []
    share = waiting / capacity
    if (share < limits.outbox_low) if is_open else (share <= limits.outbox_high):
        return []
    detail = {"waiting": str(int(waiting)), "capacity": str(int(capacity))}
    if len(obs) >= 3:  # how long until the oldest are lost depends on the station's pace
        interval = usual_interval(obs["time"], limits.default_interval)
        detail["interval_s"] = str(round(interval.total_seconds()))
    return [Finding(station, "outbox", detail)]
