"""InfluxQL over `/query` (answered by InfluxDB 1.x, 2.x and 3.x alike) into DataFrames.

Responses are read chunked (one JSON document per line) and each series becomes a block of columns
in one numpy call: no per-row Python loop, and no 1.x `max-row-limit` truncation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from ingest.base import to_ms

CHUNK_ROWS = 10_000


class QueryError(Exception):
    """The server answered the query with an error of its own (its message, verbatim)."""


def quote_ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def time_range(start: datetime, end: datetime) -> str:
    return f"time >= {to_ms(start)}ms AND time < {to_ms(end)}ms"


def any_of(tag: str, values: Iterable[str]) -> str:
    return "(" + " OR ".join(f"{quote_ident(tag)} = {quote_str(v)}" for v in values) + ")"


def series_frames(lines: Iterable[bytes]) -> list[tuple[dict[str, str], pd.DataFrame]]:
    """(tags, frame) per series of a chunked response; frames of one series split over chunks are
    concatenated. Values are kept as the server typed them (object columns where mixed)."""
    parts: dict[tuple[tuple[str, str], ...], list[pd.DataFrame]] = {}
    for line in lines:
        if not line.strip():
            continue
        doc = json.loads(line)
        if "error" in doc:
            raise QueryError(doc["error"])
        for result in doc.get("results", []):
            if "error" in result:
                raise QueryError(result["error"])
            for series in result.get("series", []):
                tags = series.get("tags") or {}
                frame = pd.DataFrame(series.get("values") or [], columns=series["columns"])
                parts.setdefault(tuple(sorted(tags.items())), []).append(frame)
    return [
        (dict(key), frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
        for key, frames in parts.items()
    ]


def floats(frame: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """The named columns as float64 (None -> NaN); a field the server never saw is all NaN."""
    return {
        name: (
            frame[name].to_numpy(dtype="float64", na_value=np.nan)
            if name in frame
            else np.full(len(frame), np.nan)
        )
        for name in names
    }
