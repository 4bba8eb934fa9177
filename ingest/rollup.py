"""Per-station 15-minute bins of the observations, kept where the data live (issue #17).

Why 15 minutes: every UTC offset in use (+5:30, +5:45, +8:45, DST shifts) is a multiple of 15
minutes, so each 15-minute UTC bin lies inside one local hour and one local day of every school.
Hours and days on any school's clock are unions of whole bins: a month of 500 schools is 1.4 M
bins instead of 21.6 M readings.

Each bin holds, per field, what the comparison core's aggregates need, over the *usable* values
only (`ingest.domain.qc.usable`, every QC check: range, step, persistence, consistency): their
count, sum, min and max, how many present values QC set aside, and for wind direction the sums of
the unit vector (east = sin, north = cos) for the vector mean. A pseudo-field `OBS` holds the
readings per bin (rows, present or not) and the first and last reading's time, for coverage and
the reporting interval.

QC looks at neighbours: a value's flags depend on the readings up to `REACH_MS` either side of it
(the step test on the two before it, the persistence test on every hour-long window holding it).
So a reading that arrives changes the bins within `REACH_MS` of it, and recomputing them needs
the readings within `REACH_MS` beyond those bins (`affected`, `context`). Rain's range limit
scales with the minutes since the station's previous reading, wherever that is: the store adds
that reading to the context.

A store keeps the bins of one station, field and UTC day as one array (`STATS` × `SLOTS`, float64,
`pack`/`unpack`): a month of 500 schools is 15,000 arrays per field, whatever the raw row count.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from firmware import wire
from ingest.domain import qc

BIN_MS: Final = 15 * 60 * 1000
DAY_MS: Final = 86_400_000
SLOTS: Final = DAY_MS // BIN_MS
REACH_MS: Final = qc.PERSISTENCE_WINDOW_S * 1000
OBS: Final = "_obs"
FIELDS: Final = tuple(f for f in wire.FIELD_NAMES if f in qc.QC_TABLE)
VECTOR_FIELDS: Final = ("wind_dir_deg",)
OBS_STATS: Final = ("n_obs", "first_ms", "last_ms")
# A station's readings rolled at a time: a week of one-minute readings is 10,000 rows. A longer
# span (a rebuild) goes a week at a time, stretches without readings skipped.
SPAN_MS: Final = 7 * DAY_MS
# Raw rows (at one a minute) rolled in one pass: a live network's hundreds of schools together, a
# rebuild's weeks a few schools at a time.
GROUP_ROWS: Final = 400_000

# A store's raw rows for a roll: (stations, [start, end) in Unix ms, fields) -> the `Store.read`
# frame (station categorical is fine) of those rows and each station's reading just before them
# (rain's range limit needs the gap to it).
ContextReader = Callable[[Sequence[str], tuple[int, int], Sequence[str]], pd.DataFrame]


def stats_of(field: str) -> tuple[str, ...]:
    """The rows of a field's array: n, sum, min, max, flagged (+ east, north for wind direction);
    for `OBS`: n_obs, first_ms, last_ms."""
    if field == OBS:
        return OBS_STATS
    return ("n", "sum", "min", "max", "flagged") + (
        ("east", "north") if field in VECTOR_FIELDS else ()
    )


def empty(field: str) -> NDArray[np.float64]:
    """A day with no reading: counts 0, the rest NaN."""
    stats = stats_of(field)
    out = np.full((len(stats), SLOTS), np.nan)
    out[[i for i, s in enumerate(stats) if s in ("n", "flagged", "n_obs")]] = 0.0
    return out


def pack(array: NDArray[np.float64]) -> bytes:
    return np.ascontiguousarray(array, dtype="<f8").tobytes()


def unpack(blob: bytes, field: str) -> NDArray[np.float64]:
    return np.frombuffer(blob, dtype="<f8").reshape(len(stats_of(field)), SLOTS)


def floor_bin(ms: int) -> int:
    return ms // BIN_MS * BIN_MS


def affected(first_ms: int, last_ms: int) -> tuple[int, int]:
    """The bins [lo, hi) whose values readings stamped in [first, last] can change."""
    return floor_bin(first_ms - REACH_MS), floor_bin(last_ms + REACH_MS) + BIN_MS


def context(lo_ms: int, hi_ms: int) -> tuple[int, int]:
    """The readings [start, end) that decide every flag in the bins [lo, hi)."""
    return lo_ms - REACH_MS, hi_ms + REACH_MS


@dataclass(frozen=True)
class DayBins:
    """Recomputed bins of one station and UTC day: `arrays[field]` holds every slot, but only
    the slots in `slots` (a slice) were recomputed; the others must keep what the store has."""

    station: str
    day: int  # UTC day number (ms // DAY_MS)
    slots: slice
    arrays: dict[str, NDArray[np.float64]]

    @property
    def whole_day(self) -> bool:
        return self.slots == slice(0, SLOTS)


def roll(
    obs: pd.DataFrame, lo_ms: int, hi_ms: int, fields: Sequence[str] = FIELDS
) -> Iterator[DayBins]:
    """The bins [lo, hi) of each station in `obs`, from its raw rows (`Store.read` shape, with
    at least `context(lo, hi)` of them). Every bin in the range comes out, empty ones included:
    they replace whatever a store kept there before. All stations at once: one QC pass and one
    count per statistic, whatever their number (a live network of thousands rolls every minute)."""
    if lo_ms % BIN_MS or hi_ms % BIN_MS or hi_ms <= lo_ms:
        raise ValueError(f"bins [{lo_ms}, {hi_ms}) are not whole 15-minute bins")
    if obs.empty:
        return
    rolled = [f for f in fields if f in obs]
    flags = qc.qc_flags(obs, rolled)
    t_ms = pd.DatetimeIndex(obs["time"]).as_unit("ms").asi8
    inside = (t_ms >= lo_ms) & (t_ms < hi_ms)
    codes, names = pd.factorize(obs["station"], sort=True)
    first_day, last_day = lo_ms // DAY_MS, (hi_ms - 1) // DAY_MS
    n_days = last_day - first_day + 1
    size = len(names) * n_days * SLOTS
    t = t_ms[inside]
    # One index over stations × days × slots: every statistic of every station is one bincount.
    key = codes[inside].astype(np.int64) * (n_days * SLOTS) + (t - first_day * DAY_MS) // BIN_MS
    arrays = {OBS: _obs_stats(key, t, size)}
    for field in rolled:
        values = obs[field].to_numpy(np.float64)[inside]
        arrays[field] = _field_stats(
            field, key, values, flags[f"{field}_qc"].to_numpy()[inside], size
        )
    shaped = {
        f: a.reshape(len(a), len(names), n_days, SLOTS).transpose(1, 2, 0, 3)
        for f, a in arrays.items()
    }
    for field in fields:
        shaped.setdefault(
            field, np.broadcast_to(empty(field), (len(names), n_days, *empty(field).shape))
        )
    for s, name in enumerate(names.astype(str)):
        for d, day in enumerate(range(first_day, last_day + 1)):
            start = max(lo_ms - day * DAY_MS, 0) // BIN_MS
            stop = min(hi_ms - day * DAY_MS, DAY_MS) // BIN_MS
            yield DayBins(
                station=str(name),
                day=day,
                slots=slice(int(start), int(stop)),
                arrays={f: a[s, d] for f, a in shaped.items()},
            )


def _obs_stats(slot: NDArray[np.int64], t: NDArray[np.int64], n_slots: int) -> NDArray[np.float64]:
    out = np.full((3, n_slots), np.nan)
    out[0] = np.bincount(slot, minlength=n_slots)
    tf = t.astype(np.float64)
    out[1] = _reduce(np.fmin, slot, tf, n_slots)
    out[2] = _reduce(np.fmax, slot, tf, n_slots)
    return out


def _field_stats(
    field: str,
    slot: NDArray[np.int64],
    values: NDArray[np.float64],
    codes: NDArray[np.uint8],
    n_slots: int,
) -> NDArray[np.float64]:
    keep = qc.usable(values, codes)
    flagged = np.isfinite(values) & ~keep
    kept_slot, kept = slot[keep], values[keep]
    rows = [
        np.bincount(kept_slot, minlength=n_slots).astype(np.float64),
        np.bincount(kept_slot, weights=kept, minlength=n_slots),
        _reduce(np.fmin, kept_slot, kept, n_slots),
        _reduce(np.fmax, kept_slot, kept, n_slots),
        np.bincount(slot[flagged], minlength=n_slots).astype(np.float64),
    ]
    if field in VECTOR_FIELDS:
        radians = np.radians(kept)
        rows += [
            np.bincount(kept_slot, weights=np.sin(radians), minlength=n_slots),
            np.bincount(kept_slot, weights=np.cos(radians), minlength=n_slots),
        ]
    out = np.vstack(rows)
    sums = [i for i, stat in enumerate(stats_of(field)) if stat in ("sum", "east", "north")]
    out[np.ix_(sums, out[0] == 0)] = np.nan  # no usable value: no sum (SQL's SUM gives NULL)
    return out


def _reduce(
    ufunc: np.ufunc, slot: NDArray[np.int64], values: NDArray[np.float64], n_slots: int
) -> NDArray[np.float64]:
    out = np.full(n_slots, np.nan)
    ufunc.at(out, slot, values)
    return out


@dataclass(frozen=True)
class Stack:
    """Whole days of bins side by side: row i is `stations[i]`'s UTC day `days[i]`, and
    `arrays[field][i]` its (stats × `SLOTS`) array; every field has every row."""

    stations: NDArray[np.object_]
    days: NDArray[np.int64]
    arrays: dict[str, NDArray[np.float64]]

    @classmethod
    def of(cls, days: Sequence[DayBins], fields: Sequence[str]) -> Stack:
        return cls(
            stations=np.array([d.station for d in days], dtype=object),
            days=np.array([d.day for d in days], dtype=np.int64),
            arrays={
                f: np.stack([d.arrays.get(f, empty(f)) for d in days])
                if days
                else np.zeros((0, len(stats_of(f)), SLOTS))
                for f in (OBS, *fields)
            },
        )


def to_frame(stack: Stack, fields: Sequence[str], start_ms: int, end_ms: int) -> pd.DataFrame:
    """The bins as the long frame the core reads: one row per station and bin in [start, end)
    that has a reading. Columns: station (categorical), time (bin start, UTC), n_obs,
    first_ms, last_ms, n_flagged (over `fields`), then per field n_/sum_/min_/max_
    (east_/north_ for wind direction). Sorted by station then time."""
    starts = stack.days[:, None] * DAY_MS + np.arange(SLOTS, dtype=np.int64)[None, :] * BIN_MS
    obs = stack.arrays[OBS]
    chosen = (obs[:, 0, :] > 0) & (starts >= start_ms) & (starts < end_ms)
    # Picked by the mask, in the order of `row`: a mask gathers faster than index pairs.
    row = np.nonzero(chosen)[0]
    names, codes = np.unique(stack.stations.astype(str), return_inverse=True)
    # Categorical: a month of 500 schools is 1.4 M rows, and the core factorises station ids.
    station = pd.Categorical.from_codes(codes[row], categories=pd.Index(names, dtype=object))
    time_ms = starts[chosen]
    # Every column made first and the frame built once: inserting them one by one re-lays the
    # frame's blocks each time (a year read is a hundred reads of a few schools).
    columns: dict[str, Any] = {
        "station": station.remove_unused_categories(),
        "time": pd.to_datetime(time_ms, unit="ms", utc=True).as_unit("ns"),
    }
    for i, stat in enumerate(OBS_STATS):
        values = obs[:, i, :][chosen]
        columns[stat] = values.astype(np.int64) if stat == "n_obs" else values
    flagged = np.zeros(len(row), np.int64)
    columns["n_flagged"] = flagged
    for field in fields:
        array = stack.arrays[field]
        for i, stat in enumerate(stats_of(field)):
            values = array[:, i, :][chosen]
            if stat == "flagged":
                flagged += values.astype(np.int64)
            elif stat == "n":
                columns[f"n_{field}"] = values.astype(np.int64)
            else:
                columns[f"{stat}_{field}"] = values
    frame = pd.DataFrame(columns)
    # Stores give whole days by station then day: sorted already unless rows were added.
    code = codes[row]
    later = (code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (time_ms[1:] > time_ms[:-1]))
    if later.all():
        return frame
    return frame.iloc[np.lexsort((time_ms, code))].reset_index(drop=True)


def groups(marks: Sequence[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """Marks (station, first, last reading; ordered by their first reading) in groups rolled
    together: first readings within a day of the group's, and about `GROUP_ROWS` raw rows a group
    at one reading a minute (a live network's marks all start in the last minute: hundreds of
    schools a group)."""
    out: list[list[tuple[str, int, int]]] = []
    for mark in marks:
        group = out[-1] if out else None
        if group is not None:
            starts = group[0][1]
            last = max(m[2] for m in [*group, mark])
            minutes = (min(last, starts + SPAN_MS) - starts) // 60_000
            rows = (len(group) + 1) * (minutes + 4 * 60)  # the span and QC's context
            if mark[1] < starts + DAY_MS and rows <= GROUP_ROWS:
                group.append(mark)
                continue
        out.append([mark])
    return out


def roll_group(
    group: Sequence[tuple[str, int, int]], context_reader: ContextReader
) -> tuple[list[DayBins], dict[str, int]]:
    """The bins one group of marks (`groups`) changes, up to a week of each: the recomputed days
    and, per station, the last reading time they cover (the mark goes on after it)."""
    starts = min(first for _, first, _ in group)
    upto = {station: min(last, starts + SPAN_MS - 1) for station, _, last in group}
    lo, hi = affected(starts, max(upto.values()))
    return list(roll(context_reader(list(upto), context(lo, hi), FIELDS), lo, hi)), upto


def complete(
    stack: Stack | None,
    stale: Sequence[tuple[int, str]],
    fields: Sequence[str],
    start_ms: int,
    end_ms: int,
    context_reader: ContextReader,
) -> pd.DataFrame:
    """`to_frame` of the kept bins (`stack`; None: a store with none) of [start, end), with each
    station's bins from its first stale one (`stale`: (bin start, station)) computed from its raw
    rows: what the bins of every reading stored are, whether rolled yet or not."""
    hi = floor_bin(end_ms - 1) + BIN_MS
    fresh: list[DayBins] = []
    waiting = sorted((max(at, floor_bin(start_ms)), station) for at, station in stale)
    # Stations whose stale spans start within a day of each other are computed together (a live
    # network's: the last hour or two of every school, one QC pass).
    while waiting and waiting[0][0] < hi:
        lo = waiting[0][0]
        together = [station for at, station in waiting if at < lo + DAY_MS and at < hi]
        waiting = [(at, station) for at, station in waiting if at >= lo + DAY_MS]
        obs = context_reader(together, context(lo, hi), fields)
        fresh.extend(roll(obs, lo, hi, fields))
    bins = spliced(stack, fresh, fields)
    if not len(bins.days):
        # The years before a network began: a records read asks for them a few schools a time.
        return _nothing(tuple(fields)).copy()
    return to_frame(bins, fields, start_ms, end_ms)


@functools.lru_cache(maxsize=16)
def _nothing(fields: tuple[str, ...]) -> pd.DataFrame:
    """The frame of no bins, with the columns of `fields` (one per field set asked for)."""
    return to_frame(Stack.of([], fields), fields, 0, 0)


def spliced(stack: Stack | None, fresh: Sequence[DayBins], fields: Sequence[str]) -> Stack:
    """The kept stack with the freshly computed slots written over it (rows added as needed)."""
    if stack is None:
        return Stack.of(fresh, fields)
    if not fresh:
        return stack
    position = {
        (s, int(d)): i for i, (s, d) in enumerate(zip(stack.stations, stack.days, strict=True))
    }
    added = [d for d in fresh if (d.station, d.day) not in position]
    added_keys = list(dict.fromkeys((d.station, d.day) for d in added))
    for key in added_keys:
        position[key] = len(position)
    grown = Stack.of([DayBins(s, d, slice(0, 0), {}) for s, d in added_keys], fields)
    arrays = {f: np.concatenate([stack.arrays[f], grown.arrays[f]]) for f in stack.arrays}
    for day in fresh:
        row = position[(day.station, day.day)]
        for field, array in arrays.items():
            array[row][:, day.slots] = day.arrays[field][:, day.slots]
    return Stack(
        stations=np.concatenate([stack.stations, grown.stations]),
        days=np.concatenate([stack.days, grown.days]),
        arrays=arrays,
    )
