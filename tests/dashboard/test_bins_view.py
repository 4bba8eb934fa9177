"""Pages that read the store's 15-minute bins show what the raw rows give: Asia vs Europe, the
leaderboard (today's rankings, daily range, anomaly), daily bars and a month of Compare."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard import data as data_module
from dashboard.core import compare as core_compare
from dashboard.core.daily import daily_summary
from dashboard.core.resample import resample
from dashboard.data import Data
from ingest import open_store
from tests import servers
from tests.dashboard.test_view import _bench


@pytest.fixture(scope="module", params=["sqlite", "influxdb"])
def view(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Data, list[str], datetime]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bins') / 'bins.db'}"
    else:
        # InfluxDB's bins carry no reading times: the pages estimate intervals differently.
        port = request.getfixturevalue("influxdb").port
        servers.influx_query(port, 'DROP DATABASE "bins_view"')
        servers.influx_query(port, 'CREATE DATABASE "bins_view"')
        url = f"influxdb://127.0.0.1:{port}/bins_view"
    stations = _bench().synthetic_store(url, n_stations=12, days=9)
    data = Data(open_store(url))
    last = data.store.read(
        pd.Timestamp.now("UTC") - timedelta(hours=1), pd.Timestamp.now("UTC"), stations[:1]
    )["time"].max()
    # On a bin boundary, so the raw window and the bins' window hold the same readings.
    now = (last - timedelta(hours=5)).floor("15min").to_pydatetime()
    return data, stations, now


def same(shown: list[Any], raw: list[Any]) -> None:
    """Shown values (rounded to 3 decimals by the page) against the raw computation: equal to
    that rounding (a raw 5.1645 may show as 5.164 or 5.165 after summing in another order)."""
    np.testing.assert_allclose(
        np.array(shown, dtype=np.float64), np.array(raw, dtype=np.float64), rtol=0, atol=5.0001e-4
    )


@pytest.mark.parametrize("clock", ["utc", "local"])
@pytest.mark.parametrize("period", ["week", "month"])
def test_regions_from_bins_equal_raw(
    view: tuple[Data, list[str], datetime], clock: str, period: str
) -> None:
    data, _, now = view
    got = data.regions("temp_c", period, clock, now=now)  # type: ignore[arg-type]
    meta = data.registry(now)
    raw = data.store.read(now - data_module.PERIODS[period], now, list(meta.index), ["temp_c"])
    table = core_compare.region_comparison(
        resample(raw, meta, "1h", clock, fields=["temp_c"]),  # type: ignore[arg-type]
        meta,
        "temp_c",
    )
    assert [s["region"] for s in got["sides"]] == ["asia", "europe"]
    for side in got["sides"]:
        rows = table[table["region"] == side["region"]]
        same(side["median"], rows["median"].tolist())
        same(side["q25"], rows["q25"].tolist())
        assert side["n"] == rows["n_stations"].tolist()


def test_leaderboard_from_bins_equals_raw(view: tuple[Data, list[str], datetime]) -> None:
    data, _, now = view
    got = data.leaderboard(now=now)
    meta = data.registry(now)
    # `now` is in the past here: the raw window ends at it, as the bins' does.
    raw = data.store.read(
        now - timedelta(days=8), now, list(meta.index), ["temp_c", "rain_mm", "wind_gust_ms"]
    )
    recent = raw[raw["time"] >= pd.Timestamp(now) - timedelta(hours=26)]
    ranked = core_compare.rankings(recent, meta, now)
    for category in ("hottest", "coldest", "wettest", "windiest"):
        rows = ranked[(ranked["period"] == "today") & (ranked["category"] == category)]
        assert [r["station"] for r in got["categories"][category]] == rows["station"].tolist()
        same([r["value"] for r in got["categories"][category]], rows["value"].tolist())
    daily = daily_summary(raw, meta, min_coverage=0.5)
    anomalies = core_compare.anomaly(daily, "temp_c_mean", baseline_days=7, min_days=3)
    latest = anomalies.dropna(subset=["anomaly"]).groupby("station").last()
    latest = latest.sort_values("anomaly", ascending=False)
    assert [a["station"] for a in got["anomaly"]] == latest.index.tolist()
    same([a["anomaly"] for a in got["anomaly"]], latest["anomaly"].tolist())
    assert len(got["anomaly"]) == 12


def test_daily_bars_and_compare_month_from_bins_equal_raw(
    view: tuple[Data, list[str], datetime],
) -> None:
    data, stations, now = view
    chosen = stations[:4]
    got = data.daily(chosen, days=7, now=now)
    meta = data.registry(now).loc[chosen]
    raw = data.store.read(now - timedelta(days=7), now, chosen, ["temp_c", "rain_mm"])
    want = daily_summary(raw, meta, min_coverage=0.0)
    for entry in got["daily"]:
        rows = want[want["station"].astype(str) == entry["station"]]
        assert entry["date"] == rows["date"].dt.strftime("%Y-%m-%d").tolist()
        same(entry["max"], rows["temp_c_max"].tolist())
        same(entry["rain"], rows["rain_mm_sum"].tolist())
    month = data.compare(chosen, "feels_c", "month", "local", now=now)
    raw = data.store.read(
        now - timedelta(days=30), now, chosen, ["rh_pct", "temp_c", "wind_speed_ms"]
    )
    binned = resample(raw, meta, "30min", "local", fields=["rh_pct", "temp_c", "wind_speed_ms"])
    for series in month["series"]:
        rows = binned[binned["station"].astype(str) == series["station"]]
        feels = data_module._quantity("feels_c", rows, meta.reindex(rows["station"].astype(str)))
        same(series["y"], feels[np.isfinite(feels)].tolist())


def test_regions_read_in_groups_of_stations_equal_one_read(
    view: tuple[Data, list[str], datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, now = view
    whole = data.regions("temp_c", "week", "local", now=now)
    monkeypatch.setattr(data_module, "STATIONS_PER_READ", 5)  # 12 schools: three reads
    assert data.regions("temp_c", "week", "local", now=now) == whole
