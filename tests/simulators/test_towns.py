"""The bundled towns: real places on both ASEM sides, valid ids, usable as a stations.toml."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from firmware import wire
from ingest.domain.asem import country_of, region_of
from ingest.domain.stations import load_stations
from simulators import towns


def test_at_least_40_towns_on_both_asem_sides() -> None:
    table = towns.towns()
    sides = [region_of(t.country) for t in table]
    assert len(table) >= 40
    assert sides.count("asia") >= 15 and sides.count("europe") >= 15
    assert None not in sides


def test_the_towns_the_issue_names_are_there() -> None:
    slugs = {t.slug for t in towns.towns()}
    assert {"tampere", "lisbon", "satao", "manila", "singapore", "sydney", "auckland"} <= slugs


def test_positions_and_zones_are_real() -> None:
    january = datetime(2025, 1, 15, 12, tzinfo=UTC)
    for t in towns.towns():
        assert -90 <= t.lat <= 90 and -180 <= t.lon <= 180, t
        offset = january.astimezone(zoneinfo.ZoneInfo(t.timezone)).utcoffset()
        assert offset is not None
        # The zone's offset agrees with the longitude's solar time (catches a swapped sign or a
        # zone from the wrong continent); daylight saving in January only in the south.
        assert abs(offset.total_seconds() / 3600 - t.lon / 15) < 3.5, t
    tampere = next(t for t in towns.towns() if t.slug == "tampere")
    assert (round(tampere.lat, 1), round(tampere.lon, 1)) == (61.5, 23.8)


def test_station_ids_follow_the_contract_and_are_unique() -> None:
    fleet = towns.stations(10_000)
    ids = [s.station for s in fleet]
    assert len(set(ids)) == len(ids)
    assert all(wire.is_station_id(s) for s in ids)
    assert ids[0] == "fi-tampere-01" and country_of(ids[0]) == "FI"
    assert fleet[len(towns.towns())].station == "fi-tampere-02"


def test_schools_of_one_town_sit_within_a_few_km() -> None:
    fleet = towns.stations(10_000)
    tampere = [s for s in fleet if s.station.startswith("fi-tampere-")]
    assert len(tampere) == 200
    assert max(abs(s.lat - 61.498) for s in tampere) < 0.06


def test_fleet_writes_a_stations_toml_the_gateway_accepts(tmp_path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text(towns.stations_toml(towns.stations(60)), encoding="utf-8")
    frame = load_stations(path)
    assert len(frame) == 60
    assert frame.loc["pt-satao-01", "name"] == "Sátão school 1 (simulated)"
    assert set(frame["region"]) == {"asia", "europe"}
