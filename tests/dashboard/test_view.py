"""Fast tests of what the pages show: catalogue, units, privacy, selection, data from a real
SQLite store through the core, figures and CSV. No browser, no broker."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard import data as data_module
from dashboard import picker, privacy, units
from dashboard.data import Data
from ingest import open_store

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    # bench/compare_view.py builds the synthetic store; it is loaded by path (it is not a package).
    spec = importlib.util.spec_from_file_location(
        "bench_compare_view", ROOT / "bench" / "compare_view.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def store_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Data, list[str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('view') / 'view.db'}"
    stations = _bench().synthetic_store(url, n_stations=50, days=2)
    return Data(open_store(url)), stations


def test_units_convert_and_format() -> None:
    # A no-break space joins number and unit: "°C" never wraps onto a line of its own.
    assert units.fmt("temp_c", 20.0, {"temp": "F"}) == "68.0\u00a0°F"
    assert units.fmt("sea_level_pressure_hpa", 1013.25, {"pressure": "inHg"}) == "29.92\u00a0inHg"
    assert units.fmt("wind_speed_ms", 10.0, {"wind": "kmh"}) == "36\u00a0km/h"
    assert units.fmt("wind_speed_ms", 10.0, {"wind": "mph"}) == "22\u00a0mph"
    assert units.fmt("temp_c", None, None) == "–"
    # Numbers in the reader's locale (Babel): decimal comma, digit groups.
    assert units.fmt("temp_c", -3.25, None, "fi") == "-3,2\u00a0°C"
    assert units.fmt("sea_level_pressure_hpa", 1013.25, None, "de") == "1.013,2\u00a0hPa"
    assert units.chosen({"temp": "K"}) == units.DEFAULT_UNITS  # unknown unit ignored


def test_palettes_contrast_with_the_plot() -> None:
    """Lines and regions a student must tell apart stand out from the white plot (WCAG 2.1
    1.4.11: 3:1 for graphics); the offline cross too, on the map's light grey land."""
    from dashboard import figures

    for colour in (*figures.PALETTE, *figures.REGION_COLOUR.values()):
        assert figures.contrast(colour) >= 3.0, colour
    assert figures.contrast(figures.OFFLINE, figures.LAND) >= 3.0


def test_privacy_coarsens_about_one_km_unless_opted_out() -> None:
    frame = pd.DataFrame(
        {"lat": [61.44972, 14.5831], "lon": [23.85123, 120.9794],
         "public_exact_location": [False, True]},
        index=["fi-a", "ph-b"],
    )  # fmt: skip
    out = privacy.coarsen(frame)
    assert out.loc["ph-b", ["lat", "lon"]].tolist() == [14.5831, 120.9794]
    dlat_km = abs(out.at["fi-a", "lat"] - 61.44972) * 111.2
    dlon_km = abs(out.at["fi-a", "lon"] - 23.85123) * 111.2 * np.cos(np.radians(61.45))
    assert 0 < np.hypot(dlat_km, dlon_km) <= 1.0


def test_selection_sync() -> None:
    registry = pd.DataFrame(
        {"exposure": "outdoor", "region": ["asia", "europe", "europe"],
         "status": "online", "name": "x", "country": "X"},
        index=["ph-a", "fi-b", "de-c"],
    )  # fmt: skip
    assert picker.sync(None, None, None, registry) == ["ph-a", "de-c"]  # one per side
    assert picker.sync(None, None, ["fi-b"], registry) == ["fi-b"]  # remembered
    assert picker.sync("pick", None, ["fi-b"], registry) == ["fi-b"]  # page load, not a clear
    assert picker.sync("pick", [], ["fi-b"], registry) == []  # the student cleared it
    assert picker.sync("map", None, ["fi-b"], registry, clicked="ph-a") == ["fi-b", "ph-a"]
    assert picker.sync("map", None, ["fi-b"], registry, clicked="fi-b") == []  # click toggles
    assert picker.sync(None, None, ["fi-b"], registry, linked=["de-c", "zz-x"]) == ["de-c"]
    assert picker.from_query({"schools": "ph-a,fi-b"}) == ["ph-a", "fi-b"]


def test_compare_clocks_and_downsampling(
    store_data: tuple[Data, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _ = store_data
    picked = ["ph-manila-01", "fi-tampere-01"]
    first = {}
    for clock in ("utc", "local", "solar"):
        out = data.compare(picked, "temp_c", "day", clock)
        assert [s["station"] for s in out["series"]] == picked
        first[clock] = tuple(s["x"][0] for s in out["series"])
        assert all(len(s["x"]) <= data_module.MAX_POINTS for s in out["series"])
    assert len(set(first.values())) == 3  # each clock puts the points elsewhere
    # Manila's solar time is ~8 h ahead of UTC.
    shift = pd.Timestamp(first["solar"][0]) - pd.Timestamp(first["utc"][0])
    assert timedelta(hours=7) < shift < timedelta(hours=9)
    full = data.compare(picked[:1], "temp_c", "day", "utc")["series"][0]
    monkeypatch.setattr(data_module, "MAX_POINTS", 300)
    small = data.compare(picked[:1], "temp_c", "day", "utc")["series"][0]
    assert len(small["y"]) <= 300 < len(full["y"])
    assert max(small["y"]) == max(full["y"]) and min(small["y"]) == min(full["y"])
    out = data.compare(picked, "sea_level_pressure_hpa", "week", "utc")
    assert all(950 < v < 1080 for s in out["series"] for v in s["y"])
    daily = data.daily(picked)["daily"]
    assert [d["station"] for d in daily] == picked and all(len(d["date"]) >= 2 for d in daily)
    assert all(lo <= hi for d in daily for lo, hi in zip(d["min"], d["max"], strict=True))


def test_now_cards_and_map(store_data: tuple[Data, list[str]]) -> None:
    data, stations = store_data
    cards = data.now_cards(["ph-manila-01"])
    card = cards[0]
    assert card["name"] == "Manila school 1 (simulated)" and card["temp_c"] is not None
    assert card["wind_compass"] in {"N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S",
                                     "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"}  # fmt: skip
    assert card["sunrise"] < card["sunset"] and len(card["local_time"]) == 5
    latest = data.latest("apparent_temp_c")
    assert set(latest.index) == set(stations) and latest["value"].notna().all()


def test_school_list_sent_only_when_it_changed() -> None:
    """The list the page already shows is not sent again (each box would be drawn anew)."""
    import dash

    from dashboard.pages import now

    points = {"variable": "temp_c", "station": ["fi-a-01"], "name": ["A school"],
              "country": ["FI"], "status": ["online"], "value": [3.0]}  # fmt: skip
    shown = now.school_options(points, units.DEFAULT_UNITS, "en")
    assert shown == [{"label": "A school (FI) · 3.0\u00a0°C", "value": "fi-a-01"}]
    assert now.school_list(points, units.DEFAULT_UNITS, "en", shown) is dash.no_update
    fahrenheit = now.school_list(points, {**units.DEFAULT_UNITS, "temp": "F"}, "en", shown)
    assert fahrenheit[0]["label"] == "A school (FI) · 37.4\u00a0°F"
    assert now.school_list(points, units.DEFAULT_UNITS, "en", None) == shown


def test_regions_leaderboard_health(store_data: tuple[Data, list[str]]) -> None:
    data, _ = store_data
    regions = data.regions("temp_c", "day", "solar")
    assert {s["region"] for s in regions["sides"]} == {"asia", "europe"}
    board = data.leaderboard()
    assert set(board["categories"]) == {"hottest", "coldest", "wettest", "windiest", "range"}
    assert board["categories"]["hottest"][0]["value"] >= board["categories"]["coldest"][0]["value"]
    health = data.station_health()
    assert len(health["stations"]) == 50 and health["rejects"] == [] == health["recent"]


def test_figures_escape_station_names() -> None:
    from dashboard.pages.compare import render_series, to_csv
    from dashboard.pages.now import render_map

    name = "<img src=x onerror=alert(1)>"
    payload = {"variable": "temp_c", "clock": "utc",
               "series": [{"station": "fi-a", "name": name, "x": ["2026-01-01T00:00:00"],
                           "y": [20.0]}]}  # fmt: skip
    fig = render_series(payload, "en", {"temp": "F"})
    assert fig.data[0].name == "&lt;img src=x onerror=alert(1)&gt;"
    assert fig.data[0].y[0] == pytest.approx(68.0)
    points = {"variable": "temp_c", "station": ["fi-a"], "name": [name], "lat": [60.0],
              "lon": [24.0], "status": ["online"], "value": [1.0]}  # fmt: skip
    assert "&lt;img" in render_map(points, [], "fi", {})["data"][0]["text"][0]
    csv_text = to_csv(payload, "en", {"temp": "F"})
    assert csv_text.splitlines() == ["station,name,time_utc,temp_c (°F)",
                                     f"fi-a,{name},2026-01-01T00:00:00,68.000"]  # fmt: skip


def test_empty_store(tmp_path: Path) -> None:
    data = Data(open_store(f"sqlite:///{tmp_path / 'empty.db'}"))
    now = datetime.now(UTC)
    assert data.compare(["fi-a-01"], "temp_c", "day", "utc", now)["series"] == []
    assert data.regions("temp_c", "day", "utc", now)["sides"] == []
    assert data.leaderboard(now)["categories"] == {}
    assert data.now_cards(["fi-a-01"], now) == []
    assert data.classrooms(now)["rooms"] == []


def test_callbacks_over_http_compute_then_download_csv(store_data: tuple[Data, list[str]]) -> None:
    """The Compare callbacks as the browser calls them: compute, then the CSV of that chart."""
    from dashboard.app import create_app

    data, _ = store_data
    bench = _bench()
    client = create_app(data).server.test_client()
    client.get("/")
    _, size, answer = bench.post_callback(
        client,
        "compare-data.data",
        [
            {"id": "app-selected", "property": "data", "value": ["jp-tokyo-01"]},
            {"id": "compare-variable", "property": "value", "value": "temp_c"},
            {"id": "compare-period", "property": "value", "value": "day"},
            {"id": "compare-clock", "property": "value", "value": "local"},
            {"id": "compare-well-sited", "property": "value", "value": []},
            {"id": "app-data-version", "property": "data", "value": {}},
        ],
        "compare-clock.value",
        state=[{"id": "compare-data", "property": "data", "value": None}],
    )
    payload = answer["response"]["compare-data"]["data"]
    assert size < 1_000_000 and payload["series"][0]["station"] == "jp-tokyo-01"
    _, _, answer = bench.post_callback(
        client,
        "compare-download.data",
        [{"id": "compare-download-button", "property": "n_clicks", "value": 1}],
        "compare-download-button.n_clicks",
        state=[
            {"id": "compare-data", "property": "data", "value": payload},
            {"id": "app-lang", "property": "data", "value": "en"},
            {"id": "app-units", "property": "data", "value": {"temp": "F"}},
        ],
    )
    download = answer["response"]["compare-download"]["data"]
    lines = download["content"].splitlines()
    assert download["filename"] == "classnet-compare.csv"
    assert lines[0] == "station,name,time_local,temp_c (°F)"
    assert len(lines) == 1 + len(payload["series"][0]["y"])
