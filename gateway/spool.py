"""The gateway's durable spool: batches the store could not take yet, on disk, in order.

A batch is acknowledged to the broker once it is in the store *or* here, so a file must be on the
disk before `append` returns: written to a temporary name, fsync'd, renamed, and the directory
fsync'd (a rename is only durable once its directory is). The spool is bounded; when it is full
`append` refuses and the gateway stops acknowledging, which leaves the rest with the broker.

Files are numpy .npz archives loaded with allow_pickle=False: a spool file can never run code.
"""

from __future__ import annotations

import base64
import errno
import io
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.batch import OBS_COLUMNS, Batch, DeadLetter

log = logging.getLogger("classnet.gateway")
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_DIR = Path("classnet-spool")
_SUFFIX = ".batch"


class SpoolFull(Exception):
    """The spool has no room for this batch; nothing was written."""


class Spool:
    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("*.tmp"):  # a write that crashed before its rename
            leftover.unlink()
        self._files = pending_batches(directory)
        self._bytes = sum(p.stat().st_size for p in self._files)
        self._next = int(self._files[-1].stem) + 1 if self._files else 0
        self.refused = len(set_aside_batches(directory))  # counted in /metrics
        if self._files:
            log.info(
                "spool %s: %d batches (%d bytes) left to drain", directory, len(self), self._bytes
            )

    def __len__(self) -> int:
        return len(self._files)

    @property
    def bytes(self) -> int:
        return self._bytes

    def append(self, batch: Batch) -> Path:
        data = encode(batch)
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.directory} full ({self._bytes} of {self.max_bytes} bytes)"
                )
            path = self.directory / f"{self._next:016d}{_SUFFIX}"
            try:
                _write_durably(path, data)
            except OSError as exc:
                if exc.errno not in _DISK_FULL:
                    raise
                # The disk filled before the bound did: the same as a full spool (the batch
                # stays unacked with the broker), not a failed batch.
                raise SpoolFull(
                    f"spool {self.directory}: disk full ({exc.strerror}) with {len(self)} "
                    f"batches, {self._bytes} bytes"
                ) from None
            self._next += 1
            self._files.append(path)
            self._bytes += len(data)
        return path

    def oldest(self) -> tuple[Path, Batch] | None:
        """The batch to drain next; a file that cannot be read is set aside in `bad/`, loudly."""
        while True:
            with self._lock:
                if not self._files:
                    return None
                path = self._files[0]
            try:
                return path, decode(path.read_bytes())
            except (OSError, ValueError, KeyError) as exc:
                log.error("spool file %s unreadable (%s); moved to bad/", path, exc)
                self._set_aside(path, BAD, f"unreadable: {exc}")

    def remove(self, path: Path) -> None:
        with self._lock:
            size = path.stat().st_size
            path.unlink()
            self._files.remove(path)
            self._bytes -= size

    def set_aside(self, path: Path, why: str) -> None:
        """Keep a batch the store refused for good (HTTP 400) in `refused/`, with the store's
        reason beside it: never dropped, and `classnet spool --replay` sends it again once the
        cause is fixed."""
        log.error("store refused spooled batch %s for good (%s); kept in refused/", path.name, why)
        self._set_aside(path, REFUSED, why)
        self.refused += 1

    def _set_aside(self, path: Path, folder: str, why: str = "") -> None:
        target = self.directory / folder
        target.mkdir(exist_ok=True)
        if why:
            _write_durably(target / (path.stem + _WHY), why.encode())
        with self._lock:
            size = path.stat().st_size
            path.rename(target / path.name)
            self._files.remove(path)
            self._bytes -= size


REFUSED = "refused"  # batches the store refused for good
BAD = "bad"  # spool files that could not be read back
_WHY = ".why"


def pending_batches(directory: Path) -> list[Path]:
    """The spool's batch files waiting to drain, oldest first (read-only: a running gateway's
    spool can be looked at)."""
    return sorted(directory.glob(f"*{_SUFFIX}"))


@dataclass(frozen=True)
class SetAside:
    path: Path
    why: str  # the store's words, or "" when not recorded


def set_aside_batches(directory: Path, folder: str = REFUSED) -> list[SetAside]:
    """The batches in `refused/` (or `bad/`), oldest first."""
    found = []
    for path in sorted((directory / folder).glob(f"*{_SUFFIX}")):
        why_file = path.with_suffix(_WHY)
        why = why_file.read_text(errors="replace").strip() if why_file.exists() else ""
        found.append(SetAside(path, why))
    return found


def forget(item: SetAside) -> None:
    """Remove a set-aside batch once it is in the store."""
    item.path.with_suffix(_WHY).unlink(missing_ok=True)
    item.path.unlink()


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)  # a partial file would hold on to the space that ran out
        raise
    tmp.rename(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode(batch: Batch) -> bytes:
    side = {
        "created_ms": batch.created_ms,
        "registry": batch.registry,
        "dead_letters": [
            [
                d.received_ms,
                d.station,
                d.topic,
                d.reason,
                d.detail,
                base64.b64encode(d.payload).decode(),
            ]
            for d in batch.dead_letters
        ],
        "reject_counts": [[s, r, n] for (s, r), n in batch.reject_counts.items()],
    }
    arrays = {
        "station": batch.obs["station"].to_numpy(dtype=str),
        **{name: batch.obs[name].to_numpy() for name in OBS_COLUMNS[1:]},
        "side": np.frombuffer(json.dumps(side).encode(), dtype=np.uint8),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode(data: bytes) -> Batch:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        side = json.loads(archive["side"].tobytes())
        columns = {"station": archive["station"].astype(object)}
        columns.update({name: archive[name] for name in OBS_COLUMNS[1:]})
    return Batch(
        obs=pd.DataFrame(columns, columns=list(OBS_COLUMNS)),
        registry=side["registry"],
        dead_letters=[
            DeadLetter(ms, station, topic, reason, detail, base64.b64decode(payload))
            for ms, station, topic, reason, detail, payload in side["dead_letters"]
        ],
        reject_counts={(s, r): n for s, r, n in side["reject_counts"]},
        created_ms=side["created_ms"],
    )
