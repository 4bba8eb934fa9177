"""The unit the gateway hands to a store: validated observations in columns, plus what the same
messages said about stations (registry updates) and what was rejected.

Columns rather than objects because every store writes a whole batch at once (line protocol or SQL
parameters built per column), and a batch of 5,000 observations must cost milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from firmware import wire

# Columns of `Batch.obs`: station (str), ts_ms (int64, UTC Unix ms), seq (float64, NaN = none),
# then one float64 per contract field (NaN = absent or failed reading).
OBS_COLUMNS = ("station", "ts_ms", "seq", *wire.FIELD_NAMES)
# Registry columns a station's messages can set; `last_seen_ms` keeps the newest value.
REGISTRY_FIELDS = (
    "name",
    "lat",
    "lon",
    "elevation_m",
    "timezone",
    "exposure",
    "sensors",
    "firmware",
    "state",
    "last_seen_ms",
    "battery_v",
    "rssi_dbm",
    "siting",  # JSON text of the keys the station's meta gave (ingest.domain.siting.to_json)
    "outbox",  # readings waiting in the station's outbox, and its capacity (from its status)
    "outbox_max",
)
UNKNOWN_STATION = "unknown"  # dead letters whose topic named no valid station
PAYLOAD_KEPT_BYTES = 1024


def _empty_obs() -> pd.DataFrame:
    columns: dict[str, Any] = {
        "station": np.array([], dtype=object),
        "ts_ms": np.array([], dtype="int64"),
    }
    for name in OBS_COLUMNS[2:]:
        columns[name] = np.array([], dtype="float64")
    return pd.DataFrame(columns)


_EMPTY = _empty_obs()


def empty_obs() -> pd.DataFrame:
    # Every batch starts empty; copying a template costs a fraction of building one.
    return _EMPTY.copy()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A whole message rejected: kept with its reason so a teacher can see what the station sent."""

    received_ms: int
    station: str  # UNKNOWN_STATION when the topic named none
    topic: str
    reason: str
    detail: str
    payload: bytes  # the first PAYLOAD_KEPT_BYTES

    @classmethod
    def of(
        cls, received_ms: int, station: str, topic: str, reason: str, detail: str, payload: bytes
    ) -> DeadLetter:
        return cls(received_ms, station, topic[:256], reason, detail, payload[:PAYLOAD_KEPT_BYTES])


@dataclass(slots=True)
class Batch:
    """Everything one flush makes safe at once."""

    obs: pd.DataFrame = field(default_factory=empty_obs)
    # station -> registry fields to set (only those the messages carried)
    registry: dict[str, dict[str, Any]] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # (station, reason) -> how many fields, elements or messages were rejected
    reject_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    created_ms: int = 0
    # The store's own encoding of this batch, made ahead of its write (Store.prepare); never
    # spooled: a batch read back from the spool is encoded again.
    prepared: Any = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.obs)

    @property
    def is_empty(self) -> bool:
        return (
            self.obs.empty
            and not self.registry
            and not self.dead_letters
            and not self.reject_counts
        )

    def count_reject(self, station: str, reason: str, n: int = 1) -> None:
        key = (station, reason)
        self.reject_counts[key] = self.reject_counts.get(key, 0) + n

    def update_registry(self, station: str, values: dict[str, Any]) -> None:
        entry = self.registry.setdefault(station, {})
        for key, value in values.items():
            if key == "last_seen_ms" and entry.get(key) is not None:
                value = max(entry[key], value)
            entry[key] = value


def registry_from_obs(obs: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per station in a batch: when it was last heard from, and its latest battery and signal
    readings (the registry shows them without a query over all observations). Vectorised: a batch
    holds hundreds of stations and this runs on every flush."""
    if obs.empty:
        return {}
    codes, stations = pd.factorize(obs["station"].to_numpy(dtype=object))
    ts = obs["ts_ms"].to_numpy(dtype="int64")
    last_seen = np.full(len(stations), np.iinfo(np.int64).min)
    np.maximum.at(last_seen, codes, ts)
    out: dict[str, dict[str, Any]] = {
        str(s): {"last_seen_ms": int(t)} for s, t in zip(stations, last_seen.tolist(), strict=True)
    }
    order = np.lexsort((ts, codes))  # by station, then time
    for name in ("battery_v", "rssi_dbm"):
        values = obs[name].to_numpy(dtype="float64")[order]
        present = ~np.isnan(values)
        owners = codes[order][present][::-1]
        # np.unique returns each station's first index in the reversed array: its latest reading
        seen, first = np.unique(owners, return_index=True)
        latest = values[present][::-1][first]
        for code, value in zip(seen.tolist(), latest.tolist(), strict=True):
            out[str(stations[code])][name] = value
    return out
