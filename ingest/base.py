"""The storage interface every store implements, and the frame shapes its readers rely on.

`read()` returns long format, one row per (station, time), sorted by station then time:
`station` (str), `time` (datetime64[ns, UTC]) and the requested contract fields as float64 (NaN
where a station has no such sensor or the reading failed). The dashboard core is written against
exactly this shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from firmware import wire
from ingest.batch import Batch
from ingest.domain import siting
from ingest.domain.asem import country_of, region_of
from ingest.domain.stations import COLUMNS as STATION_COLUMNS
from ingest.domain.stations import merged_registry

# What a station says about itself that the registry frame shows besides siting.
_SAID = ("name", "lat", "lon", "elevation_m", "timezone", "exposure")
LIVE_COLUMNS = (
    "last_seen", "state", "firmware", "battery_v", "rssi_dbm", "outbox", "outbox_max",
)  # fmt: skip
REJECT_COLUMNS = ("time", "station", "topic", "reason", "detail", "payload")
REJECT_COUNT_COLUMNS = ("station", "reason", "count")


class StoreError(Exception):
    """A write or read that failed. `retryable` says whether the same call can succeed later
    (server down, 429, 5xx); `retry_after` is the server's own hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Store(Protocol):
    """A place observations live. Writes are idempotent on (station, ts)."""

    url: str  # without secrets: safe to log

    def prepare(self, batch: Batch) -> None:
        """Encode the batch for this store ahead of `write` (into `batch.prepared`). The gateway
        calls it on its decoder thread, so the encoding overlaps the store's previous write;
        `write` encodes for itself when it was not called."""
        ...

    def write(self, batch: Batch) -> None:
        """Store a batch: observations, registry updates, dead letters and reject counts."""
        ...

    def read(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Observations with start <= time < end (see the module docstring for the shape)."""
        ...

    def latest(
        self, start: datetime, end: datetime, fields: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per station, the latest non-missing value of each field with start <= time < end
        (what `read(...).groupby("station").last()` gives), indexed by station; computed in the
        store, so a map of 10,000 schools reads 10,000 rows, not an hour of each."""
        ...

    def stations(self, path: Path | None = None) -> pd.DataFrame:
        """The station registry, with stations.toml at `path` overriding what stations said."""
        ...

    def rejects(self, station: str | None = None, limit: int = 100) -> pd.DataFrame:
        """Dead letters, newest first: time, station, topic, reason, detail, payload (text)."""
        ...

    def reject_counts(
        self, start: datetime | None = None, station: str | None = None
    ) -> pd.DataFrame:
        """How many fields, elements and messages were rejected, by station and reason."""
        ...

    def roll(self, budget_s: float = 0.5) -> bool:
        """Bring the store's 15-minute bins (ingest/rollup.py) up to date with recent writes, for
        about `budget_s`; True while work is left. The gateway calls it between batches."""
        ...

    def close(self) -> None: ...


# (the time to ask from next, {station: (first UTC day, last UTC day)}), in Unix ms.
BinsChanges = tuple[int, dict[str, tuple[int, int]]]


@runtime_checkable
class KeepsBins(Protocol):
    """A store that keeps 15-minute bins beside its raw rows (ingest/rollup.py; SQLite and
    InfluxDB)."""

    def rebuild_bins(self, progress: Callable[[int], None] = lambda left: None) -> None:
        """Every bin recomputed from the raw rows (`classnet rebuild-bins`); `progress` gets the
        number of stations left."""
        ...

    def read_bins(
        self,
        start: datetime,
        end: datetime,
        stations: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The bins starting in [start, end) of every reading stored (`rollup.to_frame`)."""
        ...

    def read_recent(
        self, start: datetime, end: datetime, stations: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        """The raw rows of [start, end) as `Store.read` gives them, for a window a reader asks
        for again on every refresh (the leaderboard's last hour): kept between reads by a store
        whose reads are slow and can tell what changed since."""
        ...

    def bins_changes(self, since_ms: int | None) -> BinsChanges | None:
        """The time to ask from next and, per station, the first and last UTC day (Unix ms) of
        the bins changed since `since_ms` (that time from an earlier answer; None: only the
        time). None when the store cannot tell."""
        ...


def check_fields(fields: Sequence[str] | None) -> list[str]:
    """The fields a read asks for (all contract fields by default; `seq`, the station's counter,
    when asked for by name); an unknown name is the caller's mistake."""
    if fields is None:
        return list(wire.FIELD_NAMES)
    unknown = [f for f in fields if f not in wire.FIELDS and f != "seq"]
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)}; known: {', '.join(wire.FIELD_NAMES)}"
        )
    return list(fields)


def check_stations(stations: Sequence[str] | None) -> list[str] | None:
    if stations is None:
        return None
    bad = [s for s in stations if not wire.is_station_id(s)]
    if bad:
        raise ValueError(f"not station ids: {', '.join(map(repr, bad))}")
    return list(stations)


def to_ms(moment: datetime) -> int:
    """UTC Unix milliseconds; a naive datetime is refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime (UTC)")
    return round(moment.timestamp() * 1000)


def obs_frame(
    station: np.ndarray, ts_ms: np.ndarray, values: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The read() frame from columns, sorted by station then time."""
    frame = pd.DataFrame(
        {
            "station": pd.Series(station, dtype="str"),
            "time": pd.to_datetime(np.asarray(ts_ms, dtype="int64"), unit="ms", utc=True).astype(
                "datetime64[ns, UTC]"
            ),
            **{name: np.asarray(col, dtype="float64") for name, col in values.items()},
        }
    )
    return frame.sort_values(["station", "time"], kind="stable", ignore_index=True)


def stations_frame(live: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    """The `stations()` frame from the stored registry (indexed by station, columns per
    `ingest.batch.REGISTRY_FIELDS`), merged with stations.toml."""
    # Column by column, not a StationMeta per row: that cost about a quarter of a second per
    # thousand stations, on every live tick of a large network. The frame `registry_frame` builds.
    stations = [str(station) for station in live.index]
    countries = [country_of(station) for station in stations]
    said = pd.DataFrame(
        {
            **{name: live[name].to_numpy() if name in live else None for name in _SAID},
            "country": countries,
            "region": [region_of(country) for country in countries],
            "public_exact_location": False,
            "siting": [_siting(s, v) for s, v in zip(stations, live["siting"], strict=True)]
            if "siting" in live
            else None,
        },
        index=pd.Index(stations, name="station"),
    ).reindex(columns=list(STATION_COLUMNS))
    merged = merged_registry(said, path)
    out = merged.join(live.reindex(columns=[c for c in LIVE_COLUMNS if c != "last_seen"]))
    seen = live["last_seen_ms"] if "last_seen_ms" in live else pd.Series(dtype="float64")
    out["last_seen"] = pd.to_datetime(
        seen.reindex(out.index).astype("float64"), unit="ms", utc=True
    ).astype("datetime64[ns, UTC]")
    out["state"] = out["state"].where(out["state"].notna(), "offline").astype(object)
    for name in ("battery_v", "rssi_dbm", "outbox", "outbox_max"):
        out[name] = out[name].astype("float64")
    for name in ("country", "region"):
        out[name] = [
            value if isinstance(value, str) else _derived(str(station), name)
            for station, value in out[name].items()
        ]
    out.index.name = "station"
    return out.sort_index()


def _derived(station: str, column: str) -> str | None:
    country = country_of(station)
    return country if column == "country" else region_of(country)


def _siting(station: str, text: object) -> siting.Siting | None:
    # Checked when it arrived (ingest.domain.siting.to_json): this only makes it a Siting again.
    if not isinstance(text, str) or not text:
        return None
    return siting.parse_siting(json.loads(text), station)[0]


def empty_registry() -> pd.DataFrame:
    frame = pd.DataFrame(columns=["last_seen_ms", *LIVE_COLUMNS[1:]])
    frame.index.name = "station"
    return frame
