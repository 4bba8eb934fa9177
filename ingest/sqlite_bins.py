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
    rolled_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (field, day, station)
);
-- A roll rewrites one station's day, every field: found by this, not by a scan of the table.
CREATE INDEX IF NOT EXISTS bins_by_station ON bins (station, day);
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
# Arrays a school keeps a day (its readings and the fields it reports): what a seek by school
# visits for each one it keeps of a field.
FIELDS_PER_DAY = 8
STATIONS_PER_TRANSACTION = 500

# How far the clocks of gateways rolling one store may disagree (`changes`).
CLOCK_SKEW_MS = 60_000

# Raw rows of one station in [start, end) and the reading just before them (rain's limit needs
# the gap to it).
_CONTEXT_SQL = (
    "SELECT ts_ms, {columns} FROM obs WHERE station = ?1"
    " AND ts_ms >= coalesce((SELECT max(ts_ms) FROM obs WHERE station = ?1 AND ts_ms < ?2), ?2)"
    " AND ts_ms < ?3 ORDER BY ts_ms"
)

_NEXT_SQL = (
    "SELECT ts_ms FROM obs WHERE station = ? AND ts_ms > ? AND ts_ms <= ? ORDER BY ts_ms LIMIT 1"
)


def _context(
    db: sqlite3.Connection,
    stations: Sequence[str],
    span: tuple[int, int],
    fields: Sequence[str],
) -> pd.DataFrame:
    """The read() frame (station categorical) of the rows a roll of `fields` needs (their QC
    partners too) for each of `stations` over `span`: one primary-key range per station, one
    frame for all, so a roll of thousands of schools is one QC pass."""
    columns = [f for f in rollup.FIELDS if f in qc.with_partners(fields)]
    sql = _CONTEXT_SQL.format(columns=", ".join(columns))
    tables, codes = [], []
    for code, station in enumerate(stations):
        rows = db.execute(sql, (station, *span)).fetchall()
        if rows:
            tables.append(np.array(rows, dtype=np.float64))  # NULL: NaN
            codes.append(np.full(len(rows), code, dtype=np.int32))
    table = np.concatenate(tables) if tables else np.zeros((0, len(columns) + 1))
    station = pd.Categorical.from_codes(
        np.concatenate(codes) if codes else np.zeros(0, np.int32),
        categories=pd.Index(list(stations), dtype=object),
    )
    return pd.DataFrame(
        {
            "station": station,
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
    columns = {row[1] for row in db.execute("PRAGMA table_info(bins)")}
    if "rolled_ms" not in columns:  # bins kept before they said when they were rolled
        db.execute("ALTER TABLE bins ADD COLUMN rolled_ms INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX IF NOT EXISTS bins_by_rolled ON bins (rolled_ms)")


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
            for group in rollup.groups(dirty):
                # The stations of a group share one span: one read, one QC pass, one roll.
                days, upto = rollup.roll_group(group, lambda st, span, f: _context(db, st, span, f))
                write_days(db, days)
                for station, _, last in group:
                    following = _next_reading(db, station, upto[station], last)
                    if following is None:
                        db.execute("DELETE FROM bins_dirty WHERE station = ?", (station,))
                    else:
                        db.execute(
                            "UPDATE bins_dirty SET from_ms = ? WHERE station = ?",
                            (following, station),
                        )
            db.commit()
        except BaseException:
            db.rollback()
            raise
        if not dirty:
            return False
        if time.monotonic() >= deadline:
            return True


def _next_reading(db: sqlite3.Connection, station: str, after: int, last: int) -> int | None:
    """Where a station's mark goes on after a span rolled up to `after`: its next stored reading
    up to `last`, the mark's end (None: the mark is done). One seek of the primary key.

    The stretch skipped holds no reading, so a roll there would change nothing: rows are never
    deleted (a replaced one keeps its key), so no kept bin there has a reading, and QC's reach
    into it (the hour before the next reading) is the next pass's (`rollup.affected`). A station's
    stray reading from 2020 beside today's costs one pass, not one per week between."""
    if after >= last:
        return None
    row = db.execute(_NEXT_SQL, (station, after, last)).fetchone()
    return None if row is None else int(row[0])


def write_days(db: sqlite3.Connection, days: Iterable[rollup.DayBins]) -> None:
    """Write recomputed slots over what the store keeps, stamped with the time they were rolled
    (`changes`); a day left with no reading goes."""
    rolled_ms = time.time_ns() // 1_000_000
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
            "INSERT INTO bins (field, day, station, stats, rolled_ms) VALUES (?, ?, ?, ?, ?)",
            [
                (field, day.day, day.station, rollup.pack(array), rolled_ms)
                for field, array in arrays.items()
                if field == rollup.OBS or _has_values(field, array)
            ],
        )


def changes(db: sqlite3.Connection, since_ms: int | None) -> tuple[int, dict[str, tuple[int, int]]]:
    """What changed since `since_ms`, the time of an earlier answer: per station, the first and
    last UTC day (ms) of its bins rolled since or still marked for a roll; and the time to ask
    from next. Without `since_ms`, only that time (where a reader's first read begins).

    A roll's transaction holds the write lock from before its stamp to its commit, so asking
    again from the newest stamp seen misses nothing; `CLOCK_SKEW_MS` more covers gateways whose
    clocks disagree a little (rolls seen twice cost a re-read, not a wrong answer)."""
    (newest,) = db.execute("SELECT coalesce(max(rolled_ms), 0) FROM bins").fetchone()
    found: dict[str, tuple[int, int]] = {}
    if since_ms is None:
        return newest, found
    rolled = db.execute(
        "SELECT station, min(day), max(day) FROM bins INDEXED BY bins_by_rolled"
        " WHERE rolled_ms > ? GROUP BY station",
        (since_ms - CLOCK_SKEW_MS,),
    )
    for station, first, last in rolled:
        found[station] = (first * rollup.DAY_MS, last * rollup.DAY_MS)
    for station, first, last in db.execute("SELECT station, from_ms, to_ms FROM bins_dirty"):
        day = (first // rollup.DAY_MS * rollup.DAY_MS, last // rollup.DAY_MS * rollup.DAY_MS)
        known = found.get(station, day)
        found[station] = (min(known[0], day[0]), max(known[1], day[1]))
    return max(newest, since_ms), found


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
    stale = [(at, station) for station, at in _stale(db, stations, bool(has_bins))]
    return rollup.complete(
        stack, stale, fields, start_ms, end_ms, lambda st, span, f: _context(db, st, span, f)
    )


def _kept_stack(
    db: sqlite3.Connection,
    first: int,
    last: int,
    stations: Sequence[str] | None,
    fields: Sequence[str],
) -> rollup.Stack:
    where, index = "field = ? AND day BETWEEN ? AND ?", ""
    if stations is not None:
        where += f" AND station IN ({', '.join('?' for _ in stations)})"
        # A few schools of many: seek each school's days rather than scan every school's in the
        # primary key's order (a year of 4 schools of 500: 0.02 s a field, not 0.08 s); a wide
        # group the other way round (a month of 170: 0.07 s, not 0.15 s).
        (network,) = db.execute("SELECT count(*) FROM registry").fetchone()
        if len(stations) * FIELDS_PER_DAY < network:
            index = "INDEXED BY bins_by_station"
    # Sorted here, not by SQL: its sorter would move every blob (a month of 250 schools' field:
    # 0.11 s with ORDER BY, 0.03 s without).
    sql = f"SELECT station, day, stats FROM bins {index} WHERE {where}"
    keys: list[tuple[str, int]] = []
    arrays: dict[str, np.ndarray] = {}
    for field in (rollup.OBS, *fields):
        rows = db.execute(sql, [field, first, last, *(stations or [])]).fetchall()
        if field == rollup.OBS:
            if not rows:  # no day kept: no field has one either
                return rollup.Stack.of([], fields)
            rows.sort(key=lambda row: (row[0], row[1]))
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
    wanted = None if stations is None else set(stations)
    if not has_bins:
        everyone = db.execute(_EVERY_STATION).fetchall()
        return [(s, -(2**62)) for (s,) in everyone if wanted is None or s in wanted]
    sql, params = "SELECT station, from_ms FROM bins_dirty", list(stations or [])
    if stations is not None:
        sql += f" WHERE station IN ({', '.join('?' for _ in stations)})"
    return [(s, rollup.affected(a, a)[0]) for s, a in db.execute(sql, params)]


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
