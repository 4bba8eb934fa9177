"""WMO-No. 8 Annex 1.B siting classes from what a school writes in stations.toml, for worked
examples of the published criteria (one behaviour each), and the comparison filter."""

from __future__ import annotations

import pytest

from dashboard.core.siting import siting_view
from ingest.domain.errors import UserError
from ingest.domain.siting import Siting, parse_siting, temperature_class, wind_class
from ingest.domain.stations import parse_stations

OPEN_FIELD = Siting(
    surface="grass", heat_source_distance_m=150, shaded_below_sun_deg=4, radiation_shield=True
)


@pytest.mark.parametrize(
    ("change", "klass", "criterion"),
    [
        ({}, 1, "grass, > 100 m from heat sources, no shade above 5°"),
        ({"shaded_below_sun_deg": 6}, 2, "shade up to 7° is class 2, not 1"),
        ({"heat_source_distance_m": 60}, 2, "> 30 m but ≤ 100 m from a building"),
        ({"heat_source_distance_m": 30}, 3, "exactly 30 m is not 'more than 30 m'"),
        ({"surface": "long_grass"}, 3, "vegetation < 25 cm but not < 10 cm"),
        ({"heat_source_distance_m": 15, "surface": "bare_soil"}, 3, "> 10 m, natural ground"),
        ({"heat_source_distance_m": 5}, 4, "heat source within 10 m"),
        ({"shaded_below_sun_deg": 12}, 4, "shaded by a sun up to 20°"),
        ({"shaded_below_sun_deg": 35}, 5, "shaded at higher sun than class 4 allows"),
        ({"surface": "artificial"}, 5, "asphalt or roof below: > 30 % within 3 m"),
        ({"radiation_shield": False}, 5, "no screen: sunlight on the sensor"),
    ],
)
def test_air_temperature_class_worked_examples(
    change: dict[str, object], klass: int, criterion: str
) -> None:
    fields = {name: getattr(OPEN_FIELD, name) for name in Siting.__slots__} | change
    assert temperature_class(Siting(**fields)) == klass, criterion  # type: ignore[arg-type]


def test_temperature_class_is_unknown_without_enough_information() -> None:
    assert temperature_class(Siting(surface="grass", heat_source_distance_m=150)) is None
    assert temperature_class(Siting()) is None


@pytest.mark.parametrize(
    ("height", "distance", "klass"),
    [
        (10.0, 300.0, 1),  # d = 30 h
        (10.0, 299.0, 2),
        (10.0, 100.0, 2),  # d = 10 h
        (10.0, 50.0, 3),  # d = 5 h
        (10.0, 25.0, 4),  # d = 2.5 h
        (10.0, 24.0, 5),
        (3.5, 2.0, 1),  # single obstacles lower than 4 m are ignored
    ],
)
def test_wind_class_worked_examples(height: float, distance: float, klass: int) -> None:
    assert wind_class(Siting(obstacle_height_m=height, obstacle_distance_m=distance)) == klass


def test_siting_table_is_checked_with_every_problem_named() -> None:
    _, errors = parse_siting(
        {"surface": "lawn", "heat_source_distance_m": -3, "radiation_shield": "yes", "colour": 1},
        "stations.toml [fi-a-01]",
    )
    assert len(errors) == 4
    assert any("surface='lawn' must be one of grass" in e for e in errors)
    assert any("heat_source_distance_m=-3" in e for e in errors)
    with pytest.raises(UserError, match=r"siting.photo must be a web link"):
        parse_stations('[fi-tampere-01.siting]\nphoto = "C:/pics/a.jpg"\n')


def test_a_table_with_only_siting_needs_no_position() -> None:
    text = '[fi-tampere-01.siting]\nsurface = "grass"\nheat_source_distance_m = 40\n'
    ((meta, _),) = parse_stations(text)
    assert meta.station == "fi-tampere-01" and meta.lat is None


def test_well_sited_filter_uses_the_class_for_the_quantity() -> None:
    yard = Siting(mounting="ground", obstacle_height_m=10, obstacle_distance_m=400)
    wall = Siting(
        mounting="wall",
        surface="grass",
        heat_source_distance_m=1,
        shaded_below_sun_deg=30,
        radiation_shield=True,
        obstacle_height_m=10,
        obstacle_distance_m=60,
    )
    siting = {"fi-yard": yard, "fi-wall": wall}
    # Temperature: the yard station has no temperature siting described, the wall one is class 5.
    temp = siting_view(["fi-yard", "fi-wall"], siting, "temp_c", well_sited=True)
    assert temp.kept == [] and temp.left_out == ["fi-yard", "fi-wall"]
    wind = siting_view(["fi-yard", "fi-wall"], siting, "wind_speed_ms", well_sited=True)
    assert wind.kept == ["fi-yard", "fi-wall"]  # classes 1 and 3
    rain = siting_view(["fi-yard", "fi-wall"], siting, "rain_mm", well_sited=True)
    assert rain.kept == ["fi-yard", "fi-wall"] and rain.notes == []
