"""The SQLite store's 15-minute bins (ingest/rollup.py): kept beside the raw rows, recomputed
from them.

A write marks, in its own transaction, each station's span of new readings as dirty (one row per
station, widened by later writes). `roll` recomputes the bins those spans affect, QC context
included, and clears the marks in one transaction per few stations, holding SQLite's write lock
meanwhile: a gateway's write waits for it, so no reading lands between the raw rows read and the
bins written. Several gateways on one file roll the same way and cannot undo each other. Late,
repeated, replaced and out-of-order readings all mark their span; the bins are always recomputed,
never incremented, so they equal a rebuild from the raw rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ingest import rollup
from ingest.domain import qc

SCHEMA = """
CREATE TABLE IF NOT EXISTS bins (
    field TEXT NOT NULL,
    day INTEGER NOT NULL,
    station TEXT NOT NULL,
    stats BLOB NOT NULL,
    PRIMARY KEY (field, day, station)
);
CREATE TABLE IF NOT EXISTS bins_dirty (
    station TEXT PRIMARY KEY,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL
) WITHOUT ROWID;
"""
MARK_HEAD = "INSERT INTO bins_dirty (station, from_ms, to_ms) VALUES "
MARK_TAIL = (
    " ON CONFLICT (station) DO UPDATE SET from_ms = min(from_ms, excluded.from_ms),"
    " to_ms = max(to_ms, excluded.to_ms)"
)
# A station's readings rolled per transaction: a week of one-minute readings is 10,000 rows, a few
# tens of milliseconds of the write lock. A longer span (a rebuild) goes a week at a time.
SPAN_MS = 7 * rollup.DAY_MS
STATIONS_PER_TRANSACTION = 20

# Raw rows of one station in [start, end) and the reading just before them (rain's limit needs
# the gap to it).
_CONTEXT_SQL = (
    "SELECT ts_ms, {columns} FROM obs WHERE station = ?1"
    " AND ts_ms >= coalesce((SELECT max(ts_ms) FROM obs WHERE station = ?1 AND ts_ms < ?2), ?2)"
    " AND ts_ms < ?3 ORDER BY ts_ms"
)


def _context(
    db: sqlite3.Connection, station: str, span: tuple[int, int], fields: Sequence[str]
) -> pd.DataFrame:
    """The read() frame of one station's rows a roll of `fields` needs (their QC partners too)."""
    columns = [f for f in rollup.FIELDS if f in qc.with_partners(fields)]
    sql = _CONTEXT_SQL.format(columns=", ".join(columns))
    rows = db.execute(sql, (station, *span)).fetchall()
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(columns) + 1)  # NULL: NaN
    return pd.DataFrame(
        {
            "station": np.full(len(rows), station, dtype=object),
            "time": pd.to_datetime(table[:, 0].astype(np.int64), unit="ms", utc=True),
            **{name: table[:, i + 1] for i, name in enumerate(columns)},
        }
    )


_MARK_ALL = (
    "INSERT OR IGNORE INTO bins_dirty"
    " SELECT station, min(ts_ms), max(ts_ms) FROM obs GROUP BY station"
)

# Each station in obs by one seek of its primary key per station, not a scan of every row.
_EVERY_STATION = (
    "WITH RECURSIVE s(station) AS (SELECT min(station) FROM obs UNION ALL"
    " SELECT (SELECT min(station) FROM obs WHERE station > s.station) FROM s"
    " WHERE s.station IS NOT NULL) SELECT station FROM s WHERE station IS NOT NULL"
)


def create(db: sqlite3.Connection) -> None:
    """The bins' tables. A store written before they existed gets every station marked: the
    gateway's next passes roll its history (or `classnet rollup rebuild` at once)."""
    had = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'bins'").fetchone()
    db.executescript(SCHEMA)
    if not had:
        with db:
            db.execute(_MARK_ALL)


def marks(obs: pd.DataFrame) -> list[object]:
    """Row-major (station, first, last) of a batch's readings, for `MARK_HEAD … MARK_TAIL`."""
    if obs.empty:
        return []
    spans = obs.groupby("station", sort=False)["ts_ms"].agg(["min", "max"])
    return [v for s, a, b in spans.itertuples() for v in (str(s), int(a), int(b))]


def roll(db: sqlite3.Connection, budget_s: float) -> bool:
    """Recompute dirty bins for about `budget_s` seconds; True while marks are left."""
    deadline = time.monotonic() + budget_s
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            dirty = db.execute(
                "SELECT station, from_ms, to_ms FROM bins_dirty ORDER BY from_ms LIMIT ?",
                (STATIONS_PER_TRANSACTION,),
            ).fetchall()
            for station, first, last in dirty:
                upto = min(last, first + SPAN_MS - 1)
                lo, hi = rollup.affected(first, upto)
                start, end = rollup.context(lo, hi)
                obs = _context(db, station, (start, end), rollup.FIELDS)
                _store(db, rollup.roll(obs, lo, hi))
                if upto >= last:
                    db.execute("DELETE FROM bins_dirty WHERE station = ?", (station,))
                else:
                    db.execute(
                        "UPDATE bins_dirty SET from_ms = ? WHERE station = ?", (upto + 1, station)
                    )
            db.commit()
        except BaseException:
            db.rollback()
            raise
        if not dirty:
            return False
        if time.monotonic() >= deadline:
            return True


def _store(db: sqlite3.Connection, days: Iterable[rollup.DayBins]) -> None:
    """Write recomputed slots over what the store keeps; a day left with no reading goes."""
    for day in days:
        arrays = day.arrays
        if not day.whole_day:
            arrays = _kept(db, day.station, day.day)
            for field, array in day.arrays.items():
                arrays[field][:, day.slots] = array[:, day.slots]
        db.execute("DELETE FROM bins WHERE day = ? AND station = ?", (day.day, day.station))
        if not arrays[rollup.OBS][0].any():
            continue
        db.executemany(
            "INSERT INTO bins (field, day, station, stats) VALUES (?, ?, ?, ?)",
            [
                (field, day.day, day.station, rollup.pack(array))
                for field, array in arrays.items()
                if field == rollup.OBS or _has_values(field, array)
            ],
        )


def _has_values(field: str, array: np.ndarray) -> bool:
    """A field with no present value all day is not kept (an outdoor school has no CO₂)."""
    stats = rollup.stats_of(field)
    return bool(array[stats.index("n")].any() or array[stats.index("flagged")].any())


def _kept(db: sqlite3.Connection, station: str, day: int) -> dict[str, np.ndarray]:
    kept = {
        field: rollup.unpack(blob, field).copy()
        for field, blob in db.execute(
            "SELECT field, stats FROM bins WHERE day = ? AND station = ?", (day, station)
        )
    }
    return {f: kept.get(f, rollup.empty(f)) for f in (rollup.OBS, *rollup.FIELDS)}


def read(
    db: sqlite3.Connection,
    start_ms: int,
    end_ms: int,
    stations: Sequence[str] | None,
    fields: Sequence[str],
) -> pd.DataFrame:
    """The bins of [start, end) as `rollup.to_frame` gives them, equal to those of every reading
    stored: the kept ones, and where a station's span is still marked (written since the last
    roll, or a store from before bins opened read-only) computed from its raw rows the same way.
    With a gateway rolling every few seconds that is the last hour or so of each live station."""
    first, last = start_ms // rollup.DAY_MS, (end_ms - 1) // rollup.DAY_MS
    has_bins = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'bins'").fetchone()
    stack = _kept_stack(db, first, last, stations, fields) if has_bins else None
    hi = rollup.floor_bin(end_ms - 1) + rollup.BIN_MS
    fresh: list[rollup.DayBins] = []
    for station, stale_from in _stale(db, stations, bool(has_bins)):
        lo = max(stale_from, rollup.floor_bin(start_ms))
        if lo < hi:
            obs = _context(db, station, rollup.context(lo, hi), fields)
            fresh.extend(rollup.roll(obs, lo, hi, fields))
    return rollup.to_frame(_spliced(stack, fresh, fields), fields, start_ms, end_ms)


def _kept_stack(
    db: sqlite3.Connection,
    first: int,
    last: int,
    stations: Sequence[str] | None,
    fields: Sequence[str],
) -> rollup.Stack:
    where = "field = ? AND day BETWEEN ? AND ?"
    if stations is not None:
        where += f" AND station IN ({', '.join('?' for _ in stations)})"
    sql = f"SELECT station, day, stats FROM bins WHERE {where} ORDER BY station, day"
    keys: list[tuple[str, int]] = []
    arrays: dict[str, np.ndarray] = {}
    for field in (rollup.OBS, *fields):
        rows = db.execute(sql, [field, first, last, *(stations or [])]).fetchall()
        stats = len(rollup.stats_of(field))
        values = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f8").reshape(
            len(rows), stats, rollup.SLOTS
        )
        if field == rollup.OBS:
            keys = [(r[0], r[1]) for r in rows]
            arrays[field] = values
            continue
        # A field a station did not report that day is not kept: its rows stay empty.
        full = np.broadcast_to(rollup.empty(field), (len(keys), stats, rollup.SLOTS)).copy()
        position = {key: i for i, key in enumerate(keys)}
        at = [position.get((r[0], r[1]), -1) for r in rows]
        found = np.array(at, dtype=np.int64) >= 0
        full[np.array(at, dtype=np.int64)[found]] = values[found]
        arrays[field] = full
    return rollup.Stack(
        stations=np.array([k[0] for k in keys], dtype=object),
        days=np.array([k[1] for k in keys], dtype=np.int64),
        arrays=arrays,
    )


def _stale(
    db: sqlite3.Connection, stations: Sequence[str] | None, has_bins: bool
) -> list[tuple[str, int]]:
    """Per station, the first bin the kept ones may not have right (every bin without bins)."""
    if has_bins:
        marked = [
            (s, rollup.affected(a, a)[0])
            for s, a in db.execute("SELECT station, from_ms FROM bins_dirty")
        ]
    else:
        everyone = db.execute(_EVERY_STATION).fetchall()
        marked = [(s, -(2**62)) for (s,) in everyone]
    wanted = None if stations is None else set(stations)
    return [(s, at) for s, at in marked if wanted is None or s in wanted]


def _spliced(
    stack: rollup.Stack | None, fresh: Sequence[rollup.DayBins], fields: Sequence[str]
) -> rollup.Stack:
    """The kept stack with the freshly computed slots written over it (rows added as needed)."""
    if stack is None:
        return rollup.Stack.of(fresh, fields)
    if not fresh:
        return stack
    position = {
        (s, int(d)): i for i, (s, d) in enumerate(zip(stack.stations, stack.days, strict=True))
    }
    added = [d for d in fresh if (d.station, d.day) not in position]
    added_keys = list(dict.fromkeys((d.station, d.day) for d in added))
    for key in added_keys:
        position[key] = len(position)
    grown = rollup.Stack.of([rollup.DayBins(s, d, slice(0, 0), {}) for s, d in added_keys], fields)
    arrays = {f: np.concatenate([stack.arrays[f], grown.arrays[f]]) for f in stack.arrays}
    for day in fresh:
        row = position[(day.station, day.day)]
        for field, array in arrays.items():
            array[row][:, day.slots] = day.arrays[field][:, day.slots]
    return rollup.Stack(
        stations=np.concatenate([stack.stations, grown.stations]),
        days=np.concatenate([stack.days, grown.days]),
        arrays=arrays,
    )


def rebuild(db: sqlite3.Connection, progress: Callable[[int], None]) -> None:
    """Forget every bin and recompute them all from the raw rows; `progress` gets the number of
    stations still marked after each pass."""
    with db:
        db.execute("DELETE FROM bins")
        db.execute("DELETE FROM bins_dirty")
        db.execute(_MARK_ALL)
    while roll(db, budget_s=2.0):
        progress(db.execute("SELECT count(*) FROM bins_dirty").fetchone()[0])
    progress(0)
