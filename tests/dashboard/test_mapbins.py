"""The Now map of a large network: schools merged per grid cell above MAX_MARKERS."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd

from dashboard import mapbins
from dashboard.pages.now import render_map
from simulators import towns


def network(n: int) -> pd.DataFrame:
    fleet = towns.stations(n)
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "name": [s.name for s in fleet],
            "lat": [s.lat for s in fleet],
            "lon": [s.lon for s in fleet],
            "status": rng.choice(["online", "stale", "offline"], n, p=[0.8, 0.1, 0.1]),
            "value": rng.normal(15, 8, n),
        },
        index=[s.station for s in fleet],
    )


def test_docstring_example() -> None:
    assert doctest.testmod(mapbins, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_ten_thousand_schools_become_at_most_max_markers_cells() -> None:
    frame = network(10_000)
    shown = mapbins.cells(frame)
    assert 50 < len(shown) <= mapbins.MAX_MARKERS
    assert shown["count"].sum() == 10_000 and set(shown["station"]) == {""}
    # Each cell's value is the mean of its schools' values: the network's mean is kept.
    assert np.isclose((shown["value"] * shown["count"]).sum() / 10_000, frame["value"].mean())
    small = mapbins.cells(frame.iloc[:100])
    assert small["station"].tolist() == frame.index[:100].tolist()
    assert (small["count"] == 1).all()


def test_a_map_of_cells_renders_with_sizes_and_names() -> None:
    shown = mapbins.cells(network(5_000), max_markers=200)
    points = {"variable": "temp_c", **{c: shown[c].tolist() for c in shown.columns}}
    fig = render_map(points, [], "en", {"temp": "C"})
    texts = [t for trace in fig.data for t in trace.text]
    assert len(texts) == len(shown)
    assert any(t.endswith("schools (mean)") for t in texts)
    sizes = [s for trace in fig.data for s in np.atleast_1d(trace.marker.size)]
    assert max(sizes) > 12
