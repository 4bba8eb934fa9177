"""The durable spool: order, bound, survival across a restart, nothing pickled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gateway.spool import Spool, SpoolFull, decode, encode
from ingest.batch import OBS_COLUMNS, Batch, DeadLetter, empty_obs


def batch(i: int) -> Batch:
    obs = empty_obs().reindex(range(3))
    obs["station"] = ["fi-spool-01", "fi-spool-02", "sg-spool-03"]
    obs["ts_ms"] = np.arange(3, dtype="int64") + i * 1000
    obs["temp_c"] = [1.5, np.nan, 30.25]
    b = Batch(obs=obs, created_ms=i)
    b.update_registry("fi-spool-01", {"state": "online", "last_seen_ms": 5})
    b.dead_letters.append(
        DeadLetter.of(7, "fi-spool-01", "classnet/v1/fi-spool-01/obs", "bad_json", "x", b"\xff{")
    )
    b.count_reject("fi-spool-01", "out_of_range", 2)
    return b


def test_a_batch_round_trips_exactly() -> None:
    original = batch(1)
    back = decode(encode(original))
    pd.testing.assert_frame_equal(
        back.obs[list(OBS_COLUMNS)], original.obs[list(OBS_COLUMNS)], check_dtype=False
    )
    assert back.registry == original.registry
    assert back.dead_letters == original.dead_letters
    assert back.reject_counts == original.reject_counts and back.created_ms == 1


def test_drains_in_order_and_survives_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append(batch(i))
    reopened = Spool(tmp_path)  # as after a crash: the files are all that is left
    assert len(reopened) == 3
    seen = []
    while (item := reopened.oldest()) is not None:
        path, b = item
        seen.append(b.created_ms)
        reopened.remove(path)
    assert seen == [0, 1, 2] and reopened.bytes == 0
    reopened.append(batch(9))
    assert Spool(tmp_path).oldest()[1].created_ms == 9  # numbering continues, never reuses


def test_refuses_when_full_and_writes_nothing(tmp_path: Path) -> None:
    size = len(encode(batch(0)))
    spool = Spool(tmp_path, max_bytes=size * 2)
    spool.append(batch(0))
    spool.append(batch(1))
    with pytest.raises(SpoolFull, match="full"):
        spool.append(batch(2))
    assert len(spool) == 2 and len(list(tmp_path.glob("*.batch"))) == 2


def test_an_unreadable_file_is_set_aside_not_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(batch(0))
    (tmp_path / "0000000000000000.batch").write_bytes(b"not a batch")
    spool.append(batch(1))
    assert spool.oldest()[1].created_ms == 1
    assert (tmp_path / "bad" / "0000000000000000.batch").exists()
