"""Optional v1 additions to `status` and `meta`: the station's outbox level and its siting.

A gateway that predates them ignores and counts them (unknown fields), so they change nothing for
a v1 reader; this gateway validates them like every other field: a bad value is dropped, named.
"""

from __future__ import annotations

import json

import pytest

from ingest.domain.contract import Reason, decode_meta, decode_status
from ingest.domain.errors import UserError
from ingest.domain.siting import Siting
from ingest.domain.stations import parse_stations

STATUS = "classnet/v1/fi-tampere-01/status"
META = "classnet/v1/fi-tampere-01/meta"


def status(**fields: object):
    return decode_status(STATUS, json.dumps({"state": "online", **fields}).encode())


def test_status_carries_the_outbox_level_and_capacity() -> None:
    state, meta, problems = status(firmware="1.0.0", outbox=1200, outbox_max=2304)
    assert (state, meta.outbox, meta.outbox_max, problems) == ("online", 1200, 2304, [])
    _, meta, problems = status()
    assert (meta.outbox, meta.outbox_max, problems) == (None, None, [])


@pytest.mark.parametrize(
    ("fields", "name", "words"),
    [
        ({"outbox": -1}, "outbox", "outbox must be a whole number 0..2147483648, not -1"),
        ({"outbox": 12.5}, "outbox", "outbox must be a whole number 0..2147483648, not 12.5"),
        ({"outbox": True}, "outbox", "outbox must be a whole number 0..2147483648, not True"),
        ({"outbox": "12"}, "outbox", "outbox must be a whole number 0..2147483648, not '12'"),
        ({"outbox_max": 0}, "outbox_max", "outbox_max must be a whole number 1..2147483648, not 0"),
        ({"outbox_max": 2**31 + 1}, "outbox_max", "outbox_max must be a whole number 1..2"),
    ],
)
def test_a_bad_outbox_value_is_dropped_naming_station_and_field(
    fields: dict[str, object], name: str, words: str
) -> None:
    _, meta, problems = status(**({"firmware": "1.0.0", "outbox": 5, "outbox_max": 9} | fields))
    (problem,) = problems
    assert problem.reason == Reason.BAD_META and problem.field == name
    assert problem.detail.startswith(f"station fi-tampere-01 ({STATUS}): {words}")
    assert meta.firmware == "1.0.0"  # the rest is kept
    assert getattr(meta, name) is None


def test_outbox_is_a_status_field_not_a_meta_one() -> None:
    meta, problems = decode_meta(META, b'{"name": "Hervanta", "outbox": 3}')
    assert meta.outbox is None and meta.name == "Hervanta"
    assert [(p.reason, p.field) for p in problems] == [(Reason.UNKNOWN_FIELD, "outbox")]


def test_meta_carries_siting_checked_by_the_stations_file_rules() -> None:
    body = {"name": "Hervanta", "siting": {"surface": "grass", "height_m": 1.5,
                                           "radiation_shield": True}}  # fmt: skip
    meta, problems = decode_meta(META, json.dumps(body).encode())
    assert problems == []
    assert meta.siting == Siting(surface="grass", height_m=1.5, radiation_shield=True)


def test_a_bad_siting_entry_is_dropped_and_the_rest_kept() -> None:
    body = {"siting": {"surface": "lawn", "height_m": 1.5, "colour": "red"}, "lat": 61.45}
    meta, problems = decode_meta(META, json.dumps(body).encode())
    assert meta.siting == Siting(height_m=1.5) and meta.lat == 61.45
    assert {p.field for p in problems} == {"siting"}
    details = sorted(p.detail for p in problems)
    assert details[0].startswith(f"station fi-tampere-01 ({META}) siting.colour: unknown siting")
    assert details[1] == (
        f"station fi-tampere-01 ({META}) siting.surface='lawn' must be one of grass, "
        "long_grass, bare_soil, artificial"
    )


@pytest.mark.parametrize("siting", [[1, 2], "grass", {}, {"surface": "lawn"}])
def test_siting_that_says_nothing_usable_is_not_kept(siting: object) -> None:
    meta, _ = decode_meta(META, json.dumps({"siting": siting}).encode())
    assert meta.siting is None


def test_a_stations_file_checks_siting_by_the_same_rules_and_takes_no_outbox() -> None:
    with pytest.raises(UserError) as caught:
        parse_stations(
            '[fi-tampere-01]\nlat = 61.4\nlon = 23.8\ntimezone = "Europe/Helsinki"\noutbox = 3\n'
            '[fi-tampere-01.siting]\nsurface = "lawn"\n'
        )
    assert str(caught.value).splitlines()[1:] == [
        "  stations.toml [fi-tampere-01]: unknown field 'outbox' ignored",
        "  stations.toml [fi-tampere-01] siting.surface='lawn' must be one of grass, long_grass, "
        "bare_soil, artificial",
    ]


def test_a_flood_of_siting_keys_or_a_huge_value_is_one_short_problem() -> None:
    """A station cannot turn one meta message into thousands of problems or echo megabytes."""
    keys = {f"k{i}": i for i in range(4000)}
    _, problems = decode_meta("classnet/v1/fi-a-01/meta", json.dumps({"siting": keys}).encode())
    assert len(problems) == 1
    assert "siting: 4000 unknown keys (k0, k1, k2, …)" in problems[0].detail
    huge = {"siting": {"surface": "x" * 50_000}}
    _, problems = decode_meta("classnet/v1/fi-a-01/meta", json.dumps(huge).encode())
    assert len(problems) == 1 and len(problems[0].detail) < 300
