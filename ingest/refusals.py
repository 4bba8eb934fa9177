"""Points a store will never take, taken out of a batch one by one.

InfluxDB refuses single points for good: older than its retention policy keeps ("partial write:
points beyond retention policy"), or a field whose type differs from what the measurement already
holds ("field type conflict"). It stores the rest of the request and answers 400. Retrying the
batch cannot help, and setting the whole batch aside would also lose its good points' place in
the registry (every station shown offline). So each refused point becomes a dead letter with the
store's reason, is counted as rejected, and leaves the batch; the rest is written as usual.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import numpy as np

from firmware import wire
from ingest.batch import Batch, DeadLetter
from ingest.domain.contract import Reason

PointKey = tuple[str, int]  # (station, ts_ms): a point's identity in every store

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1, "us": 1e-3, "µs": 1e-3, "ns": 1e-6}


def go_duration_ms(text: str) -> int:
    """Milliseconds in a Go duration as InfluxDB prints a retention policy's (0 = forever).

    >>> go_duration_ms("1h0m0s"), go_duration_ms("168h0m0s"), go_duration_ms("0s")
    (3600000, 604800000, 0)
    """
    return int(sum(float(n) * _MS[unit] for n, unit in _GO_DURATION.findall(text)))


def point_key(line: bytes) -> PointKey:
    """The (station, ts_ms) of one obs line written by `lineprotocol.encode_obs`.

    >>> point_key(b"obs,country=FI,region=europe,station=fi-tampere-01 temp_c=21.4 1763884800000")
    ('fi-tampere-01', 1763884800000)
    """
    tags, _, rest = line.partition(b" ")
    station = tags.rpartition(b",station=")[2]
    return station.decode(), int(rest.rpartition(b" ")[2])


def beyond(batch: Batch, cutoff_ms: int, detail: str) -> dict[PointKey, str]:
    """The batch's points older than `cutoff_ms`, each with `detail` as its reason."""
    obs = batch.obs
    old = obs["ts_ms"].to_numpy(dtype="int64") < cutoff_ms
    if not old.any():
        return {}
    stations = obs["station"].to_numpy(dtype=object)[old].tolist()
    stamps = obs["ts_ms"].to_numpy(dtype="int64")[old].tolist()
    return {(str(s), int(t)): detail for s, t in zip(stations, stamps, strict=True)}


def take_out(batch: Batch, refused: Mapping[PointKey, str], received_ms: int) -> int:
    """Move the refused points from `batch.obs` into dead letters (the observation as JSON, the
    store's reason as detail) and reject counts; returns how many rows left the batch."""
    obs = batch.obs
    stations = obs["station"].to_numpy(dtype=object)
    stamps = obs["ts_ms"].to_numpy(dtype="int64")
    mask = np.fromiter(
        ((str(s), int(t)) in refused for s, t in zip(stations, stamps, strict=True)),
        dtype=bool,
        count=len(obs),
    )
    if not mask.any():
        return 0
    names = [n for n in ("seq", *wire.FIELD_NAMES) if n in obs]
    for row in obs.loc[mask, ["station", "ts_ms", *names]].itertuples(index=False):
        station, ts_ms = str(row[0]), int(row[1])
        values = {n: v for n, v in zip(names, row[2:], strict=True) if not math.isnan(v)}
        if "seq" in values:
            values["seq"] = int(values["seq"])
        body = json.dumps({"ts": ts_ms / 1000, **values}).encode()
        batch.dead_letters.append(
            DeadLetter.of(
                received_ms,
                station,
                wire.topic(station, "obs"),
                Reason.STORE_REFUSED,
                refused[(station, ts_ms)],
                body,
            )
        )
        batch.count_reject(station, Reason.STORE_REFUSED)
    batch.obs = obs.loc[~mask].reset_index(drop=True)
    batch.prepared = None
    return int(mask.sum())
