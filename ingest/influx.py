"""InfluxDB store: 1.x through its `/write` API, v2-API servers (2.x, 3.x, Cloud) through
influxdb-client's write API, and reads for both as InfluxQL on `/query`.

Measurements: `obs` (the observations; tags station, country, region), `registry` (what stations
said about themselves, read back with LAST()), `dead_letters` and `reject_counts`.
"""

from __future__ import annotations

import base64
import http.client
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from ingest import influx_bins, influxql, lineprotocol, refusals, rollup
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
from ingest.batch import REGISTRY_FIELDS, Batch
from ingest.dead_letters import DeadLetterLimits
from ingest.retry import parse_retry_after
from ingest.url import StoreURL

log = logging.getLogger(__name__)
TIMEOUT_S = 30.0
RETENTION_CHECK_S = 300.0  # how long the database's retention policy is taken as known
# Requests spent finding the points a store refused in one batch (halving the request each time:
# about 2 * log2(5000) = 25 per refused point). A batch that needs more is refused as a whole and
# set aside (SPOOL/refused/), as is one where most points are refused.
BISECT_BUDGET = 256
_Answer = TypeVar("_Answer")  # what a query's answer is parsed into
_PRUNE_EVERY_S = 3600.0  # dead letters of stations that went quiet age out this often
# The registry is read on every live tick, and LAST() over all of its points grows with the
# history (0.10 s at a day, 2.0 s at a year of 500 stations, issue #17), as does LAST() over a day
# (a point per station and batch: 720,000 a day for 500 schools sending every minute). A full
# read is kept REGISTRY_FULL_S; each tick reads what stations said within REGISTRY_RECENT over
# the last tick's answer, which a tick sooner than REGISTRY_FULL_S after the full read always
# covers. A point stamped before the window when it is written (a batch spooled through a store
# outage, a gateway's clock far behind) shows when the full read is made again.
REGISTRY_RECENT = "15m"
REGISTRY_FULL_S = 600.0


def _retryable(status: int) -> bool:
    # 429 and 5xx clear up by themselves. 401/403/404 (token, permissions, database missing) need
    # an operator, but nothing is lost while they fix it: the batch stays in the spool.
    return status in (401, 403, 404, 408, 429) or status >= 500


@dataclass
class _Search:
    """What finding a batch's refused points may still cost."""

    requests: int
    most: int  # refused points beyond this mean the store, not the points, is at fault
    refused: int = 0


class InfluxStore:
    def __init__(
        self, url: StoreURL, read_only: bool = False, dead_letters: DeadLetterLimits | None = None
    ) -> None:
        self.config = url
        self.limits = dead_letters or DeadLetterLimits()
        self._pruned_at = 0.0  # monotonic
        self._registry_full: tuple[float, pd.DataFrame] | None = None  # (monotonic, frame)
        self._prune_failed = False
        self._written: dict[str, tuple[float, int]] = {}  # station -> (minute began, dead letters)
        self.url = str(url)
        # A reader's guard; on a shared InfluxDB give readers a read-only user or token too.
        self.read_only = read_only
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._server_version: str | None = None
        self._v2_writer: Any = None
        self._retention: tuple[float, str, int] | None = None  # (checked, policy, duration ms)
        # Tells apart the marks of two writers the server stamps in the same nanosecond.
        self._bins = influx_bins.Bins(self, secrets.token_hex(4))

    # --- HTTP -----------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        c = self.config
        if c.kind == "influxdb2":
            return {"Authorization": f"Token {c.token}"} if c.token else {}
        if c.user:
            pair = f"{c.user}:{c.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return {}

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urlsplit(self.config.base)
            cls = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
        return self._conn

    @contextmanager
    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """One request on the kept-alive connection; any failure is a StoreError saying whether
        to retry, with the server's own message."""
        with self._lock:
            try:
                conn = self._connection()
                conn.request(
                    method, path, body=body, headers={**self._auth_headers(), **(headers or {})}
                )
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                raise StoreError(
                    f"{self.url}: {exc or type(exc).__name__}", retryable=True
                ) from None
            try:
                if resp.status >= 300:
                    message = resp.read(2048).decode("utf-8", "replace").strip()
                    raise StoreError(
                        f"{self.url}: HTTP {resp.status} {message}",
                        retryable=_retryable(resp.status),
                        retry_after=parse_retry_after(resp.getheader("Retry-After"), time.time()),
                    )
                yield resp
                resp.read()  # drain, so the connection can be reused
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                raise StoreError(
                    f"{self.url}: {exc or type(exc).__name__}", retryable=True
                ) from None

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def server_version(self) -> str:
        """The version the server reports on `/ping`; also checks the URL's scheme matches it."""
        if self._server_version is None:
            with self._request("GET", "/ping") as resp:
                version = resp.getheader("X-Influxdb-Version") or "unknown"
            major = version.lstrip("v").split(".")[0]
            if self.config.kind == "influxdb2" and major == "1":
                raise StoreError(
                    f"{self.url}: the server is InfluxDB {version}, which has no v2 write API; "
                    f"use influxdb://{urlsplit(self.config.base).netloc}/DATABASE",
                    retryable=False,
                )
            self._server_version = version
            log.info("store %s: InfluxDB %s", self.url, version)
        return self._server_version

    # --- writes ---------------------------------------------------------------------------

    def prepare(self, batch: Batch) -> None:
        batch.prepared = (lineprotocol.encode_obs(batch.obs), self._side_lines(batch))

    def write(self, batch: Batch) -> None:
        """Write the batch. Points the server refuses for good (ingest/refusals.py) leave
        `batch.obs` and become dead letters written with the rest, so `len(batch)` afterwards is
        what was stored."""
        if self.read_only:
            raise StoreError(f"{self.url}: opened read-only; nothing written", retryable=False)
        self.server_version()
        received_ms = batch.created_ms or int(time.time() * 1000)
        self._limit_dead_letters(batch)
        old = self._beyond_retention(batch)
        if old:
            refusals.take_out(batch, old, received_ms)
        if batch.prepared is None:
            self.prepare(batch)
        lines, others = batch.prepared
        if lines:
            points = lines.split(b"\n")
            refused = self._write_points(points, _Search(BISECT_BUDGET, len(points) // 2))
            if refused:
                refusals.take_out(batch, refused, received_ms)
                others = self._side_lines(batch)
        if others:
            self.write_lines(others, "ns")
            if batch.registry:
                self._registry_full = None  # what this store wrote, it reads back at once
        if batch.dead_letters:
            self._prune_dead_letters({d.station for d in batch.dead_letters})
        if len(batch.obs):
            # After the readings: the server stamps the marks later than them (influx_bins.py).
            # A gateway killed before this acked nothing, so the batch comes again.
            self.write_lines(influx_bins.mark_lines(batch.obs, self._bins.writer), "ns")

    def _limit_dead_letters(self, batch: Batch) -> None:
        """At most `per_station` dead letters a minute per station reach InfluxDB; the rest are
        counted only (in `reject_counts`). InfluxDB frees deleted points only when it compacts,
        so a flood written and then deleted would still fill its disk for a while."""
        if not batch.dead_letters:
            return
        now, kept = time.monotonic(), []
        if len(self._written) > 10_000:  # forget stations whose minute is over
            self._written = {k: v for k, v in self._written.items() if now - v[0] < 60.0}
        for d in batch.dead_letters:
            began, n = self._written.get(d.station, (now, 0))
            if now - began >= 60.0:
                began, n = now, 0
            if n < self.limits.per_station:
                kept.append(d)
                n += 1
            self._written[d.station] = (began, n)
        if len(kept) < len(batch.dead_letters):
            batch.dead_letters = kept
            batch.prepared = None

    def _prune_dead_letters(self, stations: set[str]) -> None:
        """Keep each station's newest `per_station` dead letters and none older than the age
        limit. InfluxQL DELETE needs a user allowed to delete (on 1.x: an admin); without one
        the gateway says so once and keeps them (docs/operations.md)."""
        if self.config.kind != "influxdb1" or self._prune_failed:
            return
        oldest = self.limits.oldest_ms(int(time.time() * 1000))
        try:
            for station in sorted(stations):
                where = f"station = {influxql.quote_str(station)}"
                series = self.query(
                    f"SELECT detail FROM dead_letters WHERE {where} "
                    f"ORDER BY time DESC LIMIT 1 OFFSET {int(self.limits.per_station)}"
                )
                # Read in ms, stored in ns (a batch's dead letters one ns apart): the batch
                # holding the boundary stays whole, so at most per_station plus one batch.
                last = int(series[0][1]["time"].iloc[0]) if series else oldest - 1
                self.query(
                    f"DELETE FROM dead_letters WHERE {where} AND time <= {max(last, oldest - 1)}ms"
                )
            if time.monotonic() - self._pruned_at > _PRUNE_EVERY_S:
                self._pruned_at = time.monotonic()
                self.query(f"DELETE FROM dead_letters WHERE time < {oldest}ms")
        except StoreError as exc:
            self._prune_failed = True
            log.warning("store %s: cannot delete old dead letters (%s); kept", self.url, exc)

    def _write_points(self, lines: list[bytes], search: _Search) -> dict[refusals.PointKey, str]:
        """Write obs lines; those the server refuses for good, found by halving the request
        (each point is idempotent, so writing a good one again changes nothing). When most of
        the batch is refused the cause is the store's (a field someone wrote as text) rather
        than some points': the error goes up and the batch is set aside whole, to replay once
        fixed (`classnet spool --replay`)."""
        try:
            self.write_lines(b"\n".join(lines), "ms")
            return {}
        except StoreError as exc:
            if exc.retryable or search.requests <= 0 or search.refused >= search.most:
                raise
            if len(lines) == 1:
                search.refused += 1
                return {refusals.point_key(lines[0]): str(exc).removeprefix(f"{self.url}: ")}
            search.requests -= 2
            half = len(lines) // 2
            return self._write_points(lines[:half], search) | self._write_points(
                lines[half:], search
            )

    def _beyond_retention(self, batch: Batch) -> dict[refusals.PointKey, str]:
        """Points older than the database's default retention policy keeps: InfluxDB 1.x would
        refuse each of them (and answer 400 for the whole request)."""
        if self.config.kind != "influxdb1" or batch.obs.empty:
            return {}
        if self._retention is None or time.monotonic() - self._retention[0] > RETENTION_CHECK_S:
            self._retention = (time.monotonic(), *self._default_retention())
        _, policy, duration_ms = self._retention
        if not duration_ms:
            return {}
        detail = f"older than retention policy {policy} keeps ({duration_ms // 1000} s)"
        return refusals.beyond(batch, int(time.time() * 1000) - duration_ms, detail)

    def _default_retention(self) -> tuple[str, int]:
        """(name, duration ms; 0 = forever) of the database's default retention policy."""
        try:
            series = self.query(
                f"SHOW RETENTION POLICIES ON {influxql.quote_ident(self.config.database)}"
            )
        except StoreError as exc:  # e.g. a write-only user: the server's answers still tell
            log.debug("store %s: retention policy unknown (%s)", self.url, exc)
            return "", 0
        for _, frame in series:
            for row in frame.itertuples(index=False):
                if bool(getattr(row, "default", False)):
                    return str(row.name), refusals.go_duration_ms(str(row.duration))
        return "", 0

    def write_lines(self, lines: bytes, precision: str) -> None:
        """Write line protocol as it is (`precision`: of its timestamps)."""
        if self.config.kind == "influxdb2":
            self._write_v2(lines, precision)
            return
        query = urlencode({"db": self.config.database, "precision": precision})
        with self._request(
            "POST", f"/write?{query}", lines, {"Content-Type": "text/plain; charset=utf-8"}
        ):
            pass

    def _write_v2(self, lines: bytes, precision: str) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.rest import ApiException

        if self._v2_writer is None:
            client = InfluxDBClient(
                url=self.config.base,
                token=self.config.token or "",
                org=self.config.org,
                enable_gzip=True,
                timeout=int(TIMEOUT_S * 1000),
            )
            self._v2_writer = client.write_api(write_options=SYNCHRONOUS)
        try:
            self._v2_writer.write(
                bucket=self.config.database,
                org=self.config.org,
                record=lines,
                write_precision=precision,
            )
        except ApiException as exc:
            headers = exc.headers or {}
            raise StoreError(
                f"{self.url}: HTTP {exc.status} {getattr(exc, 'message', '') or exc.reason}",
                retryable=_retryable(int(exc.status or 500)),
                retry_after=parse_retry_after(headers.get("Retry-After"), time.time()),
            ) from None
        except Exception as exc:  # urllib3's connection errors have no common public base
            raise StoreError(f"{self.url}: {type(exc).__name__}: {exc}", retryable=True) from None

    def _side_lines(self, batch: Batch) -> bytes:
        # ns timestamps, one apart, so two dead letters of one station and reason in the same
        # millisecond stay two points.
        now = (batch.created_ms or int(time.time() * 1000)) * 1_000_000
        lines = []
        for i, (station, values) in enumerate(batch.registry.items()):
            fields = {k: values[k] for k in REGISTRY_FIELDS if k in values}
            if fields:
                lines.append(
                    lineprotocol.encode_point("registry", {"station": station}, fields, now + i)
                )
        for i, d in enumerate(batch.dead_letters):
            lines.append(
                lineprotocol.encode_point(
                    "dead_letters",
                    {"station": d.station, "reason": d.reason},
                    {
                        "topic": d.topic,
                        "detail": d.detail,
                        "payload": d.payload.decode("utf-8", "backslashreplace"),
                    },
                    d.received_ms * 1_000_000 + i,
                )
            )
        for i, ((station, reason), n) in enumerate(batch.reject_counts.items()):
            lines.append(
                lineprotocol.encode_point(
                    "reject_counts", {"station": station, "reason": reason}, {"count": n}, now + i
                )
            )
        return "\n".join(lines).encode()

    # --- reads ----------------------------------------------------------------------------

    def query(self, q: str, epoch: str = "ms") -> list[tuple[dict[str, str], pd.DataFrame]]:
        """Run InfluxQL; (tags, frame) per series, times as UTC Unix `epoch` (ms, or ns)."""
        return self._query(q, epoch, influxql.series_frames)

    def query_table(
        self, q: str, tags: Sequence[str] = ("station",), epoch: str = "ms"
    ) -> pd.DataFrame:
        """Run InfluxQL; every series in one table (`influxql.series_table`): the answers of many
        series, such as a read of 500 schools grouped by station."""
        return self._query(q, epoch, lambda lines: influxql.series_table(lines, tags))

    def _query(self, q: str, epoch: str, parse: Callable[[Iterable[bytes]], _Answer]) -> _Answer:
        params = {
            "db": self.config.database,
            "q": q,
            "epoch": epoch,
            "chunked": "true",
            "chunk_size": str(influxql.CHUNK_ROWS),
        }
        try:
            with self._request(
                "POST",
                "/query",
                urlencode(params).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            ) as resp:
                return parse(resp)
        except influxql.QueryError as exc:
            raise StoreError(f"{self.url}: query failed: {exc}", retryable=False) from None

    def read(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        names = check_fields(fields)
        wanted = check_stations(stations)
        where = influxql.time_range(start, end)
        if wanted is not None:
            if not wanted:
                return obs_frame(
                    np.array([], dtype=object),
                    np.array([], dtype="int64"),
                    {n: np.array([]) for n in names},
                )
            where += " AND " + influxql.any_of("station", wanted)
        q = (
            f"SELECT {', '.join(influxql.quote_ident(n) for n in names)} "
            f"FROM {lineprotocol.MEASUREMENT} WHERE {where} GROUP BY station"
        )
        table = self.query_table(q)
        return obs_frame(
            table["station"].to_numpy(dtype=object),
            table["time"].to_numpy(dtype="int64"),
            influxql.floats(table, names),
        )

    def stations(self, path: Path | None = None) -> pd.DataFrame:
        # Each field's latest value in the last window, else its latest before: the same as
        # LAST() over everything (see REGISTRY_RECENT).
        kept = self._registry_full
        if kept is None or time.monotonic() - kept[0] > REGISTRY_FULL_S:
            live = self._registry("")
            self._registry_full = (time.monotonic(), live)
        else:
            recent = self._registry(f" WHERE time > now() - {REGISTRY_RECENT}")
            live = recent.combine_first(kept[1]) if len(kept[1]) else recent
            self._registry_full = (kept[0], live)  # the next tick's window reaches back to this
        if live.empty:
            return stations_frame(empty_registry(), path)
        return stations_frame(live, path)

    def _registry(self, where: str) -> pd.DataFrame:
        table = self.query_table(f"SELECT LAST(*) FROM registry{where} GROUP BY station")
        live = table.drop(columns="time").set_index("station")
        return live.rename(columns=lambda name: name.removeprefix("last_"))

    def rejects(self, station: str | None = None, limit: int = 100) -> pd.DataFrame:
        where = f" WHERE station = {influxql.quote_str(station)}" if station else ""
        series = self.query(
            f"SELECT * FROM dead_letters{where} ORDER BY time DESC LIMIT {int(limit)}"
        )
        if not series:
            return pd.DataFrame(columns=list(REJECT_COLUMNS))
        frame = series[0][1].reindex(columns=list(REJECT_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ms", utc=True)
        return frame

    def reject_counts(
        self, start: datetime | None = None, station: str | None = None
    ) -> pd.DataFrame:
        where = f"time >= {to_ms(start)}ms" if start else "time >= 0"
        if station:
            where += f" AND station = {influxql.quote_str(station)}"
        series = self.query(
            f'SELECT SUM("count") FROM reject_counts WHERE {where} GROUP BY station, reason'
        )
        rows = [
            (tags.get("station"), tags.get("reason"), int(frame["sum"].iloc[0]))
            for tags, frame in series
        ]
        frame = pd.DataFrame(rows, columns=list(REJECT_COUNT_COLUMNS))
        return frame.sort_values(["station", "reason"], ignore_index=True)

    def latest(
        self, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> pd.DataFrame:
        names = check_fields(fields)
        picks = ", ".join(
            f"LAST({influxql.quote_ident(n)}) AS {influxql.quote_ident(n)}" for n in names
        )
        table = self.query_table(
            f"SELECT {picks} FROM {lineprotocol.MEASUREMENT}"
            f" WHERE {influxql.time_range(start, end)} GROUP BY station"
        )
        frame = pd.DataFrame(influxql.floats(table, names), index=pd.Index(table["station"]))
        return frame.sort_index()

    def roll(self, budget_s: float = 0.5) -> bool:
        """Recompute the 15-minute bins recent writes affected (ingest/influx_bins.py), for about
        `budget_s`; True while work is left."""
        return self._bins.roll(budget_s)

    def rebuild_bins(self, progress: Callable[[int], None] = lambda left: None) -> None:
        """Every bin recomputed from the raw rows (`classnet rebuild-bins`); InfluxDB 1.x only
        (it drops the bins' measurements, which InfluxQL on a v2 API server cannot)."""
        if self.config.kind != "influxdb1":
            raise StoreError(
                f"{self.url}: rebuilding bins needs InfluxDB 1.x (DROP MEASUREMENT); on this"
                " server delete the measurements bins, bins_rolled and bins_marks instead",
                retryable=False,
            )
        self._bins.rebuild(progress)

    def read_bins(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The 15-minute bins of [start, end) (ingest/rollup.py `to_frame`) of every reading
        stored: kept points, and raw rows where the last writes are not rolled yet."""
        names = [f for f in check_fields(fields) if f in rollup.FIELDS]
        return self._bins.read(to_ms(start), to_ms(end), check_stations(stations), names)

    def read_recent(
        self, start: datetime, end: datetime, stations: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        """`read`, the rows kept between reads (`influx_bins.Bins.recent`)."""
        names = check_fields(fields)
        wanted = check_stations(stations) or []
        if not wanted or any(f not in rollup.FIELDS for f in names):
            return self.read(start, end, wanted, names)
        return self._bins.recent(wanted, to_ms(start), to_ms(end), names)

    def bins_changes(self, since_ms: int | None) -> BinsChanges | None:
        """Per station, the UTC days whose bins writes changed since an earlier answer's
        `since_ms` (`influx_bins.Bins.changes`)."""
        return self._bins.changes(since_ms)

    def close(self) -> None:
        with self._lock:
            self._drop_connection()
        if self._v2_writer is not None:
            self._v2_writer.close()
