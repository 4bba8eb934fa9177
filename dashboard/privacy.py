"""What the public dashboard may show about a school: coarsened positions, no personal data.

A school's exact position says where children are every weekday, so the public map shows it
snapped to a grid of about 1 km unless the coordinator opted that station out
(`public_exact_location = true` in stations.toml). Only station-level facts are ever shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# 0.01° of latitude is 1.11 km everywhere; a longitude step of 0.01°/cos(lat) is the same
# distance on the ground at the school's latitude (capped near the poles).
GRID_DEG = 0.01


def coarsen(stations: pd.DataFrame) -> pd.DataFrame:
    """`stations` with lat/lon snapped to a ~1 km grid where `public_exact_location` is not true.

    >>> frame = pd.DataFrame({"lat": [61.44972], "lon": [23.85123],
    ...                       "public_exact_location": [False]}, index=["fi-a"])
    >>> coarsen(frame)[["lat", "lon"]].round(4).values.tolist()
    [[61.45, 23.8444]]
    """
    out = stations.copy()
    exact = out.get("public_exact_location", pd.Series(False, index=out.index))
    exact = exact.fillna(False).astype(bool).to_numpy()
    lat = out["lat"].to_numpy(np.float64)
    lon = out["lon"].to_numpy(np.float64)
    lat_step = GRID_DEG
    lon_step = GRID_DEG / np.maximum(np.cos(np.radians(np.round(lat, 0))), 0.1)
    snapped_lat = np.round(lat / lat_step) * lat_step
    snapped_lon = np.round(lon / lon_step) * lon_step
    out["lat"] = np.where(exact, lat, snapped_lat)
    out["lon"] = np.where(exact, lon, snapped_lon)
    return out
