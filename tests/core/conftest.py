"""Small station registries and observation builders shared by the core tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_meta(**stations: dict[str, object]) -> pd.DataFrame:
    """Metadata frame from keyword rows; fills what a test does not care about."""
    defaults = {
        "name": "School",
        "country": "FI",
        "region": "europe",
        "lat": 60.0,
        "lon": 25.0,
        "elevation_m": 0.0,
        "timezone": "UTC",
        "exposure": "outdoor",
    }
    rows = {sid.replace("_", "-"): {**defaults, **row} for sid, row in stations.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def series(
    station: str, start: str, periods: int, freq: str = "1min", **fields: object
) -> pd.DataFrame:
    """Regular observations of one station from a UTC start; fields are scalars or arrays."""
    frame = pd.DataFrame(
        {"station": station, "time": pd.date_range(start, periods=periods, freq=freq, tz="UTC")}
    )
    for name, value in fields.items():
        frame[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), periods)
    return frame


def moving(level: float, periods: int, every_min: int = 1) -> np.ndarray:
    """A working sensor's readings around `level`: QC sets a flat line aside as a stuck sensor.

    A sawtooth of ±0.2 whose mean over every whole hour is exactly `level` (for readings every
    `every_min` minutes, a divisor of 60), so hourly and daily means stay round numbers.
    """
    per_hour = 60 // every_min
    return level + 0.2 * ((np.arange(periods) % per_hour) - (per_hour - 1) / 2) / (per_hour / 2)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)
