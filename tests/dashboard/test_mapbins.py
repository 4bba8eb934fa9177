"""The Now map of a network of 10,000 schools (issue #17): at most `MAX_MARKERS` markers, every
school counted in exactly one, each cell's value the mean of its schools' and its marker among
them; a network small enough keeps one clickable marker per school."""

from __future__ import annotations

import numpy as np

from dashboard.mapbins import MAX_MARKERS, cells
from dashboard.pages.now import render_map
from dashboard.units import DEFAULT_UNITS


def network(n: int, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    # Schools crowd in a few cities, as they do, and spread thinly elsewhere.
    crowd = rng.normal([50, 10], [2, 4], (n // 2, 2))
    spread = rng.uniform([-10, -20], [70, 150], (n - n // 2, 2))
    lat_lon = np.vstack([crowd, spread])
    value = np.round(rng.normal(15, 8, n), 1)
    return {
        "variable": "temp_c",
        "station": [f"xx-s-{i:05d}" for i in range(n)],
        "name": [f"School {i}" for i in range(n)],
        "lat": lat_lon[:, 0].tolist(),
        "lon": lat_lon[:, 1].tolist(),
        "status": ["online", "stale", "offline"] * (n // 3) + ["online"] * (n % 3),
        "value": [None if i % 10 == 0 else float(v) for i, v in enumerate(value)],
    }


def test_ten_thousand_schools_make_at_most_the_marker_limit_and_count_every_school() -> None:
    points = network(10_000)
    merged = cells(points)
    assert 100 < len(merged["station"]) <= MAX_MARKERS
    assert sum(merged["count"]) == 10_000
    assert set(merged["station"]) == {""} and set(merged["name"]) == {""}
    # The biggest cell: its value is the mean of the values of the schools nearest its marker.
    biggest = int(np.argmax(merged["count"]))
    assert merged["count"][biggest] > 1 and merged["status"][biggest] == "online"
    assert -90 <= merged["lat"][biggest] <= 90 and -180 <= merged["lon"][biggest] <= 180
    values = [v for v in points["value"] if v is not None]
    assert min(values) <= merged["value"][biggest] <= max(values)


def test_a_network_under_the_limit_keeps_a_marker_per_school() -> None:
    points = network(MAX_MARKERS)
    assert cells(points) == {**points, "count": [1] * MAX_MARKERS}


def test_the_map_of_ten_thousand_schools_draws_cells_named_by_their_size() -> None:
    figure = render_map(network(10_000), [], "de", DEFAULT_UNITS)
    drawn = sum(len(trace.lat) for trace in figure.data)
    assert drawn <= MAX_MARKERS
    names = [name for trace in figure.data for name in trace.text]
    assert any(name.endswith("Schulen (Mittelwert)") for name in names), names[:5]
    assert all(customdata == [""] for trace in figure.data for customdata in trace.customdata)
