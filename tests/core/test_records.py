"""Records since a station began, and the ones today's running values break."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.core.records import broken_records, merge_records, station_records


def _days(station: str, start: str, **columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"station": station, "date": pd.date_range(start, periods=n), **columns})


def test_a_tie_keeps_the_first_day_and_uncovered_days_never_count() -> None:
    days = _days("fi-a", "2024-07-01", tx_c=[28.0, np.nan, 28.0, 27.0],
                 tn_c=[12.0, np.nan, 9.0, 9.0], rr_mm=[0.0, np.nan, 0.0, 0.0],
                 gust_ms=[9.0, np.nan, 7.0, 8.0])  # fmt: skip
    records = station_records(days).set_index("record")
    assert records.at["highest", "date"] == pd.Timestamp("2024-07-01")
    assert records.at["lowest", "date"] == pd.Timestamp("2024-07-03")
    assert "wettest" not in records.index  # no rain yet: no wettest day
    assert (records["since"] == pd.Timestamp("2024-07-01")).all()


def test_records_are_per_school() -> None:
    days = pd.concat([
        _days("fi-a", "2024-01-01", tx_c=[-3.0, 1.0], tn_c=[-20.0, -8.0], rr_mm=[0.4, 2.0],
              gust_ms=[14.0, 9.0]),
        _days("ph-b", "2024-03-01", tx_c=[33.0], tn_c=[25.5], rr_mm=[40.0], gust_ms=[6.0]),
    ])  # fmt: skip
    records = station_records(days).set_index(["station", "record"])["value"]
    assert records[("fi-a", "lowest")] == -20.0 and records[("ph-b", "lowest")] == 25.5
    assert records[("fi-a", "wettest")] == 2.0 and records[("ph-b", "windiest")] == 6.0


def test_today_breaks_only_what_it_beats_and_a_new_school_breaks_nothing() -> None:
    records = station_records(
        _days("fi-a", "2024-07-01", tx_c=[28.0], tn_c=[12.0], rr_mm=[3.0], gust_ms=[9.0])
    )
    today = pd.DataFrame({"station": ["fi-a", "fi-new"], "tx_c": [28.0, 40.0],
                          "tn_c": [11.5, -5.0], "rr_mm": [3.2, 90.0],
                          "gust_ms": [np.nan, 30.0]})  # fmt: skip
    broken = broken_records(records, today)
    assert broken[["station", "record", "value", "previous"]].values.tolist() == [
        ["fi-a", "lowest", 11.5, 12.0],
        ["fi-a", "wettest", 3.2, 3.0],
    ]


def test_records_of_two_spans_merge_to_the_records_of_both(rng: np.random.Generator) -> None:
    n = 400
    days = pd.concat([
        _days(station, "2023-01-01", tx_c=rng.normal(10, 8, n).round(1),
              tn_c=rng.normal(0, 8, n).round(1), rr_mm=rng.gamma(0.3, 4, n).round(1),
              gust_ms=rng.gamma(3, 3, n).round(1))
        for station in ("fi-a", "ph-b")
    ], ignore_index=True)  # fmt: skip
    days.loc[rng.random(len(days)) < 0.1, ["tx_c", "tn_c", "rr_mm", "gust_ms"]] = np.nan
    cut = days["date"] < "2023-09-17"
    merged = merge_records(station_records(days[cut]), station_records(days[~cut]))
    pd.testing.assert_frame_equal(merged, station_records(days), check_dtype=False)
