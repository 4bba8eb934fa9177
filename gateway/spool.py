"""The gateway's durable spool: batches the store could not take yet, on disk, in order.

A batch is acknowledged to the broker once it is in the store *or* here, so a file must be on the
disk before `append` returns: written to a temporary name, fsync'd, renamed, and the directory
fsync'd (a rename is only durable once its directory is). The spool is bounded; when it is full
`append` refuses and the gateway stops acknowledging, which leaves the rest with the broker.

Files are numpy .npz archives loaded with allow_pickle=False: a spool file can never run code.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.batch import OBS_COLUMNS, Batch, DeadLetter

log = logging.getLogger("classnet.gateway")
DEFAULT_MAX_BYTES = 1 << 30
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
        self._files = sorted(directory.glob(f"*{_SUFFIX}"))
        self._bytes = sum(p.stat().st_size for p in self._files)
        self._next = int(self._files[-1].stem) + 1 if self._files else 0
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
            self._next += 1
            _write_durably(path, data)
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
                self._set_aside(path, "bad")

    def remove(self, path: Path) -> None:
        with self._lock:
            size = path.stat().st_size
            path.unlink()
            self._files.remove(path)
            self._bytes -= size

    def set_aside(self, path: Path, why: str) -> None:
        """Keep a batch the store refused for good (HTTP 400) in `refused/`: never dropped."""
        log.error("store refused spooled batch %s for good (%s); kept in refused/", path.name, why)
        self._set_aside(path, "refused")

    def _set_aside(self, path: Path, folder: str) -> None:
        target = self.directory / folder
        target.mkdir(exist_ok=True)
        with self._lock:
            size = path.stat().st_size
            path.rename(target / path.name)
            self._files.remove(path)
            self._bytes -= size


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
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
