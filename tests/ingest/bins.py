"""Checks of the stores' 15-minute bins shared by the rollup and fault tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ingest import rollup
from ingest.influx import InfluxStore


def whole(obs: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """`rollup.roll` over all the rows at once, as the long frame."""
    t_ms = pd.DatetimeIndex(obs["time"]).as_unit("ms").asi8
    lo, hi = rollup.floor_bin(int(t_ms.min())), rollup.floor_bin(int(t_ms.max())) + rollup.BIN_MS
    days = list(rollup.roll(obs, lo, hi, fields))
    return rollup.to_frame(rollup.Stack.of(days, fields), fields, lo, hi)


def assert_same_bins(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.sort_values(["station", "time"], ignore_index=True)
    expected = expected.sort_values(["station", "time"], ignore_index=True)
    assert got["station"].astype(str).tolist() == expected["station"].astype(str).tolist()
    assert (got["time"].to_numpy() == expected["time"].to_numpy()).all()
    for column in expected.columns.drop(["station", "time"]):
        np.testing.assert_allclose(
            got[column].to_numpy(float),
            expected[column].to_numpy(float),
            rtol=1e-12,
            atol=1e-9,
            err_msg=column,
        )


def influx_rolled(store: InfluxStore) -> bool:
    """An InfluxDB store's bins kept up to every mark written (ingest/influx_bins.py): a read
    computes nothing from raw rows."""
    cursor = store._bins.cursor()
    return cursor is not None and not store._bins._stale(cursor, None)
