"""A readable map of a large network: nearby schools merged into one marker per grid cell.

Ten thousand overlapping markers are a grey smear that keeps a phone busy for seconds. Above
`MAX_MARKERS` schools the map draws cells instead: the cell is doubled from half a degree until
few enough cells hold schools; each cell's marker sits at its schools' mean position, takes their
mean value and says how many they are. Up to `MAX_MARKERS` every school keeps its own marker (and
stays clickable); the list beside the map always names every school.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

MAX_MARKERS: Final = 1500
_STATUS_ORDER: Final = ("online", "stale", "offline")
_COLUMNS: Final = ("station", "name", "lat", "lon", "status", "value")


def cells(points: dict[str, Any], max_markers: int = MAX_MARKERS) -> dict[str, Any]:
    """The map's `points` (lists: station, name, lat, lon, status, value) with a `count` list;
    above `max_markers` schools, one entry per occupied grid cell, with an empty station id and
    name, the liveliest status among its schools and the mean of their values.

    >>> points = {"variable": "temp_c", "station": ["fi-a", "fi-b", "th-c"],
    ...     "name": ["A", "B", "C"], "lat": [60.1, 60.2, 10.0], "lon": [24.1, 24.2, 100.0],
    ...     "status": ["stale", "online", "online"], "value": [1.0, None, 20.0]}
    >>> merged = cells(points, max_markers=2)
    >>> [merged[k] for k in ("station", "lat", "lon", "status", "value", "count")]
    [['', ''], [60.15, 10.0], [24.15, 100.0], ['online', 'online'], [1.0, 20.0], [2, 1]]
    """
    n = len(points.get("station", []))
    if n <= max_markers:
        return {**points, "count": [1] * n}
    frame = pd.DataFrame({k: points[k] for k in _COLUMNS})
    lat, lon = frame["lat"].to_numpy(float), frame["lon"].to_numpy(float)
    size = 0.5
    while True:
        key = np.floor((lat + 90) / size) * 10_000 + np.floor((lon + 180) / size)
        if len(np.unique(key)) <= max_markers:
            break
        size *= 2
    rank = frame["status"].map({s: i for i, s in enumerate(_STATUS_ORDER)}).fillna(2)
    grouped = (
        frame.assign(key=key, rank=rank, value=pd.to_numeric(frame["value"], errors="coerce"))
        .groupby("key", sort=False)
        .agg(lat=("lat", "mean"), lon=("lon", "mean"), value=("value", "mean"),
             rank=("rank", "min"), count=("lat", "size"))
    )  # fmt: skip
    return {
        **points,
        "station": [""] * len(grouped),
        "name": [""] * len(grouped),
        "lat": grouped["lat"].round(4).tolist(),
        "lon": grouped["lon"].round(4).tolist(),
        "status": [_STATUS_ORDER[int(r)] for r in grouped["rank"]],
        "value": [None if np.isnan(v) else float(v) for v in grouped["value"]],
        "count": grouped["count"].astype(int).tolist(),
    }
