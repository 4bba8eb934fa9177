"""Load observations from a file (an SD-card log, another tool's export) into the store, checked
against the same contract as live messages, cell by cell (gateway/import_rows.py).

JSON Lines: one observation object per line with a `station` key. CSV: a header row with
`station`, `ts` and any contract fields (comma or semicolon separated); an empty cell is an
absent field.

Never loses good data: a bad cell costs that field of that row; a bad row costs that row; copies
of one reading (same station and time, in the file or already stored) are merged field by field,
so a later copy without a valid value keeps the earlier one.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from firmware import wire
from gateway.import_rows import (
    ENVELOPE,
    EXTRA_CELLS,
    Dropped,
    Row,
    parse_row,
    refuse,
)
from ingest.base import Store
from ingest.batch import OBS_COLUMNS, UNKNOWN_STATION, Batch, DeadLetter, registry_from_obs
from ingest.domain.contract import Reason
from ingest.domain.errors import UserError

CHUNK_ROWS = 5000
_FIELDS = list(wire.FIELD_NAMES)


@dataclass
class ImportResult:
    rows: int = 0  # data rows read (blank lines not counted)
    stored: int = 0  # observations written (copies of one reading in one chunk count once)
    dropped_fields: Counter[str] = field(default_factory=Counter)  # by reason
    refused_rows: Counter[str] = field(default_factory=Counter)  # by reason
    ignored_columns: set[str] = field(default_factory=set)  # not in the contract

    @property
    def complete(self) -> bool:
        return not self.dropped_fields and not self.refused_rows


# A source: (row number, record or a refusal, the raw line for the dead letter).
_Item = tuple[int, dict[str, Any] | Dropped, bytes]


def _csv_items(path: Path, ignored: set[str]) -> Iterator[_Item]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        first = f.readline()
        # European spreadsheets write `;` where the decimal separator is a comma.
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
        missing = [c for c in ("station", "ts") if c not in header]
        if missing:
            raise UserError(
                f"{path}: row 1 (the header) has no {' or '.join(missing)} column; found "
                f"{', '.join(header) or 'nothing'}. Name the columns station, ts and contract "
                f"fields ({', '.join(_FIELDS[:3])}, ...)"
            )
        ignored.update(h for h in header if h not in wire.FIELDS and h not in ENVELOPE)
        reader = csv.reader(f, delimiter=delimiter)
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # an unclosed quote, a NUL byte
                line = reader.line_num + 1
                yield line, refuse(line, Reason.BAD_ELEMENT, f"not CSV ({exc})"), b""
                continue
            line, raw = reader.line_num + 1, delimiter.join(cells).encode()
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                why = (
                    f"{len(cells)} cells where the header names {len(header)} "
                    "(a stray separator, or a text with a comma that is not quoted?)"
                )
                yield line, refuse(line, EXTRA_CELLS, why), raw
                continue
            yield line, dict(zip(header, cells, strict=False)), raw


def _jsonl_items(path: Path, ignored: set[str]) -> Iterator[_Item]:
    with path.open("rb") as f:
        for line, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            raw = raw.rstrip(b"\r\n")
            try:
                doc = json.loads(raw)
            except RecursionError:
                yield line, refuse(line, Reason.BAD_JSON, "JSON nested too deeply"), raw
                continue
            except ValueError as exc:
                yield line, refuse(line, Reason.BAD_JSON, f"not JSON ({exc})"), raw
                continue
            if not isinstance(doc, dict):
                why = f"a JSON {type(doc).__name__}, not an observation object"
                yield line, refuse(line, Reason.NOT_OBJECT, why), raw
                continue
            ignored.update(k for k in doc if k not in wire.FIELDS and k not in ENVELOPE)
            yield line, doc, raw


def _frame(rows: list[Row]) -> pd.DataFrame:
    """The batch frame of a chunk's rows, copies of one reading merged field by field (the last
    valid value of each field wins; a copy without one keeps the earlier)."""
    columns: dict[str, Any] = {
        "station": np.array([r.station for r in rows], dtype=object),
        "ts_ms": np.array([r.ts_ms for r in rows], dtype="int64"),
        "seq": np.array([np.nan if r.seq is None else r.seq for r in rows], dtype="float64"),
    }
    for name in _FIELDS:
        columns[name] = np.array([r.values.get(name, np.nan) for r in rows], dtype="float64")
    frame = pd.DataFrame(columns, columns=list(OBS_COLUMNS))
    if frame.duplicated(["station", "ts_ms"]).any():
        frame = frame.groupby(["station", "ts_ms"], sort=False, as_index=False).last()
    return frame


def _keep_stored(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the fields a row leaves empty from the reading already stored at the same station
    and time: a store that replaces whole rows (SQLite) would otherwise erase them."""
    start = pd.Timestamp(int(frame["ts_ms"].min()), unit="ms", tz="UTC").to_pydatetime()
    end = pd.Timestamp(int(frame["ts_ms"].max()) + 1, unit="ms", tz="UTC").to_pydatetime()
    stored = store.read(start, end, sorted(set(frame["station"])), _FIELDS)
    if stored.empty:
        return frame
    stored["ts_ms"] = stored["time"].astype("int64") // 1_000_000
    old = stored.set_index(["station", "ts_ms"])[_FIELDS]
    new = frame.set_index(["station", "ts_ms"])
    new[_FIELDS] = new[_FIELDS].fillna(old.reindex(new.index))
    return new.reset_index()[list(OBS_COLUMNS)]


def import_file(
    store: Store,
    path: Path,
    progress: Callable[[int], None] | None = None,
    on_dropped: Callable[[Dropped], None] | None = None,
    now: float | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Check and store every row of `path` (.csv, else JSON Lines), `chunk_rows` to a store
    write. `progress` is told the rows read so far; `on_dropped` hears of every dropped field
    and refused row, in file order."""
    result = ImportResult()
    items = _csv_items if path.suffix.lower() == ".csv" else _jsonl_items
    now = time.time() if now is None else now
    rows: list[Row] = []
    batch = Batch(created_ms=int(now * 1000))
    for line, item, raw in items(path, result.ignored_columns):
        result.rows += 1
        dropped: list[Dropped] = []
        if isinstance(item, Dropped):
            dropped.append(item)
        else:
            row = parse_row(line, item, now, dropped)
            if row is not None:
                rows.append(row)
        for problem in dropped:
            station = problem.station or UNKNOWN_STATION
            batch.count_reject(station, problem.reason)
            if problem.refused_row:
                result.refused_rows[problem.reason] += 1
                batch.dead_letters.append(
                    DeadLetter.of(
                        batch.created_ms,
                        station,
                        f"{path.name} row {line}",
                        problem.reason,
                        problem.detail,
                        raw,
                    )
                )
            else:
                result.dropped_fields[problem.reason] += 1
            if on_dropped:
                on_dropped(problem)
        if result.rows % chunk_rows == 0:
            result.stored += _write(store, rows, batch)
            # Reject counts are kept per (station, reason, batch time): each chunk its own time.
            rows, batch = [], Batch(created_ms=int(now * 1000) + result.rows)
            if progress:
                progress(result.rows)
    result.stored += _write(store, rows, batch)
    if progress:
        progress(result.rows)
    return result


def _write(store: Store, rows: list[Row], batch: Batch) -> int:
    if rows:
        batch.obs = _keep_stored(store, _frame(rows))
        for station, values in registry_from_obs(batch.obs).items():
            batch.update_registry(station, values)
    if not batch.is_empty:
        store.write(batch)
    return len(batch.obs)
