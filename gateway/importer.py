"""Load observations from a file (an SD-card log, another tool's export) through the same
validation as live messages: each row becomes the `obs` message its station would have sent.

JSON Lines: one observation object per line with a `station` key. CSV: a header row with
`station`, `ts` and any contract fields; empty cells are absent fields.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from firmware import wire
from gateway.decode_batch import decode_messages
from ingest.base import Store

CHUNK_ROWS = 5000


@dataclass
class ImportResult:
    rows: int = 0
    stored: int = 0
    rejects: dict[str, int] = field(default_factory=dict)


def _rows(path: Path) -> Iterator[list[tuple[str, bytes]]]:
    """Chunks of (topic, payload), one per row; a row without a usable station gets a topic the
    decoder rejects, so it is counted and dead-lettered like any bad message."""
    if path.suffix.lower() == ".csv":
        for frame in pd.read_csv(path, chunksize=CHUNK_ROWS, dtype={"station": str}):
            yield [_message(_clean(r)) for r in frame.to_dict("records")]
        return
    with path.open("rb") as f:
        chunk = []
        for line in f:
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                chunk.append(_message(doc))
            else:
                chunk.append((f"{wire.TOPIC_PREFIX}unknown/obs", line.rstrip(b"\n")))
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    # pandas reads an empty cell as NaN: in a file that means "no such field", not a bad value.
    out = {k: v for k, v in record.items() if not (isinstance(v, float) and math.isnan(v))}
    # A CSV column with an empty cell is read as floats; seq is a counter, so 42.0 means 42.
    seq = out.get("seq")
    if isinstance(seq, float) and seq.is_integer():
        out["seq"] = int(seq)
    return out


def _message(doc: dict[str, Any]) -> tuple[str, bytes]:
    station = str(doc.pop("station", "unknown"))
    return f"{wire.TOPIC_PREFIX}{station}/obs", json.dumps(doc).encode()


def import_file(
    store: Store, path: Path, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Validate and store every row of `path`; `progress` is told the rows done so far."""
    result = ImportResult()
    for chunk in _rows(path):
        now = time.time()
        decoded = decode_messages(chunk, now, int(now * 1000))
        store.write(decoded.batch)
        result.rows += len(chunk)
        result.stored += len(decoded.batch)
        for (_station, reason), n in decoded.batch.reject_counts.items():
            result.rejects[reason] = result.rejects.get(reason, 0) + n
        if progress:
            progress(result.rows)
    return result
