"""Each school's records since its station began, and the ones today's readings break.

Records come from the climate day table (`climate_days`): the highest daily high, the lowest
daily low, the wettest day and the strongest gust, each with its local date. Only days the
coverage rule kept count, so a record is never a fragment of a day. Today's running values (the
day is not over) are compared with the records of the days before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# record: (climate day column, True when higher is the record)
RECORDS: dict[str, tuple[str, bool]] = {
    "highest": ("tx_c", True),
    "lowest": ("tn_c", False),
    "wettest": ("rr_mm", True),
    "windiest": ("gust_ms", True),
}
RECORD_COLUMNS: tuple[str, ...] = ("station", "record", "value", "date", "since")


def station_records(days: pd.DataFrame) -> pd.DataFrame:
    """One row per station and record (`RECORD_COLUMNS`): the value, the local date it fell on
    (the first such day on a tie) and the station's first day (`since`).

    >>> days = pd.DataFrame({"station": "fi-a", "date": pd.date_range("2024-06-01", periods=3),
    ...     "tx_c": [21.0, 25.5, 25.5], "tn_c": [9.0, 12.0, 7.5], "rr_mm": [0.0, 4.0, 0.2],
    ...     "gust_ms": [8.0, float("nan"), 6.0]})
    >>> station_records(days)[["record", "value", "date"]]
         record  value       date
    0   highest   25.5 2024-06-02
    1    lowest    7.5 2024-06-03
    2   wettest    4.0 2024-06-02
    3  windiest    8.0 2024-06-01
    """
    if days.empty:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    ordered = days.assign(station=days["station"].astype(str)).sort_values(
        ["station", "date"], kind="stable"
    )
    since = ordered.groupby("station", sort=True)["date"].min()
    frames = []
    for record, (column, highest) in RECORDS.items():
        present = ordered.dropna(subset=[column])
        if record == "wettest":  # a dry day is nobody's wettest
            present = present[present[column] > 0]
        if present.empty:
            continue
        # The first day on a tie: sort by value (stable keeps date order among equals).
        best = present.sort_values(column, ascending=not highest, kind="stable")
        best = best.drop_duplicates("station").sort_values("station")
        frames.append(
            pd.DataFrame(
                {
                    "station": best["station"].to_numpy(),
                    "record": record,
                    "value": best[column].to_numpy(np.float64),
                    "date": best["date"].to_numpy(),
                    "since": since.reindex(best["station"]).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    return _ordered(pd.concat(frames, ignore_index=True))


def _ordered(records: pd.DataFrame) -> pd.DataFrame:
    """By station, then in the order of `RECORDS`."""
    order = {name: i for i, name in enumerate(RECORDS)}
    return records.sort_values(
        ["station", "record"], key=lambda c: c.map(order) if c.name == "record" else c
    ).reset_index(drop=True)[list(RECORD_COLUMNS)]


def merge_records(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """The records of two spans of days together (`station_records` of each): the better value
    per school and record, the earlier date on a tie, the earliest `since`.

    >>> a = pd.DataFrame({"station": ["fi-a"], "record": ["highest"], "value": [25.5],
    ...     "date": [pd.Timestamp("2024-06-02")], "since": [pd.Timestamp("2024-06-01")]})
    >>> b = a.assign(value=[27.0], date=[pd.Timestamp("2024-07-09")],
    ...     since=[pd.Timestamp("2024-07-01")])
    >>> merge_records(a, b)[["value", "date", "since"]]
       value       date      since
    0   27.0 2024-07-09 2024-06-01
    """
    frames = [f for f in (earlier, later) if not f.empty]
    if not frames:  # schools without a usable day yet
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    both = pd.concat(frames, ignore_index=True)
    since = both.groupby("station")["since"].min()
    frames = []
    for record, (_, highest) in RECORDS.items():
        part = both[both["record"] == record].sort_values("date", kind="stable")
        best = part.sort_values("value", ascending=not highest, kind="stable")
        frames.append(best.drop_duplicates("station"))
    out = pd.concat(frames, ignore_index=True)
    out["since"] = out["station"].map(since)
    return _ordered(out)


def broken_records(records: pd.DataFrame, today: pd.DataFrame) -> pd.DataFrame:
    """Records today's running values beat: `station, record, value, previous, previous_date`.

    `records` are `station_records` of the days before today; `today` has a row per station with
    the day's values so far (climate day columns). A school without earlier days sets no record.

    >>> records = pd.DataFrame({"station": ["fi-a", "fi-a"], "record": ["highest", "lowest"],
    ...     "value": [25.5, 7.5], "date": pd.to_datetime(["2024-06-02", "2024-06-03"]),
    ...     "since": pd.Timestamp("2024-06-01")})
    >>> today = pd.DataFrame({"station": ["fi-a"], "tx_c": [26.1], "tn_c": [8.0],
    ...     "rr_mm": [0.0], "gust_ms": [5.0]})
    >>> broken_records(records, today)[["station", "record", "value", "previous"]]
      station   record  value  previous
    0    fi-a  highest   26.1      25.5
    """
    columns = ["station", "record", "value", "previous", "previous_date"]
    if records.empty or today.empty:
        return pd.DataFrame(columns=columns)
    now = today.assign(station=today["station"].astype(str)).set_index("station")
    rows = []
    for row in records.itertuples(index=False):
        column, highest = RECORDS[str(row.record)]
        if row.station not in now.index or column not in now:
            continue
        value = float(now.at[row.station, column])
        if np.isnan(value):
            continue
        if (value > row.value) if highest else (value < row.value):
            rows.append((row.station, row.record, value, float(row.value), row.date))
    return pd.DataFrame(rows, columns=columns)
