"""`encode_obs` (whole columns, each distinct value formatted once) against `encode_point`, one
point at a time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware import wire
from ingest.domain.asem import country_of, region_of
from ingest.lineprotocol import MEASUREMENT, encode_obs, encode_point

STATIONS = ["fi-tampere-01", "ph-manila-01", "se-lund-02"]
# Few values, so columns repeat them as real batches do; -0.0 must stay distinct from 0.0.
VALUES = st.one_of(
    st.sampled_from([math.nan, 0.0, -0.0, 21.4, 1e-7, 1003.1]),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
)
ROW = st.tuples(
    st.sampled_from(STATIONS),
    st.integers(0, 2**41),
    st.one_of(st.just(math.nan), st.integers(0, wire.SEQ_MAX).map(float)),
    st.lists(VALUES, min_size=len(wire.FIELD_NAMES), max_size=len(wire.FIELD_NAMES)),
)


def _one_by_one(rows: list[tuple[str, int, float, list[float]]]) -> bytes:
    lines = []
    for station, ts_ms, seq, values in rows:
        fields: dict[str, object] = {} if math.isnan(seq) else {"seq": int(seq)}
        fields.update(
            (n, v) for n, v in zip(wire.FIELD_NAMES, values, strict=True) if not math.isnan(v)
        )
        if fields:
            country = country_of(station)
            tags = {"country": country, "region": region_of(country) or "", "station": station}
            lines.append(encode_point(MEASUREMENT, tags, fields, ts_ms))
    return "\n".join(lines).encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=40))
def test_columns_give_the_same_lines_as_points(
    rows: list[tuple[str, int, float, list[float]]],
) -> None:
    frame = pd.DataFrame(
        {
            "station": np.array([r[0] for r in rows], dtype=object),
            "ts_ms": np.array([r[1] for r in rows], dtype="int64"),
            "seq": np.array([r[2] for r in rows], dtype="float64"),
            **{
                name: np.array([r[3][i] for r in rows], dtype="float64")
                for i, name in enumerate(wire.FIELD_NAMES)
            },
        }
    )
    # encode_obs groups rows by field set, so compare the lines, not their order
    assert sorted(encode_obs(frame).split(b"\n")) == sorted(_one_by_one(rows).split(b"\n"))
