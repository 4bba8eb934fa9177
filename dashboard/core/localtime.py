"""UTC to each station's local clock, vectorised across stations and time zones (DST included).

Converting 21 M rows zone by zone through pandas is slow (a zone object per element) and needs a
gather per zone. Instead each zone's offset changes over the span of the data are tabulated once
(a few per year), and one `searchsorted` over a (zone, time) key finds every row's offset.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.core.frames import NS_PER_S, S_PER_DAY, CoreInputError, station_rows, time_ns

# Zone code and time share one int64 key: time in seconds in the low 33 bits (272 years).
_ZONE_SHIFT = np.int64(1 << 33)


def _offsets_at_s(utc_s: NDArray[np.int64], zone: str) -> NDArray[np.int64]:
    utc = pd.DatetimeIndex(utc_s.astype("datetime64[s]")).tz_localize("UTC")
    try:
        local = utc.tz_convert(zone)
    except (KeyError, ValueError) as exc:
        raise CoreInputError(
            f"unknown time zone {zone!r} in station metadata: use an IANA name such as "
            "'Europe/Helsinki' or 'Asia/Kolkata'"
        ) from exc
    return local.tz_localize(None).as_unit("s").asi8 - utc_s


@dataclass(frozen=True)
class ZoneTable:
    """Offset changes of several zones over a time span, searchable for many rows at once."""

    keys: NDArray[np.int64]  # zone << 33 | seconds since `base_s` at which an offset starts
    offsets_s: NDArray[np.int64]
    base_s: int

    @classmethod
    def build(cls, zones: Sequence[str], start_ns: int, end_ns: int) -> ZoneTable:
        """Tabulate the offsets of `zones` between two UTC instants (ns), exact to the second."""
        start_s = start_ns // NS_PER_S // 3600 * 3600 - 2 * 86400
        end_s = end_ns // NS_PER_S + 2 * 86400
        hours = np.arange(start_s, end_s + 3600, 3600, dtype=np.int64)
        keys: list[NDArray[np.int64]] = []
        offsets: list[NDArray[np.int64]] = []
        # One loop step per distinct zone (a few dozen among ASEM schools), each vectorised.
        for code, zone in enumerate(zones):
            hourly = _offsets_at_s(hours, zone)
            changed = np.flatnonzero(hourly[1:] != hourly[:-1])
            # Offsets change at whole seconds inside the hour where the hourly samples differ.
            seconds = hours[changed, None] + np.arange(1, 3601, dtype=np.int64)[None, :]
            fine = _offsets_at_s(seconds.ravel(), zone).reshape(seconds.shape)
            first_new = np.argmax(fine != hourly[changed, None], axis=1)
            starts = np.concatenate([hours[:1], seconds[np.arange(len(changed)), first_new]])
            keys.append(code * _ZONE_SHIFT + (starts - start_s))
            offsets.append(np.concatenate([hourly[:1], hourly[changed + 1]]))
        return cls(keys=np.concatenate(keys), offsets_s=np.concatenate(offsets), base_s=start_s)

    def offsets_for(
        self, zone_codes: NDArray[np.integer], t_ns: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """UTC offset in seconds for each (zone code, UTC instant in ns) pair."""
        query = zone_codes.astype(np.int64) * _ZONE_SHIFT + (t_ns // NS_PER_S - self.base_s)
        return self.offsets_s[np.searchsorted(self.keys, query, side="right") - 1]

    def day_length_s(
        self, zone_codes: NDArray[np.integer], local_day: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """Length in seconds of local calendar days (days since 1970-01-01): 82 800 s when clocks
        spring forward, 90 000 s when they fall back, 86 400 s otherwise."""
        zone = self.keys // _ZONE_SHIFT
        starts_s = self.keys % _ZONE_SHIFT + self.base_s
        # The first entry of each zone is the span's start, not a change.
        change = np.flatnonzero(zone[1:] == zone[:-1]) + 1
        # A change belongs to the local day on which the new offset starts.
        change_day = (starts_s[change] + self.offsets_s[change]) // S_PER_DAY
        change_key = zone[change] * _ZONE_SHIFT + change_day
        shortening = (
            pd.Series(self.offsets_s[change] - self.offsets_s[change - 1]).groupby(change_key).sum()
        )
        query = zone_codes.astype(np.int64) * _ZONE_SHIFT + local_day
        found = shortening.reindex(query).to_numpy(dtype=np.float64, na_value=0.0)
        return (S_PER_DAY - found).astype(np.int64)


@dataclass(frozen=True)
class LocalClock:
    """Each row's zone code and UTC offset, with the table that produced them."""

    zone_codes: NDArray[np.int32]
    offsets_s: NDArray[np.int64]
    table: ZoneTable

    def local_ns(self, t_ns: NDArray[np.int64]) -> NDArray[np.int64]:
        return t_ns + self.offsets_s * NS_PER_S


def local_clock(
    codes: NDArray[np.int32], aligned_meta: pd.DataFrame, t_ns: NDArray[np.int64]
) -> LocalClock:
    """Offsets for rows whose station is `aligned_meta.iloc[codes[i]]` (see `station_rows`)."""
    zone_of_station, zones = pd.factorize(aligned_meta["timezone"])
    if (zone_of_station < 0).any():
        missing = aligned_meta.index[zone_of_station < 0][0]
        raise CoreInputError(
            f"station {missing}: no timezone in its metadata; set an IANA zone name"
        )
    zone_codes = zone_of_station.astype(np.int32)[codes]
    if t_ns.size == 0:
        table = ZoneTable.build(list(zones), 0, 0)
        return LocalClock(zone_codes, np.zeros(0, np.int64), table)
    day_ns = S_PER_DAY * NS_PER_S
    table = _zone_table(tuple(zones), int(t_ns.min()) // day_ns, -(-int(t_ns.max()) // day_ns))
    return LocalClock(zone_codes, table.offsets_for(zone_codes, t_ns), table)


@functools.lru_cache(maxsize=32)
def _zone_table(zones: tuple[str, ...], first_day: int, last_day: int) -> ZoneTable:
    """`ZoneTable.build` over whole UTC days, kept for the next caller: every page of a live tick
    asks for the same zones and days again (~20 ms a table for the zones of 200 schools)."""
    day_ns = S_PER_DAY * NS_PER_S
    return ZoneTable.build(list(zones), first_day * day_ns, last_day * day_ns)


def local_clock_time(obs: pd.DataFrame, meta: pd.DataFrame) -> pd.Series:
    """Each observation's wall-clock time at its station (naive datetimes, DST applied).

    At the autumn change the same wall-clock hour occurs twice; the UTC `time` column tells the
    two apart.

    >>> meta = pd.DataFrame({"timezone": ["Asia/Kolkata"]}, index=["in-kolkata-01"])
    >>> obs = pd.DataFrame({"station": ["in-kolkata-01"],
    ...                     "time": pd.to_datetime(["2024-06-01 00:00"], utc=True)})
    >>> str(local_clock_time(obs, meta).iloc[0])
    '2024-06-01 05:30:00'
    """
    rows = station_rows(obs, meta)
    t_ns = time_ns(obs["time"])
    clock = local_clock(rows.codes, rows.meta, t_ns)
    return pd.Series(
        clock.local_ns(t_ns).astype("datetime64[ns]"), index=obs.index, name="local_time"
    )
