"""InfluxDB store: 1.x through its `/write` API, v2-API servers (2.x, 3.x, Cloud) through
influxdb-client's write API, and reads for both as InfluxQL on `/query`.

Measurements: `obs` (the observations; tags station, country, region), `registry` (what stations
said about themselves: one point per station, at time 0, whose fields each write overwrites),
`dead_letters` and `reject_counts`.

15-minute bins (ingest/rollup.py) are aggregated by the server at query time
(`GROUP BY time(15m), station`), not kept by continuous queries: a continuous query sees only the
window it re-runs over, and the wire contract lets a station deliver hours or days late, so the
downsampled copy would silently miss backlogs; a query over the raw points is exact whatever
arrived when, needs no state that several gateways or a clustered InfluxDB could disagree on, and
only the bins cross the network (the dashboard never parses raw points for a long range).
"""

from __future__ import annotations

import base64
import http.client
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from ingest import influxql, lineprotocol
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
from ingest.batch import REGISTRY_FIELDS, Batch
from ingest.retry import parse_retry_after
from ingest.rollup import BIN_MS, ROLLUP_RANGES, STATS, VECTOR_FIELDS, bins_frame, check_width
from ingest.url import StoreURL

log = logging.getLogger(__name__)
TIMEOUT_S = 30.0
# Registry points all sit at this one time, so each station is one point however long the
# history: a write merges its fields into it (InfluxDB 1.x keeps the union of a point's fields).
REGISTRY_TIME_NS = 0
_INFLUX_STATS = {"n": "count", "sum": "sum", "min": "min", "max": "max"}


def _retryable(status: int) -> bool:
    # 429 and 5xx clear up by themselves. 401/403/404 (token, permissions, database missing) need
    # an operator, but nothing is lost while they fix it: the batch stays in the spool.
    return status in (401, 403, 404, 408, 429) or status >= 500


class InfluxStore:
    def __init__(self, url: StoreURL, read_only: bool = False) -> None:
        self.config = url
        self.url = str(url)
        # A reader's guard; on a shared InfluxDB give readers a read-only user or token too.
        self.read_only = read_only
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._server_version: str | None = None
        self._v2_writer: Any = None

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
        if self.read_only:
            raise StoreError(f"{self.url}: opened read-only; nothing written", retryable=False)
        self.server_version()
        if batch.prepared is None:
            self.prepare(batch)
        lines, others = batch.prepared
        if lines:
            self._write_lines(lines, "ms")
        if others:
            self._write_lines(others, "ns")

    def _write_lines(self, lines: bytes, precision: str) -> None:
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
        for station, values in batch.registry.items():
            fields = {k: values[k] for k in REGISTRY_FIELDS if k in values}
            if fields:
                lines.append(
                    lineprotocol.encode_point(
                        "registry", {"station": station}, fields, REGISTRY_TIME_NS
                    )
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

    def query(self, q: str) -> list[tuple[dict[str, str], pd.DataFrame]]:
        """Run InfluxQL; (tags, frame) per series, times as UTC Unix ms."""
        params = {
            "db": self.config.database,
            "q": q,
            "epoch": "ms",
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
                return influxql.series_frames(resp)
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
        series = self.query(q)
        if not series:
            return obs_frame(
                np.array([], dtype=object),
                np.array([], dtype="int64"),
                {n: np.array([]) for n in names},
            )
        station = np.concatenate(
            [np.full(len(f), tags.get("station", ""), dtype=object) for tags, f in series]
        )
        ts = np.concatenate([f["time"].to_numpy(dtype="int64") for _, f in series])
        blocks = [influxql.floats(f, names) for _, f in series]
        values = {n: np.concatenate([b[n] for b in blocks]) for n in names}
        return obs_frame(station, ts, values)

    def read_bins(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
        width_ms: int = BIN_MS,
        shift_ms: int = 0,
    ) -> pd.DataFrame:
        """Bins of `width_ms` (starting at k * width + shift) of the readings in [start, end),
        aggregated by the server (ingest/rollup.py has the shape). `n_obs` is the largest count
        among the requested fields (InfluxDB has no rows without fields); `first_ms` and
        `last_ms` are NaN."""
        check_width(width_ms, shift_ms)
        names = check_fields(fields)
        wanted = check_stations(stations)
        span = influxql.time_range(start, end)
        where = span
        if wanted is not None:
            if not wanted:
                return bins_frame(pd.DataFrame(columns=["station", "bin_ms", "n_obs"]), names)
            where += " AND " + influxql.any_of("station", wanted)
        group = f" GROUP BY time({width_ms}ms, {shift_ms}ms), station fill(none)"
        parts = [self._field_bins(field, where, span, group) for field in names]
        joined = pd.concat(parts, axis=1) if parts else pd.DataFrame()
        if joined.empty:
            return bins_frame(pd.DataFrame(columns=["station", "bin_ms", "n_obs"]), names)
        joined["n_obs"] = joined[[f"n_{f}" for f in names]].fillna(0).max(axis=1)
        return bins_frame(joined.reset_index(), names)

    def latest(
        self, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> pd.DataFrame:
        names = check_fields(fields)
        picks = ", ".join(
            f"LAST({influxql.quote_ident(n)}) AS {influxql.quote_ident(n)}" for n in names
        )
        series = self.query(
            f"SELECT {picks} FROM {lineprotocol.MEASUREMENT}"
            f" WHERE {influxql.time_range(start, end)} GROUP BY station"
        )
        rows = {tags.get("station", ""): influxql.floats(frame, names) for tags, frame in series}
        frame = pd.DataFrame(
            {n: [float(v[n][0]) for v in rows.values()] for n in names},
            index=pd.Index(list(rows), name="station"),
        )
        return frame.sort_index()

    def rebuild_rollups(self, start: datetime | None = None, end: datetime | None = None) -> int:
        """Bins are the server's own query-time aggregates, so nothing is kept that could drift.
        What this does rebuild is the registry of a store written before it was one point per
        station: each station's latest fields are merged into its one point and the history
        dropped. Returns the number of stations."""
        if self.read_only:
            raise StoreError(f"{self.url}: opened read-only; nothing rebuilt", retryable=False)
        series = self.query(f"SELECT LAST(*) FROM registry WHERE time > {REGISTRY_TIME_NS}")
        if not series:
            return 0
        history = self.query(
            f"SELECT LAST(*) FROM registry WHERE time > {REGISTRY_TIME_NS} GROUP BY station"
        )
        lines = []
        for tags, frame in history:
            row = frame.iloc[0].to_dict()
            fields = {
                k.removeprefix("last_"): v
                for k, v in row.items()
                if k != "time" and v is not None and k.removeprefix("last_") in REGISTRY_FIELDS
            }
            # Fields written since (on the one point) are newer than the history: they win.
            current = self.query(
                f"SELECT * FROM registry WHERE time <= {REGISTRY_TIME_NS}"
                f" AND station = {influxql.quote_str(tags['station'])}"
            )
            if current:
                now = current[0][1].iloc[-1].to_dict()
                fields.update(
                    {k: v for k, v in now.items() if k in REGISTRY_FIELDS and v is not None}
                )
            lines.append(
                lineprotocol.encode_point(
                    "registry", {"station": tags["station"]}, fields, REGISTRY_TIME_NS
                )
            )
        self._write_lines("\n".join(lines).encode(), "ns")
        self.query(f"DELETE FROM registry WHERE time > {REGISTRY_TIME_NS}")
        return len(lines)

    def _field_bins(self, field: str, where: str, span: str, group: str) -> pd.DataFrame:
        """One field's bin statistics indexed by (station, bin_ms); the QC range test is the
        query's own WHERE, so an out-of-range value counts in no statistic."""
        low, high = ROLLUP_RANGES[field]
        name = influxql.quote_ident(field)
        where = f"{where} AND {name} >= {low!r} AND {name} <= {high!r}"
        stats = ", ".join(
            f"{_INFLUX_STATS[stat]}({name}) AS {influxql.quote_ident(f'{stat}_{field}')}"
            for stat in STATS
        )
        frame = self._bin_series(
            f"SELECT {stats} FROM {lineprotocol.MEASUREMENT} WHERE {where}{group}"
        )
        if field in VECTOR_FIELDS:
            # Vector mean of a direction: sums of the unit vector (sin, cos) per bin.
            radians = f"{name} * {np.pi / 180!r}"
            inner = (
                f"SELECT SIN({radians}) AS e, COS({radians}) AS n FROM {lineprotocol.MEASUREMENT}"
                f" WHERE {where} GROUP BY station"
            )
            vector = self._bin_series(
                f'SELECT sum("e") AS "east_{field}", sum("n") AS "north_{field}"'
                f" FROM ({inner}) WHERE {span}{group}"
            )
            frame = frame.join(vector)
        return frame

    def _bin_series(self, q: str) -> pd.DataFrame:
        rows = []
        for tags, frame in self.query(q):
            rows.append(
                frame.rename(columns={"time": "bin_ms"}).assign(station=tags.get("station", ""))
            )
        if not rows:
            return pd.DataFrame(
                index=pd.MultiIndex.from_arrays([[], []], names=["station", "bin_ms"])
            )
        return pd.concat(rows, ignore_index=True).set_index(["station", "bin_ms"])

    def stations(self, path: Path | None = None) -> pd.DataFrame:
        series = self.query(
            f"SELECT LAST(*) FROM registry WHERE time <= {REGISTRY_TIME_NS} GROUP BY station"
        )
        if not series:
            return stations_frame(empty_registry(), path)
        rows = {}
        for tags, frame in series:
            row = frame.iloc[0].to_dict()
            rows[tags["station"]] = {
                k.removeprefix("last_"): v for k, v in row.items() if k != "time"
            }
        live = pd.DataFrame.from_dict(rows, orient="index")
        live.index.name = "station"
        return stations_frame(live, path)

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

    def close(self) -> None:
        with self._lock:
            self._drop_connection()
        if self._v2_writer is not None:
            self._v2_writer.close()
