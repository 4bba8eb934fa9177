"""How fast the Compare view answers, and how much it sends (issue 7: p95 ≤ 300 ms, ≤ 1 MB).

    .venv/bin/python bench/compare_view.py [--stations 50] [--days 7] [--runs 40] [--store URL]

Builds a SQLite store with 50 schools × 7 days of 1-minute observations (504,000 rows, written
with the store's own `write`), starts the real Dash app on it, and POSTs the Compare callbacks
exactly as the browser does (`/_dash-update-component`, through Flask's test client, so no
network time is counted). For each update it times the compute callback (store read + core
resampling on the chosen clock + downsampling) and counts the bytes of its response and of the
figure callback that renders it. Scenarios cycle through 1-4 schools from both continents, day
and week, the three clocks and several quantities.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This file is named like the package it measures: keep its own folder off the import path, or
# `import dashboard` would import this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from dashboard.data import Data  # noqa: E402
from ingest import Batch, open_store  # noqa: E402
from ingest.batch import OBS_COLUMNS  # noqa: E402
from ingest.domain.asem import country_of, region_of  # noqa: E402
from simulators import towns  # noqa: E402


def synthetic_store(url: str, n_stations: int, days: float, interval_s: int = 60) -> list[str]:
    """A store holding `days` of observations every `interval_s` for `n_stations` real school
    towns, ending now (`synthetic_rows`)."""
    store = open_store(url)
    fleet = towns.stations(n_stations)
    end_s = int(time.time()) // interval_s * interval_s
    t = np.arange(end_s - int(days * 86400), end_s, interval_s, dtype=np.int64)
    rng = np.random.default_rng(1)
    for s in fleet:
        registry = {
            s.station: {
                "name": s.name, "lat": s.lat, "lon": s.lon, "elevation_m": s.elevation_m,
                "timezone": s.timezone, "exposure": "outdoor", "state": "online",
                "last_seen_ms": int(t[-1]) * 1000, "firmware": "bench",
            }
        }  # fmt: skip
        store.write(Batch(obs=synthetic_rows(s, t, rng), registry=registry))
    store.close()
    return [s.station for s in fleet]


def synthetic_rows(s: towns.Station, t: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Readings of school `s` at Unix seconds `t` (`ingest.batch.OBS_COLUMNS`): a diurnal
    temperature cycle per town's longitude, plus noise, and the other fields around it."""
    solar_h = (t / 3600 + s.lon / 15) % 24
    temp = 15 - 0.3 * abs(s.lat) + 6 * np.sin((solar_h - 9) / 24 * 2 * np.pi)
    columns: dict[str, Any] = {name: np.nan for name in OBS_COLUMNS[2:]}
    columns.update(
        station=s.station,
        ts_ms=t * 1000,
        seq=np.arange(t.size, dtype=np.float64),
        temp_c=np.round(temp + rng.normal(0, 0.2, t.size), 2),
        rh_pct=np.round(np.clip(70 - 2 * (temp - 15) + rng.normal(0, 2, t.size), 5, 100), 1),
        pressure_hpa=np.round(1013 - s.elevation_m / 8.3 + rng.normal(0, 0.3, t.size), 1),
        wind_speed_ms=np.round(np.abs(rng.normal(3, 1.5, t.size)), 1),
        wind_gust_ms=np.round(np.abs(rng.normal(6, 2.5, t.size)), 1),
        wind_dir_deg=np.round(rng.uniform(0, 360, t.size)),
        rain_mm=np.where(rng.random(t.size) < 0.02, 0.2, 0.0),
    )
    return pd.DataFrame(columns, columns=list(OBS_COLUMNS))


def post_callback(
    client: Any,
    output: str,
    inputs: list[dict[str, Any]],
    changed: str,
    state: list[dict[str, Any]] | None = None,
) -> tuple[float, int, Any]:
    """One callback round trip as the browser makes it: seconds, response bytes, response."""
    targets = [o.rsplit(".", 1) for o in output.strip(".").split("...")]
    outputs = [{"id": c, "property": p} for c, p in targets]
    body = {
        "output": output,
        "outputs": outputs[0] if len(outputs) == 1 else outputs,
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": state or [],
    }
    start = time.perf_counter()
    response = client.post("/_dash-update-component", json=body)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{output}: HTTP {response.status_code}: {response.text[:500]}")
    return elapsed, len(response.data), response.get_json()


def scenarios(stations: list[str], runs: int) -> list[dict[str, Any]]:
    """Updates a class makes: 1-4 schools alternating between the continents."""
    asia = [s for s in stations if region_of(country_of(s)) == "asia"]
    europe = [s for s in stations if region_of(country_of(s)) == "europe"]
    variables = ("temp_c", "apparent_temp_c", "sea_level_pressure_hpa", "wind_speed_ms", "rh_pct")
    out = []
    for k in range(runs):
        sides = (asia, europe)
        picked = [sides[j % 2][(k + j) % len(sides[j % 2])] for j in range(1 + k % 4)]
        out.append(
            {
                "selected": picked,
                "variable": variables[k % len(variables)],
                "period": ("week", "day")[k % 2],
                "clock": ("solar", "local", "utc")[k % 3],
            }
        )
    return out


def run(store_url: str, stations: list[str], runs: int) -> dict[str, float]:
    app = create_app(Data(open_store(store_url)))
    client = app.server.test_client()
    client.get("/")  # Dash sets itself up on the first request
    warm = scenarios(stations, 1)[0]  # imports and first-use caches, once per process
    app.server.config["CLASSNET_DATA"].compare(warm["selected"], "temp_c", "day", "solar")
    times, compute_bytes, render_bytes, points = [], [], [], []
    daily_times: list[float] = []
    daily_bytes: list[int] = []
    last_selected: list[str] = []
    for case in scenarios(stations, runs):
        elapsed, size, answer = post_callback(
            client,
            "compare-data.data",
            [
                {"id": "app-selected", "property": "data", "value": case["selected"]},
                {"id": "compare-variable", "property": "value", "value": case["variable"]},
                {"id": "compare-period", "property": "value", "value": case["period"]},
                {"id": "compare-clock", "property": "value", "value": case["clock"]},
                {"id": "compare-well-sited", "property": "value", "value": []},
                {"id": "app-data-version", "property": "data", "value": {}},
            ],
            "compare-clock.value",
            state=[{"id": "compare-data", "property": "data", "value": None}],
        )
        payload = answer["response"]["compare-data"]["data"]
        if case["selected"] != last_selected:  # the daily bars follow the schools only
            daily_s, daily_size, _ = post_callback(
                client,
                "compare-daily-data.data",
                [
                    {"id": "app-selected", "property": "data", "value": case["selected"]},
                    {"id": "app-data-version", "property": "data", "value": {}},
                ],
                "app-selected.data",
                state=[{"id": "compare-daily-data", "property": "data", "value": None}],
            )
            daily_times.append(daily_s)
            daily_bytes.append(daily_size)
            last_selected = case["selected"]
        points.append(max((len(s["x"]) for s in payload["series"]), default=0))
        _, figure_size, _ = post_callback(
            client,
            "compare-graph.figure",
            [
                {"id": "compare-data", "property": "data", "value": payload},
                {"id": "app-lang", "property": "data", "value": "en"},
                {"id": "app-units", "property": "data", "value": {"temp": "C"}},
            ],
            "compare-data.data",
        )
        times.append(elapsed)
        compute_bytes.append(size)
        render_bytes.append(figure_size)
    quantiles = statistics.quantiles(times, n=20, method="inclusive")
    return {
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": quantiles[18] * 1000,
        "max_ms": max(times) * 1000,
        "compute_bytes_max": max(compute_bytes),
        "render_bytes_max": max(render_bytes),
        "update_bytes_max": max(c + r for c, r in zip(compute_bytes, render_bytes, strict=True)),
        "max_points_per_trace": max(points),
        "daily_p50_ms": statistics.median(daily_times) * 1000,
        "daily_max_ms": max(daily_times) * 1000,
        "daily_bytes_max": max(daily_bytes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--store", help="an existing store to read instead of building one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="classnet-bench-dash-") as folder:
        url = args.store or f"sqlite:///{Path(folder) / 'bench.db'}"
        start = time.perf_counter()
        if args.store:
            stations = sorted(open_store(url).stations().index)
        else:
            stations = synthetic_store(url, args.stations, args.days)
        rows = int(args.stations * args.days * 1440)
        print(
            f"store: {len(stations)} schools × {args.days:g} days of 1-minute data "
            f"(~{rows:,} rows), ready in {time.perf_counter() - start:.1f} s "
            f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        result = run(url, stations, args.runs)
    print(f"compare callback over {args.runs} updates (1-4 schools, day/week, 3 clocks):")
    print(f"  p50 {result['p50_ms']:.0f} ms   p95 {result['p95_ms']:.0f} ms   "
          f"max {result['max_ms']:.0f} ms   (target p95 ≤ 300 ms)")  # fmt: skip
    print(f"  bytes per update: compute {result['compute_bytes_max']:,} + figures "
          f"{result['render_bytes_max']:,} = {result['update_bytes_max']:,} max "
          f"(target ≤ 1 MB)")  # fmt: skip
    print(f"  points per trace ≤ {result['max_points_per_trace']:,}")
    print(f"daily bars (only when the schools change; a week of data): "
          f"p50 {result['daily_p50_ms']:.0f} ms, max {result['daily_max_ms']:.0f} ms, "
          f"≤ {result['daily_bytes_max']:,} bytes")  # fmt: skip
    print(json.dumps({k: round(v, 1) for k, v in result.items()}))


if __name__ == "__main__":
    main()
