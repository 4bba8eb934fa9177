"""SQLite store: one file, WAL mode, for a school that runs everything on one machine.

WAL lets the dashboard (another process) read while the gateway writes. The primary key
(station, ts_ms) makes a repeated point replace the old one, so redelivered messages never
duplicate. synchronous=FULL because the gateway acknowledges a batch to the broker as soon as its
transaction commits: the commit must be on disk by then.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from firmware import wire
from ingest.base import (
    REJECT_COLUMNS,
    REJECT_COUNT_COLUMNS,
    StoreError,
    check_fields,
    check_stations,
    empty_registry,
    obs_frame,
    stations_frame,
    to_ms,
)
from ingest.batch import OBS_COLUMNS, REGISTRY_FIELDS, Batch
from ingest.rollup import (
    ALL_COLUMNS,
    BIN_MS,
    ROLLUP_RANGES,
    VECTOR_FIELDS,
    bins_frame,
    check_width,
    columns_of,
    combine_of,
)

_FIELDS_SQL = ",\n    ".join(f"{name} REAL" for name in wire.FIELD_NAMES)
_ROLLUP_SQL = ",\n    ".join(
    f"{name} {'INTEGER' if name.startswith('n_') else 'REAL'}" for name in ALL_COLUMNS
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS obs (
    station TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    seq INTEGER,
    {_FIELDS_SQL},
    PRIMARY KEY (station, ts_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_15m (
    station TEXT NOT NULL,
    bin_ms INTEGER NOT NULL,
    n_obs INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    {_ROLLUP_SQL},
    PRIMARY KEY (station, bin_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry (
    station TEXT PRIMARY KEY,
    name TEXT, lat REAL, lon REAL, elevation_m REAL, timezone TEXT, exposure TEXT,
    sensors TEXT, firmware TEXT, state TEXT, last_seen_ms INTEGER, battery_v REAL, rssi_dbm REAL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    station TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_station ON dead_letters (station, received_ms);
-- A batch retried after a write that did land must not add its dead letters or counts twice.
-- The payload is part of the key: the messages of one batch share received_ms, and two different
-- bad bodies from one station often get the same detail ("not UTF-8 at byte 0"); without it the
-- second was silently not kept (found by tests/fuzz). dead_letters_once was the old key.
DROP INDEX IF EXISTS dead_letters_once;
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_once_per_body
    ON dead_letters (received_ms, station, topic, reason, detail, payload);
CREATE TABLE IF NOT EXISTS reject_counts (
    station TEXT NOT NULL,
    reason TEXT NOT NULL,
    batch_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (station, reason, batch_ms)
) WITHOUT ROWID;
"""
_KEY_COLUMNS = ("station", "ts_ms")
# Values bound per INSERT: a few hundred rows. Longer statements gain nothing measurable and
# cost more to compile; SQLite's own limit may be lower (999 before 3.32).
MAX_PARAMS = 4000
# The bins a batch touched, recomputed from the raw rows inside the write's transaction: the
# result is exact whatever the batch held (late, out-of-order, a reading sent twice, or a
# repeated (station, ts) whose values differ and replaced the old row), because a bin is never
# adjusted by a difference, always recounted from what obs holds once the rows are in.
_TOUCHED = (
    "CREATE TEMP TABLE IF NOT EXISTS touched"
    " (station TEXT NOT NULL, bin_ms INTEGER NOT NULL, PRIMARY KEY (station, bin_ms))"
    " WITHOUT ROWID"
)


def _rollup_aggregates() -> str:
    """The statistics of one bin's obs rows (alias o), in rollup_15m's column order."""
    parts = ["count(*)", "min(o.ts_ms)", "max(o.ts_ms)"]
    for field, (low, high) in ROLLUP_RANGES.items():
        # QC range test at roll-up: a value outside it counts in no statistic.
        v = f"(CASE WHEN o.{field} BETWEEN {low!r} AND {high!r} THEN o.{field} END)"
        parts += [f"count({v})", f"sum({v})", f"min({v})", f"max({v})"]
        if field in VECTOR_FIELDS:
            parts += [f"sum(sin(radians({v})))", f"sum(cos(radians({v})))"]
    return ", ".join(parts)


_ROLLUP_INTO = (
    "INSERT OR REPLACE INTO rollup_15m ("
    + ", ".join(["station", "bin_ms", "n_obs", "first_ms", "last_ms", *ALL_COLUMNS])
    + ")"
)
_RECOMPUTE_TOUCHED = (
    f"{_ROLLUP_INTO} SELECT t.station, t.bin_ms, {_rollup_aggregates()}"
    " FROM temp.touched t JOIN obs o"
    f" ON o.station = t.station AND o.ts_ms >= t.bin_ms AND o.ts_ms < t.bin_ms + {BIN_MS}"
    " GROUP BY t.station, t.bin_ms"
)
# A rebuild reads obs once in key order: every bin of [?, ?) recomputed.
_REBUILD_RANGE = (
    f"{_ROLLUP_INTO} SELECT o.station, o.ts_ms / {BIN_MS} * {BIN_MS} AS b, {_rollup_aggregates()}"
    " FROM obs o WHERE o.ts_ms >= ? AND o.ts_ms < ? GROUP BY o.station, b"
)
_FOREVER = (0, 2**62)
# "Every station": obs and rollup_15m are keyed (station, time), so a time range alone would scan
# the whole table (21.6 M rows for a month of 500 schools, to return an hour); naming the
# stations through the registry makes it one primary-key seek per station.
_ALL_STATIONS = " AND station IN (SELECT station FROM registry)"


_INSERT_DEAD_LETTER = (
    "INSERT OR IGNORE INTO dead_letters (received_ms, station, topic, reason, detail, payload)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_PUT_REJECT_COUNT = (
    "INSERT OR REPLACE INTO reject_counts (station, reason, batch_ms, count) VALUES (?, ?, ?, ?)"
)


def _obs_inserts(batch: Batch, max_params: int) -> Iterator[tuple[str, list[object]]]:
    """INSERTs of many rows each for the batch's observations.

    executemany would run one sqlite3_step per row, and the sqlite3 module releases the GIL
    around each step: with the gateway's network thread busy, every row then waits to get the
    GIL back (a 5,000-row batch took ~80 µs a row in bench/ingest.py instead of ~10). A few
    hundred rows per statement means a few hundred times fewer waits. Columns no observation in
    the batch carries are left out (NULL); SQLite binds NaN as NULL."""
    obs = batch.obs
    names = [n for n in OBS_COLUMNS if n in _KEY_COLUMNS or obs[n].notna().any()]
    flat = list(chain.from_iterable(zip(*(obs[n].tolist() for n in names), strict=True)))
    head = f"INSERT OR REPLACE INTO obs ({', '.join(names)}) VALUES "
    return _multirow(head, len(names), flat, "", max_params)


def _touched_bins(batch: Batch, max_params: int) -> Iterator[tuple[str, list[object]]]:
    """Statements that fill temp.touched with the (station, bin) pairs of the batch."""
    obs = batch.obs
    if obs.empty:
        return
    keys = pd.DataFrame(
        {"station": obs["station"].to_numpy(), "bin_ms": obs["ts_ms"].to_numpy() // BIN_MS * BIN_MS}
    ).drop_duplicates()
    flat = list(
        chain.from_iterable(zip(keys["station"].tolist(), keys["bin_ms"].tolist(), strict=True))
    )
    yield "DELETE FROM temp.touched", []
    yield from _multirow("INSERT INTO temp.touched VALUES ", 2, flat, "", max_params)
    yield _RECOMPUTE_TOUCHED, []
    # Every station with observations has a registry row: reads of all stations walk the
    # registry and seek each one's rows by primary key (see `_ALL_STATIONS`).
    unnamed = sorted(set(keys["station"].tolist()) - set(batch.registry))
    yield from _multirow(
        "INSERT INTO registry (station) VALUES ",
        1,
        list(unnamed),
        " ON CONFLICT DO NOTHING",
        max_params,
    )


def _registry_upserts(
    registry: dict[str, dict[str, object]], max_params: int
) -> Iterator[tuple[str, list[object]]]:
    """Upserts for the stations a batch heard from, many per statement (as `_obs_inserts`, and
    for the same reason); stations that carried the same fields share statements."""
    by_names: dict[tuple[str, ...], list[object]] = {}
    for station, values in registry.items():
        names = tuple(n for n in REGISTRY_FIELDS if n in values)
        by_names.setdefault(names, []).extend([station, *(values[n] for n in names)])
    for names, flat in by_names.items():
        sets = ", ".join(
            "last_seen_ms = max(coalesce(last_seen_ms, 0), excluded.last_seen_ms)"
            if n == "last_seen_ms"
            else f"{n} = excluded.{n}"
            for n in names
        )
        head = f"INSERT INTO registry (station{''.join(', ' + n for n in names)}) VALUES "
        tail = (
            f" ON CONFLICT (station) DO UPDATE SET {sets}" if names else " ON CONFLICT DO NOTHING"
        )
        yield from _multirow(head, len(names) + 1, flat, tail, max_params)


def _multirow(
    head: str, width: int, flat: list[object], tail: str, max_params: int
) -> Iterator[tuple[str, list[object]]]:
    """`head (?, ...), (?, ...) tail` statements binding at most `max_params` of the row-major
    values in `flat`, `width` to a row (at least one row each)."""
    row = f"({', '.join('?' * width)})"
    per = max(1, max_params // width) * width
    for start in range(0, len(flat), per):
        chunk = flat[start : start + per]
        yield head + ", ".join([row] * (len(chunk) // width)) + tail, chunk


class SQLiteStore:
    def __init__(self, path: Path, timeout_s: float = 30.0, read_only: bool = False) -> None:
        self.path = path
        self.url = f"sqlite:///{path.resolve()}"
        try:
            if not read_only:
                self._db = self._open_for_writing(path, timeout_s)
            else:
                self._db = self._open_for_reading(path, timeout_s)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.url}: cannot open ({exc})", retryable=False) from None
        self._max_params = min(MAX_PARAMS, self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))

    @classmethod
    def _open_for_reading(cls, path: Path, timeout_s: float) -> sqlite3.Connection:
        if not path.exists():
            # A reader that starts before the first gateway gets the (empty) schema to read.
            cls._open_for_writing(path, timeout_s).close()
        # SQLite itself refuses every write on this connection: a reader (the dashboard) has no
        # write path, not even by mistake.
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=timeout_s,
            check_same_thread=False,
        )

    @staticmethod
    def _open_for_writing(path: Path, timeout_s: float) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the gateway writes from its writer thread; one connection
        # is never used by two threads at once.
        db = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        had_rollup = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollup_15m'"
        ).fetchone()
        db.executescript(SCHEMA)
        db.execute(_TOUCHED)
        if not had_rollup:
            # A store written before rollups existed: fill them once, so no reader sees bins
            # that miss what the raw rows hold.
            with db:
                db.execute(_REBUILD_RANGE, _FOREVER)
        return db

    def prepare(self, batch: Batch) -> None:
        batch.prepared = [
            *_obs_inserts(batch, self._max_params),
            *_touched_bins(batch, self._max_params),
            *_registry_upserts(batch.registry, self._max_params),
        ]

    def write(self, batch: Batch) -> None:
        if batch.prepared is None:
            self.prepare(batch)
        try:
            with self._db:
                for sql, values in batch.prepared:
                    self._db.execute(sql, values)
                self._db.executemany(
                    _INSERT_DEAD_LETTER,
                    [
                        (d.received_ms, d.station, d.topic, d.reason, d.detail, d.payload)
                        for d in batch.dead_letters
                    ],
                )
                at = batch.created_ms or int(time.time() * 1000)
                self._db.executemany(
                    _PUT_REJECT_COUNT,
                    [(s, r, at, n) for (s, r), n in batch.reject_counts.items()],
                )
        except sqlite3.OperationalError as exc:
            # "database is locked" or a full disk: both can clear up, so the batch is spooled.
            raise StoreError(f"{self.url}: write failed ({exc})", retryable=True) from None

    def read(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        names = check_fields(fields)
        wanted = check_stations(stations)
        sql = f"SELECT station, ts_ms, {', '.join(names)} FROM obs WHERE ts_ms >= ? AND ts_ms < ?"
        params: list[object] = [to_ms(start), to_ms(end)]
        if wanted is not None:
            sql += f" AND station IN ({', '.join('?' for _ in wanted)})"
            params += wanted
        else:
            sql += _ALL_STATIONS
        rows = self._db.execute(sql + " ORDER BY station, ts_ms", params).fetchall()
        if not rows:
            return obs_frame(
                np.array([], dtype=object),
                np.array([], dtype="int64"),
                {n: np.array([], dtype="float64") for n in names},
            )
        station = np.array([r[0] for r in rows], dtype=object)
        table = np.array([r[1:] for r in rows], dtype="float64")  # NULL -> nan
        return obs_frame(
            station, table[:, 0].astype("int64"), {n: table[:, i + 1] for i, n in enumerate(names)}
        )

    def latest(
        self, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> pd.DataFrame:
        names = check_fields(fields)
        # One backward primary-key seek per station and field: the newest row with a value.
        columns = ", ".join(
            f"(SELECT o.{n} FROM obs o WHERE o.station = r.station AND o.ts_ms >= :start"
            f" AND o.ts_ms < :end AND o.{n} IS NOT NULL ORDER BY o.ts_ms DESC LIMIT 1)"
            for n in names
        )
        rows = self._db.execute(
            f"SELECT r.station, {columns} FROM registry r ORDER BY r.station",
            {"start": to_ms(start), "end": to_ms(end)},
        ).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=["station", *names], coerce_float=True)
        frame = frame.set_index("station").astype("float64")
        return frame[frame.notna().any(axis=1)]

    def rebuild_rollups(self, start: datetime | None = None, end: datetime | None = None) -> int:
        """Recompute the 15-minute bins from the raw rows (all, or those of [start, end) widened
        to whole bins) in one transaction; returns how many bins there are now in the span."""
        low = to_ms(start) // BIN_MS * BIN_MS if start else _FOREVER[0]
        high = -(-to_ms(end) // BIN_MS) * BIN_MS if end else _FOREVER[1]
        try:
            with self._db:
                self._db.execute(
                    "DELETE FROM rollup_15m WHERE bin_ms >= ? AND bin_ms < ?", (low, high)
                )
                self._db.execute(_REBUILD_RANGE, (low, high))
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.url}: rollup rebuild failed ({exc})", retryable=True) from None
        row = self._db.execute(
            "SELECT count(*) FROM rollup_15m WHERE bin_ms >= ? AND bin_ms < ?", (low, high)
        ).fetchone()
        return int(row[0])

    def read_bins(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
        width_ms: int = BIN_MS,
        shift_ms: int = 0,
    ) -> pd.DataFrame:
        """Bins of `width_ms` starting at k * width + shift, made of the 15-minute bins starting
        in [start, end) (ingest/rollup.py has the shape and `check_width` the rules)."""
        check_width(width_ms, shift_ms)
        chosen = check_fields(fields)
        names = [c for f in chosen for c in columns_of(f)]
        wanted = check_stations(stations)
        if width_ms == BIN_MS:
            picks = ["bin_ms", "n_obs", "first_ms", "last_ms", *names]
        else:
            # Coarser bins are sums, minima and maxima of the 15-minute ones: a quarter of the
            # rows leave SQLite for hours, a ninety-sixth for days.
            picks = [
                f"(bin_ms - {shift_ms}) / {width_ms} * {width_ms} + {shift_ms} AS b",
                "sum(n_obs)",
                "min(first_ms)",
                "max(last_ms)",
                *(f"{combine_of(c)}({c})" for c in names),
            ]
        sql = f"SELECT station, {', '.join(picks)} FROM rollup_15m WHERE bin_ms >= ? AND bin_ms < ?"
        params: list[object] = [to_ms(start), to_ms(end)]
        if wanted is not None:
            sql += f" AND station IN ({', '.join('?' for _ in wanted)})"
            params += wanted
        else:
            sql += _ALL_STATIONS
        if width_ms != BIN_MS:
            sql += " GROUP BY station, b"
        columns = ["station", "bin_ms", "n_obs", "first_ms", "last_ms", *names]
        rows = self._db.execute(sql + " ORDER BY 1, 2", params).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)
        return bins_frame(frame, chosen)

    def stations(self, path: Path | None = None) -> pd.DataFrame:
        live = pd.read_sql_query("SELECT * FROM registry", self._db, index_col="station")
        return stations_frame(live if not live.empty else empty_registry(), path)

    def rejects(self, station: str | None = None, limit: int = 100) -> pd.DataFrame:
        sql = "SELECT received_ms, station, topic, reason, detail, payload FROM dead_letters"
        params: list[object] = []
        if station is not None:
            sql += " WHERE station = ?"
            params.append(station)
        rows = self._db.execute(
            sql + " ORDER BY received_ms DESC, id DESC LIMIT ?", [*params, limit]
        )
        frame = pd.DataFrame(rows.fetchall(), columns=list(REJECT_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ms", utc=True)
        frame["payload"] = [bytes(p).decode("utf-8", "backslashreplace") for p in frame["payload"]]
        return frame

    def reject_counts(
        self, start: datetime | None = None, station: str | None = None
    ) -> pd.DataFrame:
        sql = "SELECT station, reason, sum(count) FROM reject_counts WHERE batch_ms >= ?"
        params: list[object] = [to_ms(start) if start else 0]
        if station is not None:
            sql += " AND station = ?"
            params.append(station)
        rows = self._db.execute(sql + " GROUP BY station, reason ORDER BY station, reason", params)
        frame = pd.DataFrame(rows.fetchall(), columns=list(REJECT_COUNT_COLUMNS))
        frame["count"] = frame["count"].astype("int64")
        return frame

    def close(self) -> None:
        self._db.close()
