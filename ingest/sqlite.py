"""SQLite store: one file, WAL mode, for a school that runs everything on one machine.

WAL lets the dashboard (another process) read while the gateway writes. The primary key
(station, ts_ms) makes a repeated point replace the old one, so redelivered messages never
duplicate. synchronous=FULL because the gateway acknowledges a batch to the broker as soon as its
transaction commits: the commit must be on disk by then.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from firmware import wire
from ingest import rollup, sqlite_bins
from ingest.base import (
    REJECT_COLUMNS,
    REJECT_COUNT_COLUMNS,
    BinsChanges,
    StoreError,
    check_fields,
    check_stations,
    empty_registry,
    obs_frame,
    stations_frame,
    to_ms,
)
from ingest.batch import OBS_COLUMNS, REGISTRY_FIELDS, Batch, DeadLetter
from ingest.dead_letters import DeadLetterLimits, digest

_FIELDS_SQL = ",\n    ".join(f"{name} REAL" for name in wire.FIELD_NAMES)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS obs (
    station TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    seq INTEGER,
    {_FIELDS_SQL},
    PRIMARY KEY (station, ts_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry (
    station TEXT PRIMARY KEY,
    name TEXT, lat REAL, lon REAL, elevation_m REAL, timezone TEXT, exposure TEXT,
    sensors TEXT, firmware TEXT, state TEXT, last_seen_ms INTEGER, battery_v REAL, rssi_dbm REAL,
    siting TEXT, outbox INTEGER, outbox_max INTEGER
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    station TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL,
    digest BLOB
);
CREATE INDEX IF NOT EXISTS dead_letters_station ON dead_letters (station, received_ms);
-- A batch retried after a write that did land must not add its dead letters twice: they are
-- keyed by a digest of all their columns (ingest/dead_letters.py). The older unique indexes on
-- the columns themselves held a second copy of every payload.
DROP INDEX IF EXISTS dead_letters_once;
DROP INDEX IF EXISTS dead_letters_once_per_body;
CREATE TABLE IF NOT EXISTS reject_counts (
    station TEXT NOT NULL,
    reason TEXT NOT NULL,
    batch_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (station, reason, batch_ms)
) WITHOUT ROWID;
"""
# Registry columns added after the first release, with their types.
_LATER_REGISTRY_COLUMNS = (("siting", "TEXT"), ("outbox", "INTEGER"), ("outbox_max", "INTEGER"))
_KEY_COLUMNS = ("station", "ts_ms")
# Values bound per INSERT: a few hundred rows. Longer statements gain nothing measurable and
# cost more to compile; SQLite's own limit may be lower (999 before 3.32).
MAX_PARAMS = 4000
_INSERT_DEAD_LETTER = (
    "INSERT OR IGNORE INTO dead_letters"
    " (received_ms, station, topic, reason, detail, payload, digest) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# A station's dead letters beyond its newest `per_station` (the index on (station, received_ms)
# orders them, the rowid breaks ties within a batch).
_TRIM_STATION = (
    "DELETE FROM dead_letters WHERE station = ? AND (received_ms, id) <= ("
    "SELECT received_ms, id FROM dead_letters WHERE station = ?"
    " ORDER BY received_ms DESC, id DESC LIMIT 1 OFFSET ?)"
)
_PRUNE_EVERY_S = 3600.0  # dead letters of stations that went quiet age out this often
_PUT_REJECT_COUNT = (
    "INSERT OR REPLACE INTO reject_counts (station, reason, batch_ms, count) VALUES (?, ?, ?, ?)"
)


def _obs_inserts(batch: Batch, max_params: int) -> Iterator[tuple[str, list[object]]]:
    """INSERTs of many rows each for the batch's observations.

    executemany would run one sqlite3_step per row, and the sqlite3 module releases the GIL
    around each step: with the gateway's network thread busy, every row then waits to get the
    GIL back (a 5,000-row batch took ~80 µs a row in bench/gateway_chain.py instead of ~10). A few
    hundred rows per statement means a few hundred times fewer waits. Columns no observation in
    the batch carries are left out (NULL); SQLite binds NaN as NULL."""
    obs = batch.obs
    names = [n for n in OBS_COLUMNS if n in _KEY_COLUMNS or obs[n].notna().any()]
    flat = list(chain.from_iterable(zip(*(obs[n].tolist() for n in names), strict=True)))
    head = f"INSERT OR REPLACE INTO obs ({', '.join(names)}) VALUES "
    return _multirow(head, len(names), flat, "", max_params)


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
    def __init__(
        self,
        path: Path,
        timeout_s: float = 30.0,
        read_only: bool = False,
        dead_letters: DeadLetterLimits | None = None,
    ) -> None:
        self.path = path
        self.limits = dead_letters or DeadLetterLimits()
        self._pruned_at = 0.0  # monotonic
        # One read statement at a time on the connection. The dashboard's threads share it, and
        # while any statement on it is unfinished SQLite keeps the connection's read snapshot:
        # reads that overlapped, as they do under load, kept showing the store as it was
        # seconds earlier (a station's new reading missing from the dashboard for 30 s).
        self._reading = threading.Lock()
        self.url = f"sqlite:///{path.resolve().as_posix().lstrip('/')}"  # not sqlite:////abs
        if read_only and not path.is_file():
            # A reader never creates a store: a mistyped path would otherwise become an empty
            # database that shows nothing, and a file left behind.
            raise StoreError(
                f"no store at {path}: check the path in --store, or start the gateway first "
                f"(classnet gateway --store {self.url}) so it creates the store",
                retryable=False,
            )
        try:
            if not read_only:
                self._db = self._open_for_writing(path, timeout_s)
            else:
                self._db = self._open_for_reading(path, timeout_s)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.url}: cannot open it: {exc}", retryable=False) from None
        except OSError as exc:  # its folder cannot be made (a file in the way, no permission)
            why = (
                f"{exc.filename} is a file, not a folder"
                if isinstance(exc, FileExistsError | NotADirectoryError)
                else f"{exc.strerror} ({exc.filename})"
            )
            raise StoreError(
                f"{self.url}: cannot create it there: {why}; choose another path in --store",
                retryable=False,
            ) from None
        self._max_params = min(MAX_PARAMS, self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))

    @staticmethod
    def _open_for_reading(path: Path, timeout_s: float) -> sqlite3.Connection:
        # SQLite itself refuses every write on this connection: a reader (the dashboard) has no
        # write path, not even by mistake.
        db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=timeout_s,
            check_same_thread=False,
        )
        try:
            # Now, not at the first read: a file that is no store is a sentence at open.
            db.execute("SELECT 1 FROM obs LIMIT 0")
        except sqlite3.Error as exc:
            db.close()
            raise sqlite3.DatabaseError(f"not a ClassNet store ({exc})") from None
        return db

    @staticmethod
    def _open_for_writing(path: Path, timeout_s: float) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the gateway writes from its writer thread; one connection
        # is never used by two threads at once.
        db = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(dead_letters)")}
        if "digest" not in columns:  # a store written before dead letters had one
            db.execute("ALTER TABLE dead_letters ADD COLUMN digest BLOB")
        columns = {row[1] for row in db.execute("PRAGMA table_info(registry)")}
        for name, kind in _LATER_REGISTRY_COLUMNS:
            if name not in columns:  # a store written before stations reported them
                db.execute(f"ALTER TABLE registry ADD COLUMN {name} {kind}")
        db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_once_by_digest ON dead_letters (digest)"
        )
        sqlite_bins.create(db)
        return db

    def prepare(self, batch: Batch) -> None:
        batch.prepared = [
            *_obs_inserts(batch, self._max_params),
            *_registry_upserts(batch.registry, self._max_params),
            *_multirow(
                sqlite_bins.MARK_HEAD,
                3,
                sqlite_bins.marks(batch.obs),
                sqlite_bins.MARK_TAIL,
                self._max_params,
            ),
        ]

    def write(self, batch: Batch) -> None:
        if batch.prepared is None:
            self.prepare(batch)
        try:
            with self._db:
                for sql, values in batch.prepared:
                    self._db.execute(sql, values)
                self._write_dead_letters(batch)
                at = batch.created_ms or int(time.time() * 1000)
                self._db.executemany(
                    _PUT_REJECT_COUNT,
                    [(s, r, at, n) for (s, r), n in batch.reject_counts.items()],
                )
        except sqlite3.OperationalError as exc:
            # "database is locked" or a full disk: both can clear up, so the batch is spooled.
            raise StoreError(f"{self.url}: write failed ({exc})", retryable=True) from None

    def _write_dead_letters(self, batch: Batch) -> None:
        """Insert the batch's dead letters, then keep within the limits (same transaction)."""
        if not batch.dead_letters:
            return
        # Only what the limit keeps: a flood batch of 5,000 would otherwise pass through the WAL.
        kept: dict[str, list[DeadLetter]] = {}
        for d in reversed(batch.dead_letters):
            newest = kept.setdefault(d.station, [])
            if len(newest) < self.limits.per_station:
                newest.append(d)
        self._db.executemany(
            _INSERT_DEAD_LETTER,
            [
                (d.received_ms, d.station, d.topic, d.reason, d.detail, d.payload, digest(d))
                for letters in kept.values()
                for d in reversed(letters)
            ],
        )
        oldest = self.limits.oldest_ms(int(time.time() * 1000))
        for station in kept:
            self._db.execute(_TRIM_STATION, (station, station, self.limits.per_station))
            self._db.execute(
                "DELETE FROM dead_letters WHERE station = ? AND received_ms < ?", (station, oldest)
            )
        if time.monotonic() - self._pruned_at > _PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            self._db.execute("DELETE FROM dead_letters WHERE received_ms < ?", (oldest,))

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
        with self._reading:
            return self._frame(sql + " ORDER BY station, ts_ms", params, names)

    def _frame(self, sql: str, params: Sequence[object], names: Sequence[str]) -> pd.DataFrame:
        """The read() frame of a query selecting station, ts_ms and `names`."""
        rows = self._db.execute(sql, params).fetchall()
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
        with self._reading:
            rows = self._db.execute(
                f"SELECT r.station, {columns} FROM registry r ORDER BY r.station",
                {"start": to_ms(start), "end": to_ms(end)},
            ).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=["station", *names], coerce_float=True)
        frame = frame.set_index("station").astype("float64")
        return frame[frame.notna().any(axis=1)]

    def roll(self, budget_s: float = 0.5) -> bool:
        """Recompute the 15-minute bins recent writes affected (ingest/sqlite_bins.py), for about
        `budget_s`; True while some are left. The gateway calls it between batches."""
        try:
            return sqlite_bins.roll(self._db, budget_s)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.url}: rolling bins failed ({exc})", retryable=True) from None

    def rebuild_bins(self, progress: Callable[[int], None] = lambda left: None) -> None:
        """Every bin recomputed from the raw rows (`classnet rollup rebuild`)."""
        sqlite_bins.rebuild(self._db, progress)

    def read_bins(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The 15-minute bins of [start, end) (ingest/rollup.py `to_frame`) of every reading
        stored: kept ones where they are up to date, the rest computed from raw rows."""
        names = [f for f in check_fields(fields) if f in rollup.FIELDS]
        with self._reading:
            return sqlite_bins.read(
                self._db, to_ms(start), to_ms(end), check_stations(stations), names
            )

    def read_recent(
        self, start: datetime, end: datetime, stations: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        """`read`: an index finds an hour of the stations' rows as fast as keeping them would."""
        return self.read(start, end, stations, fields)

    def bins_changes(self, since_ms: int | None) -> BinsChanges | None:
        """Per station, the UTC days whose bins changed since an earlier answer's `since_ms`
        (`sqlite_bins.changes`); None for a store whose bins do not say when they were rolled
        (one from before, opened read-only)."""
        with self._reading:
            try:
                return sqlite_bins.changes(self._db, since_ms)
            except sqlite3.OperationalError as exc:
                if "rolled_ms" in str(exc) or "no such table" in str(exc):
                    return None
                raise StoreError(
                    f"{self.url}: reading what changed failed ({exc})", retryable=True
                ) from None

    def stations(self, path: Path | None = None) -> pd.DataFrame:
        with self._reading:
            live = pd.read_sql_query("SELECT * FROM registry", self._db, index_col="station")
        return stations_frame(live if not live.empty else empty_registry(), path)

    def rejects(self, station: str | None = None, limit: int = 100) -> pd.DataFrame:
        sql = "SELECT received_ms, station, topic, reason, detail, payload FROM dead_letters"
        params: list[object] = []
        if station is not None:
            sql += " WHERE station = ?"
            params.append(station)
        with self._reading:
            rows = self._db.execute(
                sql + " ORDER BY received_ms DESC, id DESC LIMIT ?", [*params, limit]
            ).fetchall()
        frame = pd.DataFrame(rows, columns=list(REJECT_COLUMNS))
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
        with self._reading:
            rows = self._db.execute(
                sql + " GROUP BY station, reason ORDER BY station, reason", params
            ).fetchall()
        frame = pd.DataFrame(rows, columns=list(REJECT_COUNT_COLUMNS))
        frame["count"] = frame["count"].astype("int64")
        return frame

    def close(self) -> None:
        self._db.close()
