"""InfluxQL answers of many series read into one table (`InfluxStore.query_table`, issue #17):
the same rows, tags and values as the answer read series by series, on a real InfluxDB 1.6.
A read of 500 schools is 500 series: one frame for the answer, not one per series."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from ingest import influxql, open_store
from ingest.base import StoreError
from ingest.influx import InfluxStore
from tests import servers


@pytest.fixture
def store(influxdb: servers.Server, influx_db: str) -> Iterator[InfluxStore]:
    opened = open_store(f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}")
    assert isinstance(opened, InfluxStore)
    yield opened
    opened.close()


def by_series(store: InfluxStore, q: str, tags: tuple[str, ...]) -> pd.DataFrame:
    """The answer read series by series (`query`), stacked as `query_table` stacks it."""
    frames = [
        frame.assign(**{tag: found.get(tag, "") for tag in tags}) for found, frame in store.query(q)
    ]
    joined = pd.concat(frames, ignore_index=True)
    return joined[[*tags, *[c for c in joined.columns if c not in tags]]]


def test_a_table_holds_every_series_rows_tags_and_values(store: InfluxStore) -> None:
    # Three stations, one without a reading of rh_pct, one with a text field, two tags a point.
    lines = []
    for i in range(3):
        for j in range(4):
            fields = f"temp_c={20 + i / 10},n={i}i" + (",rh_pct=50" if i != 1 else "")
            if i == 1 and j == 0:
                fields += ',note="a, \\"b\\""'
            lines.append(f"t,station=s{i:02d},kind=k{i % 2} {fields} {1_000 + j}")
    store.write_lines("\n".join(lines).encode(), "ms")
    q = "SELECT * FROM t GROUP BY station, kind"
    table = store.query_table(q, tags=("station", "kind"))
    assert list(table.columns[:3]) == ["station", "kind", "time"]
    pairs = table[["station", "kind"]].value_counts().to_dict()
    assert pairs == {(f"s{i:02d}", f"k{i % 2}"): 4 for i in range(3)}
    assert table["note"].dropna().tolist() == ['a, "b"']
    # The same rows and values as read series by series (where a series lacks a field, its
    # column is None there: typed as the other series' values once joined).
    alone = by_series(store, q, ("station", "kind"))
    assert alone["note"].dropna().tolist() == ['a, "b"']
    pd.testing.assert_frame_equal(
        table.drop(columns="note"), alone.drop(columns="note").infer_objects()
    )
    floats = influxql.floats(table, ["rh_pct", "temp_c", "absent"])
    without = (table["station"] == "s01").to_numpy()
    assert np.isnan(floats["rh_pct"][without]).all() and (floats["rh_pct"][~without] == 50).all()
    assert np.isnan(floats["absent"]).all()


def test_an_empty_answer_is_an_empty_table_with_its_tags_and_time(store: InfluxStore) -> None:
    table = store.query_table("SELECT * FROM nothing_here GROUP BY station")
    assert table.empty and list(table.columns) == ["station", "time"]


def test_series_of_different_columns_are_stacked_under_all_of_them() -> None:
    # One statement's series share their columns; two blocks of them that do not are joined.
    docs = [
        {"results": [{"series": [{"name": "t", "tags": {"station": "a"},
                                  "columns": ["time", "x"], "values": [[1, 1.5], [2, None]]}]}]},
        {"results": [{"series": [{"name": "t", "tags": {"station": "b"},
                                  "columns": ["time", "y"], "values": [[3, 7]]}]}]},
    ]  # fmt: skip
    table = influxql.series_table([json.dumps(d).encode() + b"\n" for d in docs], ["station"])
    assert table["station"].tolist() == ["a", "a", "b"]
    assert table["time"].tolist() == [1, 2, 3]
    floats = influxql.floats(table, ["x", "y"])
    np.testing.assert_array_equal(floats["x"], [1.5, np.nan, np.nan])
    np.testing.assert_array_equal(floats["y"], [np.nan, np.nan, 7.0])


def test_a_query_the_server_refuses_is_a_store_error_naming_the_store(store: InfluxStore) -> None:
    with pytest.raises(StoreError, match=f"{store.url}.*error parsing query"):
        store.query_table("SELECT FROM WHERE")
