"""ASEM registry and the coordinator's stations.toml."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.domain import stations
from ingest.domain.asem import COUNTRIES, country_of, region_of
from ingest.domain.contract import decode_meta
from ingest.domain.errors import UserError

GOOD = """
[fi-tampere-hervanta]
name = "Hervanta Upper Secondary School"
lat = 61.45
lon = 23.85
elevation_m = 140
timezone = "Europe/Helsinki"

[ph-manila-01]
name = "Manila Science High School"
lat = 14.58
lon = 120.98
elevation_m = 10
timezone = "Asia/Manila"
public_exact_location = true

[fi-tampere-hervanta-room12]
name = "Hervanta room 12"
lat = 61.45
lon = 23.85
timezone = "Europe/Helsinki"
exposure = "indoor"
"""


def test_asem_has_51_countries_21_asian_30_european() -> None:
    sides = pd.Series([side for _, side in COUNTRIES.values()]).value_counts()
    assert len(COUNTRIES) == 51
    assert sides.to_dict() == {"europe": 30, "asia": 21}


@pytest.mark.parametrize(("code", "side"), [("AU", "asia"), ("NZ", "asia"), ("RU", "asia"),
                                            ("GB", "europe"), ("NO", "europe"), ("CH", "europe"),
                                            ("KZ", "asia"), ("HR", "europe")])  # fmt: skip
def test_asem_sides_as_asem_groups_them(code: str, side: str) -> None:
    assert region_of(code) == side


def test_region_comes_from_the_station_id() -> None:
    assert region_of(country_of("gr-athens-01")) == "europe"
    assert country_of("el-athens-01") == "GR"
    assert region_of(country_of("us-boston-01")) is None


def test_stations_file_builds_the_registry(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text(GOOD)
    frame = stations.load_stations(path)
    assert list(frame.index) == [
        "fi-tampere-hervanta",
        "ph-manila-01",
        "fi-tampere-hervanta-room12",
    ]
    manila = frame.loc["ph-manila-01"]
    assert (manila["country"], manila["region"], manila["timezone"]) == (
        "PH",
        "asia",
        "Asia/Manila",
    )
    assert bool(manila["public_exact_location"]) is True
    assert frame.loc["fi-tampere-hervanta", "exposure"] == "outdoor"
    assert frame.loc["fi-tampere-hervanta-room12", "exposure"] == "indoor"


def test_every_problem_in_a_stations_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text(
        '[fi-tampere-x]\nlat = 91.0\nlon = 23.8\ntimezone = "Europe/Tampere"\n'
        '[us-boston-01]\nlat = 42.3\nlon = -71.0\ntimezone = "America/New_York"\n'
        '[Bad_Id]\nlat = 1\n'
        '[sg-raffles]\nlon = 103.8\ntimezone = "Asia/Singapore"\n'
    )  # fmt: skip
    with pytest.raises(UserError) as err:
        stations.load_stations(path)
    text = str(err.value)
    assert f"{path} [fi-tampere-x]: lat =91.0 outside -90..90" in text
    assert "timezone ='Europe/Tampere' is not an IANA time zone" in text
    assert "[us-boston-01]: US is not an ASEM partner country" in text
    assert "[Bad_Id]: not a station id" in text
    assert "[sg-raffles]: lat is missing" in text


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text("[fi-x\n")
    with pytest.raises(UserError, match=r"not valid TOML \(.*line 1"):
        stations.load_stations(path)


def test_given_stations_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        stations.resolve_path(tmp_path / "nope.toml")


def test_default_stations_file_is_used_when_present(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert stations.resolve_path(None) is None
    (tmp_path / "stations.toml").write_text(GOOD)
    assert stations.resolve_path(None) == Path("stations.toml")


def test_file_wins_over_what_the_station_says(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    path.write_text(
        '[fi-tampere-hervanta]\nlat = 61.45\nlon = 23.85\ntimezone = "Europe/Helsinki"\n'
    )
    meta, problems = decode_meta(
        "classnet/v1/fi-tampere-hervanta/meta",
        b'{"name": "Hervanta", "lat": 60.0, "lon": 20.0, "elevation_m": 140, '
        b'"timezone": "Europe/Helsinki"}',
    )
    assert problems == []
    merged = stations.merged_registry(stations.registry_frame([(meta, False)]), path)
    row = merged.loc["fi-tampere-hervanta"]
    assert (row["lat"], row["lon"]) == (61.45, 23.85)  # from the file
    assert (row["name"], row["elevation_m"]) == ("Hervanta", 140.0)  # from the station


def test_meta_from_a_station_drops_bad_entries_and_keeps_the_rest() -> None:
    meta, problems = decode_meta(
        "classnet/v1/fi-tampere-hervanta/meta",
        b'{"name": "Hervanta", "country": "SE", "lat": 61.45, "timezone": "Mars/Olympus"}',
    )
    assert (meta.name, meta.lat, meta.country, meta.timezone) == ("Hervanta", 61.45, None, None)
    assert sorted(str(p.field) for p in problems) == ["country", "timezone"]
