"""The dashboard's climate payloads over a real SQLite store: partner schools' months side by side
(this month and the same month last year when it has data), Asia against Europe, records."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard.climate_data import Climate
from dashboard.data import Data
from dashboard.kept_days import DayKeeper
from dashboard.report_actions import parse_period, period_report
from ingest import open_store
from ingest.batch import Batch, empty_obs
from ingest.domain.calibration import Correction, write_corrections
from tests.waiting import wait_until

SCHOOLS = {
    "fi-partner-01": {"name": "Tampere partner", "lat": 61.5, "lon": 23.8, "elevation_m": 100.0,
                      "timezone": "Europe/Helsinki", "exposure": "outdoor"},
    "ph-partner-01": {"name": "Manila partner", "lat": 14.6, "lon": 121.0, "elevation_m": 10.0,
                      "timezone": "Asia/Manila", "exposure": "outdoor"},
}  # fmt: skip


def _june(station: str, year: int, low: float, high: float, rain_every: int) -> pd.DataFrame:
    """Hourly readings for June `year`: a low at 04 h UTC, a high at 12 h UTC, rain of 12 mm
    at 06 h UTC every `rain_every` days."""
    time = pd.date_range(f"{year}-05-31 12:00", f"{year}-07-01 12:00", freq="1h", tz="UTC")
    obs = empty_obs().reindex(range(len(time)))
    obs["station"] = station
    obs["ts_ms"] = time.as_unit("ms").asi8
    hour = time.hour.to_numpy()
    obs["temp_c"] = np.where(hour == 4, low, np.where(hour == 12, high, (low + high) / 2))
    rainy = (hour == 6) & (time.day.to_numpy() % rain_every == 0)
    obs["rain_mm"] = np.where(rainy, 12.0, 0.0)
    obs["wind_gust_ms"] = 5.0
    obs["wind_dir_deg"] = 200.0
    return obs


@pytest.fixture
def climate(tmp_path: Path) -> Climate:
    store = open_store(f"sqlite:///{tmp_path / 'partners.db'}")
    batch = Batch(obs=pd.concat([
        _june("fi-partner-01", 2023, 9.0, 19.0, 10),
        _june("fi-partner-01", 2024, 11.0, 22.0, 5),
        _june("ph-partner-01", 2024, 25.5, 33.0, 2),
    ], ignore_index=True))  # fmt: skip
    last_seen = int(datetime(2024, 7, 1, 12, tzinfo=UTC).timestamp() * 1000)
    batch.registry = {s: {**m, "last_seen_ms": last_seen} for s, m in SCHOOLS.items()}
    store.write(batch)
    while store.roll(budget_s=60):  # as a gateway does
        pass
    store.close()
    return Climate(Data(open_store(f"sqlite:///{tmp_path / 'partners.db'}", read_only=True)))


def test_partner_months_side_by_side_with_last_year_when_it_exists(climate: Climate) -> None:
    payload = climate.partners(["ph-partner-01", "fi-partner-01"], 2024, 6)
    shown = [(s["station"], s["period"]) for s in payload["schools"]]
    assert shown == [
        ("ph-partner-01", "2024-06"),
        ("fi-partner-01", "2024-06"),
        ("fi-partner-01", "2023-06"),
    ]
    manila, tampere, tampere_before = payload["schools"]
    # Every Manila night above 20 °C; none in Tampere. A high-low gap of 7.5 against 11 and 10.
    assert (manila["TR"], tampere["TR"]) == (30.0, 0.0)
    assert (manila["DTR"], tampere["DTR"], tampere_before["DTR"]) == (7.5, 11.0, 10.0)
    # 12 mm on the even days in Manila (15 of them), on the 5th, 10th … in Tampere (6).
    assert (manila["R10mm"], tampere["R10mm"], tampere_before["R10mm"]) == (15.0, 6.0, 3.0)
    assert manila["CDD"] == 1.0 and tampere["PRCPTOT"] == 72.0


def test_asia_and_europe_side_by_side(climate: Climate) -> None:
    regions = {r["region"]: r for r in climate.partners([], 2024, 6)["regions"]}
    assert set(regions) == {"asia", "europe"}
    assert regions["asia"]["TNn"] == 25.5 and regions["europe"]["TNn"] == 11.0
    assert regions["asia"]["schools"] == regions["europe"]["schools"] == 1


def test_records_since_the_station_began(climate: Climate) -> None:
    records = climate.records(now=datetime(2024, 7, 1, 12, tzinfo=UTC))["records"]
    tampere = {r["record"]: r for r in records if r["station"] == "fi-partner-01"}
    assert tampere["highest"]["value"] == 22.0 and tampere["highest"]["date"] == "2024-06-01"
    assert tampere["lowest"]["value"] == 9.0 and tampere["lowest"]["date"] == "2023-06-01"
    assert tampere["lowest"]["since"] == "2023-05-31"


def test_records_read_once_then_day_by_day(climate: Climate) -> None:
    """After the first read, a new local day reads only the days since, with the same result."""
    first = climate.records(now=datetime(2024, 6, 10, 12, tzinfo=UTC))["records"]
    assert {r["record"]: r["value"] for r in first if r["station"] == "fi-partner-01"}[
        "highest"
    ] == 22.0
    later = climate.records(now=datetime(2024, 7, 1, 12, tzinfo=UTC))["records"]
    fresh = Climate(climate.data).records(now=datetime(2024, 7, 1, 12, tzinfo=UTC))["records"]
    assert later == fresh
    assert {r["record"]: r["value"] for r in later if r["station"] == "ph-partner-01"} == {
        "highest": 33.0, "lowest": 25.5, "wettest": 12.0, "windiest": 5.0,
    }  # fmt: skip


def test_a_late_reading_reaches_the_kept_days_and_records(
    climate: Climate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A station's outbox, replayed after an outage, lands on days the dashboard already keeps:
    the store names them (`bins_changes`) and they are read again, those only."""
    now = datetime(2024, 7, 1, 12, tzinfo=UTC)
    monkeypatch.setattr("ingest.sqlite_bins.CLOCK_SKEW_MS", 0)  # no minute to wait for
    before = climate.records(now=now)["records"]
    highest = {r["station"]: r for r in before if r["record"] == "highest"}
    assert (highest["fi-partner-01"]["value"], highest["fi-partner-01"]["date"]) == (
        22.0, "2024-06-01",
    )  # fmt: skip
    writer = open_store(f"sqlite:///{tmp_path / 'partners.db'}")
    late = _june("fi-partner-01", 2024, 11.0, 22.0, 5)
    late = late[late["ts_ms"] == int(datetime(2024, 6, 15, 12, tzinfo=UTC).timestamp() * 1000)]
    writer.write(Batch(obs=late.assign(temp_c=22.5)))
    writer.roll(budget_s=60)
    writer.close()
    reads = _counting_reads(climate.data.store, monkeypatch)
    assert climate.records(now=now)["records"] == before  # not asked again yet: LATE_CHECK_S
    assert reads.count("read_bins") == 1  # today's running values only
    monkeypatch.setattr("dashboard.kept_days.LATE_CHECK_S", 0.0)
    reads.clear()
    after = climate.records(now=now)["records"]
    highest = {r["station"]: r for r in after if r["record"] == "highest"}
    assert (highest["fi-partner-01"]["value"], highest["fi-partner-01"]["date"]) == (
        22.5, "2024-06-15",
    )  # fmt: skip
    assert reads.count("read_bins") == 2  # June 15th of one school, and today's running values
    kept = climate.days(date(2024, 6, 1), date(2024, 6, 30), list(SCHOOLS), now=now)
    assert kept.loc[kept["date"] == "2024-06-15", "tx_c"].tolist() == [22.5, 33.0]
    fresh = Climate(climate.data).days(date(2024, 6, 1), date(2024, 6, 30), list(SCHOOLS), now=now)
    pd.testing.assert_frame_equal(kept, fresh)


def test_a_calibration_added_reaches_the_kept_days(climate: Climate, tmp_path: Path) -> None:
    """A coordinator adds a calibration to stations.toml while the dashboard runs: the school's
    kept days are read again, corrected (they are kept as every reader shows them)."""
    now = datetime(2024, 7, 1, 12, tzinfo=UTC)
    stations = tmp_path / "stations.toml"
    stations.write_text("", encoding="utf-8")
    kept = Climate(dataclasses.replace(climate.data, stations_path=stations, registry_ttl_s=0.0))
    highest = {r["station"]: r["value"] for r in kept.records(now=now)["records"]
               if r["record"] == "highest"}  # fmt: skip
    assert highest == {"fi-partner-01": 22.0, "ph-partner-01": 33.0}
    since = datetime(2024, 1, 1, tzinfo=UTC)
    write_corrections(stations, [Correction("fi-partner-01", "temp_c", since, 1.5)])
    highest = {r["station"]: r["value"] for r in kept.records(now=now)["records"]
               if r["record"] == "highest"}  # fmt: skip
    assert highest == {"fi-partner-01": 23.5, "ph-partner-01": 33.0}
    write_corrections(stations, [])
    assert kept.records(now=now)["records"] == climate.records(now=now)["records"]


def test_a_network_too_large_to_keep_its_history_keeps_its_records(climate: Climate) -> None:
    """A keeper keeps at most `max_rows` days (10,000 schools: 150 days each); the days before
    go into the records as they are read, and as they leave the window. Records, partner months
    and the days asked for equal those of a keeper that keeps everything."""
    small = Climate(climate.data, _days=DayKeeper(max_rows=2 * 100))  # 100 days a school
    for now in (datetime(2024, 7, 1, 12, tzinfo=UTC), datetime(2024, 10, 20, 12, tzinfo=UTC)):
        assert small.records(now=now) == climate.records(now=now)
        kept = small._days.kept
        assert kept is not None and kept.start == now.date() - timedelta(days=100)
        assert (kept.days["date"] >= pd.Timestamp(kept.start)).all()  # the rest: records only
        assert len(kept.days) == (62 if now.month == 7 else 0)  # June 2024's days, then none
        pd.testing.assert_frame_equal(
            small.days(date(2023, 6, 1), date(2024, 6, 30), list(SCHOOLS), now=now),
            climate.days(date(2023, 6, 1), date(2024, 6, 30), list(SCHOOLS), now=now),
        )
    assert small.partners(list(SCHOOLS), 2024, 6) == climate.partners(list(SCHOOLS), 2024, 6)


def test_days_kept_from_a_store_that_had_none_yet(climate: Climate) -> None:
    """A dashboard started before its network's first day (the keeper's first read finds
    nothing), then the days arrive: the kept days are dated as any read is, and a report made
    from them is the one a fresh dashboard makes (they failed to merge with the calendar)."""
    early = Climate(climate.data)
    assert early.records(now=datetime(2023, 5, 1, 12, tzinfo=UTC))["records"] == []
    now = datetime(2024, 7, 1, 12, tzinfo=UTC)
    kept = early.days(date(2024, 6, 1), date(2024, 6, 30), ["fi-partner-01"], now=now)
    assert kept["date"].dtype == "datetime64[ns]"
    fresh = climate.days(date(2024, 6, 1), date(2024, 6, 30), ["fi-partner-01"], now=now)
    pd.testing.assert_frame_equal(kept, fresh)
    assert period_report(kept, "fi-partner-01", parse_period("2024-06")) is not None


def test_records_of_the_same_moment_read_once(
    climate: Climate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's layout and its banner callback ask for today's records within a second."""
    reads = []
    store = climate.data.store
    monkeypatch.setattr(store, "read", lambda *a, **k: reads.append(a) or empty_obs())
    monkeypatch.setattr(store, "read_bins", lambda *a, **k: reads.append(a) or pd.DataFrame())
    first = climate.records()
    once = len(reads)
    assert once and climate.records() is first and len(reads) == once
    # A station delivered something: computed again.
    monkeypatch.setattr(Data, "version", lambda self: {"fi-partner-01": 1})
    assert climate.records() is not first and len(reads) > once
    later = Climate(dataclasses.replace(climate.data, registry_ttl_s=0.0))
    later.records()
    later.records()
    assert len(reads) > 2 * once  # no time to live: each asks the store


def _counting_reads(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's reads (raw rows and bins) as they happen; the store still answers them."""
    reads: list[str] = []
    for name in ("read", "read_bins"):
        real = getattr(store, name)
        monkeypatch.setattr(
            store,
            name,
            lambda *a, _real=real, _name=name, **k: reads.append(_name) or _real(*a, **k),
        )
    return reads


def test_tabs_opened_together_share_one_history_read(
    climate: Climate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A class opening the dashboard at once: one read of every school's history, which the
    other tabs wait for and share (a year of 500 schools is a minute and hundreds of MB)."""
    reads = _counting_reads(climate.data.store, monkeypatch)
    alone = Climate(climate.data)
    want = alone.records()
    once = len(reads)
    assert once and want["records"]
    reads.clear()
    together = Climate(climate.data)
    with ThreadPoolExecutor(8) as tabs:
        got = list(tabs.map(lambda _: together.records(), range(8)))
    assert all(g == want for g in got)
    assert len(reads) == once, "eight tabs, one computation"


def test_the_history_is_read_ahead_when_the_dashboard_starts(climate: Climate) -> None:
    from dashboard.app import create_app
    from dashboard.climate_data import CLIMATE_KEY

    app = create_app(climate.data)
    started = app.server.config[CLIMATE_KEY]
    wait_until(lambda: started._days.kept is not None, 30, "the records read ahead")
    assert not started._days.kept.records.empty


def test_report_page_escapes_what_the_student_typed() -> None:
    from dashboard.pages.climate import report

    shown = report("fi-partner-01", "<img src=x onerror=alert(1)>", "en")
    assert "<img" not in shown and "&lt;img src=x" in shown


def test_a_spike_today_sets_no_record(climate: Climate, tmp_path: Path) -> None:
    """Today's running values are QC-screened: one reading 18 °C above its neighbours a minute
    apart (WMO's step limit is 3 °C) is set aside, so it breaks no record (Tampere's is 22.0)."""
    time = pd.date_range("2024-07-01 10:01", periods=9, freq="1min", tz="UTC")
    obs = empty_obs().reindex(range(len(time)))
    obs["station"] = "fi-partner-01"
    obs["ts_ms"] = time.as_unit("ms").asi8
    obs["temp_c"] = [16.5 + 0.1 * (i % 2) for i in range(len(time))]
    obs.loc[4, "temp_c"] = 35.0
    store = open_store(f"sqlite:///{tmp_path / 'partners.db'}")
    store.write(Batch(obs=obs))
    store.close()
    payload = climate.records(now=datetime(2024, 7, 1, 10, 15, tzinfo=UTC))
    assert not [b for b in payload["broken"] if b["station"] == "fi-partner-01"]
