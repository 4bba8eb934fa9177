"""A readable map of a large network: nearby schools merged into one marker per grid cell.

Ten thousand overlapping markers are a grey smear that takes the browser seconds to draw. Above
`MAX_MARKERS` schools the map shows cells instead: the cell is doubled from 0.5° until the cells
that hold schools are few enough; each cell's marker sits at its schools' mean position, is
coloured by their mean value and sized by how many there are. Up to `MAX_MARKERS` every school
keeps its own marker (and stays clickable).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

MAX_MARKERS: Final = 1500
_STATUS_ORDER: Final = ("online", "stale", "offline")


def cells(frame: pd.DataFrame, max_markers: int = MAX_MARKERS) -> pd.DataFrame:
    """`frame` (indexed by station: name, lat, lon, status, value) as columns station, name,
    lat, lon, status, value, count; above `max_markers` rows, one row per occupied grid cell,
    with an empty station id and name.

    >>> f = pd.DataFrame({"name": ["a", "b", "c"], "lat": [60.1, 60.2, 10.0],
    ...     "lon": [24.1, 24.2, 100.0], "status": ["online", "stale", "online"],
    ...     "value": [1.0, 3.0, 20.0]}, index=["fi-a", "fi-b", "th-c"])
    >>> cells(f, max_markers=2)[["lat", "lon", "status", "value", "count"]]
         lat     lon  status  value  count
    0  60.15   24.15  online    2.0      2
    1  10.00  100.00  online   20.0      1
    """
    columns = ["name", "lat", "lon", "status", "value"]
    if len(frame) <= max_markers:
        return frame[columns].assign(count=1).rename_axis("station").reset_index()
    lat, lon = frame["lat"].to_numpy(float), frame["lon"].to_numpy(float)
    size = 0.5
    while True:
        key = np.floor((lat + 90) / size) * 10_000 + np.floor((lon + 180) / size)
        if len(np.unique(key)) <= max_markers:
            break
        size *= 2
    rank = frame["status"].map({s: i for i, s in enumerate(_STATUS_ORDER)}).fillna(2)
    grouped = (
        frame.assign(key=key, rank=rank.to_numpy())
        .groupby("key", sort=False)
        .agg(lat=("lat", "mean"), lon=("lon", "mean"), value=("value", "mean"),
             rank=("rank", "min"), count=("lat", "size"))
    )  # fmt: skip
    return pd.DataFrame(
        {
            "station": "",
            "name": "",
            "lat": grouped["lat"].round(4).to_numpy(),
            "lon": grouped["lon"].round(4).to_numpy(),
            # A cell is as live as its liveliest school.
            "status": [_STATUS_ORDER[int(r)] for r in grouped["rank"]],
            "value": grouped["value"].to_numpy(),
            "count": grouped["count"].to_numpy(),
        }
    )
