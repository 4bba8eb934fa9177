"""InfluxQL over `/query` (answered by InfluxDB 1.x, 2.x and 3.x alike) into DataFrames.

Responses are read chunked (one JSON document per line) and each series becomes a block of columns
in one numpy call: no per-row Python loop, and no 1.x `max-row-limit` truncation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
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


def _series(lines: Iterable[bytes]) -> Iterator[tuple[dict[str, str], list[str], list[list]]]:
    """(tags, columns, values) of each series block of a chunked response, in order."""
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
                yield series.get("tags") or {}, series["columns"], series.get("values") or []


def series_frames(lines: Iterable[bytes]) -> list[tuple[dict[str, str], pd.DataFrame]]:
    """(tags, frame) per series of a chunked response; frames of one series split over chunks are
    concatenated. Values are kept as the server typed them (object columns where mixed)."""
    parts: dict[tuple[tuple[str, str], ...], list[pd.DataFrame]] = {}
    for tags, columns, values in _series(lines):
        frame = pd.DataFrame(values, columns=columns)
        parts.setdefault(tuple(sorted(tags.items())), []).append(frame)
    return [
        (dict(key), frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
        for key, frames in parts.items()
    ]


def series_table(lines: Iterable[bytes], tags: Sequence[str]) -> pd.DataFrame:
    """Every series of a chunked response in one table: a column per tag of `tags` (the series'
    value on each of its rows, "" where it has none), then the columns of its points, in the
    order they came. One frame for the whole answer, not one per series: building a frame costs
    about a millisecond, more than the numbers of a series of a day's bins (500 schools: 500
    series)."""
    blocks: list[pd.DataFrame] = []
    columns: list[str] | None = None
    rows: list[list] = []
    keys: dict[str, list[str]] = {tag: [] for tag in tags}
    sizes: list[int] = []

    def block() -> None:
        if columns is None:
            return
        frame = pd.DataFrame(rows, columns=columns)
        for i, tag in enumerate(tags):
            frame.insert(i, tag, np.repeat(np.asarray(keys[tag], dtype=object), sizes))
        blocks.append(frame)

    for series_tags, series_columns, values in _series(lines):
        if series_columns != columns:  # one statement's series share them: this is rare
            block()
            columns, rows, keys, sizes = series_columns, [], {tag: [] for tag in tags}, []
        rows.extend(values)
        sizes.append(len(values))
        for tag in tags:
            keys[tag].append(series_tags.get(tag, ""))
    block()
    if not blocks:
        return pd.DataFrame(columns=[*tags, "time"])
    return blocks[0] if len(blocks) == 1 else pd.concat(blocks, ignore_index=True)


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
