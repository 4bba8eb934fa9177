"""InfluxDB line protocol for a whole batch at once.

One string per column, concatenated column-wise by numpy over object arrays: no per-point
object (influxdb-client's `Point` costs tens of microseconds per observation). Tags carry only a
station's stable identity (station, country, region) so a point written twice lands on the same
series and time and replaces itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from firmware import wire
from ingest.domain.asem import country_of, region_of

MEASUREMENT = "obs"


def series_key(station: str) -> str:
    """`obs,country=FI,region=europe,station=fi-tampere-01` (tag keys sorted, as InfluxDB
    stores them; station ids need no escaping: [a-z0-9-] only)."""
    country = country_of(station)
    region = region_of(country)
    region_tag = f",region={region}" if region else ""
    return f"{MEASUREMENT},country={country}{region_tag},station={station}"


def encode_obs(obs: pd.DataFrame) -> bytes:
    """Line protocol (ms precision) for a batch's observations. A point with no value at all
    (a station that sent only `ts`) has no line: InfluxDB cannot store a point without fields.

    >>> frame = pd.DataFrame({"station": ["fi-tampere-01"], "ts_ms": [1763884800000],
    ...                       "seq": [42.0], "temp_c": [21.4], "rh_pct": [float("nan")]})
    >>> encode_obs(frame)
    b'obs,country=FI,region=europe,station=fi-tampere-01 seq=42i,temp_c=21.4 1763884800000'
    """
    if obs.empty:
        return b""
    names = [n for n in ("seq", *wire.FIELD_NAMES) if n in obs]
    table = obs[names].to_numpy(dtype="float64")
    present = ~np.isnan(table)
    # Rows that carry the same set of fields share one format template, and str.format over
    # whole columns does the rest: a fleet sends a handful of field sets, so a handful of passes.
    bits = present @ (1 << np.arange(len(names), dtype="int64"))
    codes, which = np.unique(bits, return_inverse=True)
    patterns = (codes[:, None] >> np.arange(len(names))) & 1 == 1
    stations = obs["station"].to_numpy(dtype=object)
    keys = {s: series_key(s) for s in pd.unique(stations)}
    ts = obs["ts_ms"].to_numpy(dtype="int64")
    out: list[str] = []
    for k, pattern in enumerate(patterns):
        if not pattern.any():
            continue  # nothing to store for these points
        rows = np.flatnonzero(which == k)
        cols = np.flatnonzero(pattern)
        template = "{} " + ",".join("{}" for _ in cols) + " {}"
        columns = [_field_texts(names[c], table[rows, c]) for c in cols]
        out.extend(
            map(
                template.format,
                map(keys.__getitem__, stations[rows].tolist()),
                *columns,
                ts[rows].tolist(),
            )
        )
    return "\n".join(out).encode()


def _field_texts(name: str, column: np.ndarray) -> list[str]:
    """`name=value` for each value of a float64 column (no NaN). A batch repeats few values
    (sensors report in steps of 0.1 and stations send the same battery or humidity again and
    again), so each distinct value is formatted once (bench/gateway_chain.py's 5,000-line batches:
    ~15 ms instead of 22-29 ms with repr() per value). Distinct by bit pattern, so -0.0 keeps
    its sign."""
    bits, inverse = np.unique(column.view("int64"), return_inverse=True)
    distinct = bits.view("float64").tolist()
    if name == "seq":
        texts = [f"seq={int(v)}i" for v in distinct]
    else:  # repr() of a float is the shortest text that round-trips, as InfluxDB parses it
        texts = [f"{name}={v!r}" for v in distinct]
    return np.array(texts, dtype=object)[inverse.ravel()].tolist()


def _field_value(value: object) -> str:
    """A field value as line protocol; numpy's numbers as Python's (a registry row read back
    from a frame holds them, and `repr` of numpy's float is not a number InfluxDB reads).

    >>> [_field_value(v) for v in (np.float64(47.07), np.int64(3), 2.5, True)]
    ['47.07', '3i', '2.5', 'true']
    """
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return f"{int(value)}i"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    # A raw newline would end the line; show it the way the payload preview shows escapes.
    return '"' + text.replace("\n", "\\n").replace("\r", "\\r") + '"'


def _tag_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(" ", "\\ ").replace(",", "\\,").replace("=", "\\=")


def encode_point(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, object], time: int
) -> str:
    """One line for the small measurements (registry, dead letters, reject counts)."""
    tag_text = "".join(f",{k}={_tag_value(v)}" for k, v in sorted(tags.items()) if v)
    field_text = ",".join(
        f"{k}={_field_value(v)}"
        for k, v in fields.items()
        if v is not None and not (isinstance(v, float) and np.isnan(v))
    )
    return f"{measurement}{tag_text} {field_text} {time}"
