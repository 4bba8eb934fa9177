"""The wire contract decoder (ingest/domain/contract.py), one behaviour per test."""

from __future__ import annotations

import json
import math

import pytest

from firmware import wire
from ingest.domain.contract import ContractError, Reason, decode_obs, parse_topic

NOW = 1_763_884_800.0  # 2025-11-23T08:00:00Z
TOPIC = "classnet/v1/ph-manila-01/obs"


def decode(body: object | bytes, topic: str = TOPIC):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return decode_obs(topic, payload, now=NOW)


def test_contract_example_decodes_with_every_field() -> None:
    example = {"ts": 1763884800, "seq": 42, "temp_c": 21.4, "rh_pct": 55.2,
               "pressure_hpa": 1003.1, "rain_mm": 0.2}  # fmt: skip
    d = decode(example)
    (obs,) = d.observations
    assert (obs.station, obs.ts, obs.seq) == ("ph-manila-01", 1763884800.0, 42)
    assert obs.values == {"temp_c": 21.4, "rh_pct": 55.2, "pressure_hpa": 1003.1, "rain_mm": 0.2}
    assert d.problems == []


def test_out_of_range_field_is_dropped_and_the_rest_kept() -> None:
    d = decode({"ts": NOW, "temp_c": 71.2, "rh_pct": 40})
    assert d.observations[0].values == {"rh_pct": 40.0}
    (p,) = d.problems
    assert (p.reason, p.field) == (Reason.OUT_OF_RANGE, "temp_c")
    assert p.detail == (
        "station ph-manila-01 (classnet/v1/ph-manila-01/obs): temp_c=71.2 outside -60..60 °C; "
        "field dropped"
    )


@pytest.mark.parametrize("name", list(wire.FIELDS))
def test_each_field_accepts_its_bounds_and_refuses_just_outside(name: str) -> None:
    low, high, _ = wire.FIELDS[name]
    kept = decode([{"ts": NOW, name: low}, {"ts": NOW + 1, name: high}])
    assert [o.values[name] for o in kept.observations] == [low, high]
    dropped = decode([{"ts": NOW, name: low - 0.001}, {"ts": NOW + 1, name: high + 0.001}])
    assert [o.values for o in dropped.observations] == [{}, {}]
    assert [p.reason for p in dropped.problems] == [Reason.OUT_OF_RANGE] * 2


def test_null_means_sensor_present_but_failed_and_is_kept_as_none() -> None:
    d = decode({"ts": NOW, "temp_c": None})
    assert d.observations[0].values == {"temp_c": None}
    assert d.problems == []


@pytest.mark.parametrize("value", ["21.5", True, [1], {"v": 1}])
def test_wrong_type_is_dropped(value: object) -> None:
    d = decode({"ts": NOW, "temp_c": value, "rh_pct": 50})
    assert d.observations[0].values == {"rh_pct": 50.0}
    assert d.problems[0].reason == Reason.WRONG_TYPE


def test_nan_and_infinity_literals_lose_only_their_field() -> None:
    d = decode(b'{"ts": 1763884800, "temp_c": NaN, "rh_pct": Infinity, "pressure_hpa": 1000}')
    assert d.observations[0].values == {"pressure_hpa": 1000.0}
    assert {p.reason for p in d.problems} == {Reason.NOT_FINITE}


def test_huge_integer_is_out_of_range_not_a_crash() -> None:
    d = decode(b'{"ts": 1763884800, "light_lux": ' + b"9" * 500 + b"}")
    assert d.problems[0].reason == Reason.OUT_OF_RANGE
    assert "..." in d.problems[0].detail  # the 500-digit value is shortened in the sentence


def test_unknown_field_is_ignored_and_counted() -> None:
    d = decode({"ts": NOW, "temp_c": 20, "colour": "blue"})
    assert d.observations[0].values == {"temp_c": 20.0}
    assert (d.problems[0].reason, d.problems[0].field) == (Reason.UNKNOWN_FIELD, "colour")


def test_missing_ts_is_stamped_by_the_gateway() -> None:
    (obs,) = decode({"temp_c": 20}).observations
    assert (obs.ts, obs.stamped) == (NOW, True)


@pytest.mark.parametrize(
    "ts",
    [1577836799, NOW + 601, "1763884800", True, -1],
    ids=["2019", "future", "str", "bool", "neg"],
)
def test_bad_ts_drops_that_observation_only(ts: object) -> None:
    d = decode([{"ts": ts, "temp_c": 1}, {"ts": NOW, "temp_c": 2}])
    assert [o.values["temp_c"] for o in d.observations] == [2.0]
    assert (d.problems[0].reason, d.problems[0].index) == (Reason.BAD_TS, 0)


def test_ts_up_to_ten_minutes_ahead_is_accepted() -> None:
    assert decode({"ts": NOW + 600}).observations[0].ts == NOW + 600


def test_seq_must_be_a_counter() -> None:
    d = decode({"ts": NOW, "seq": 2**31 + 1})
    assert d.observations[0].seq is None
    assert d.problems[0].field == "seq"


def test_backlog_array_of_500_decodes_in_order() -> None:
    d = decode([{"ts": NOW - 500 + i, "seq": i} for i in range(500)])
    assert [o.seq for o in d.observations] == list(range(500))


def test_array_over_500_is_rejected_whole() -> None:
    with pytest.raises(ContractError) as err:
        decode([{"ts": NOW}] * 501)
    assert err.value.reason == Reason.TOO_MANY


def test_non_object_element_is_dropped_and_the_rest_kept() -> None:
    d = decode([{"ts": NOW, "temp_c": 1}, 7, {"ts": NOW + 1, "temp_c": 2}])
    assert len(d.observations) == 2
    assert (d.problems[0].reason, d.problems[0].index) == (Reason.BAD_ELEMENT, 1)


def test_body_naming_another_station_is_rejected() -> None:
    with pytest.raises(ContractError) as err:
        decode({"ts": NOW, "station": "fi-tampere-01"})
    assert err.value.reason == Reason.STATION_MISMATCH
    assert "ph-manila-01" in str(err.value)


def test_body_naming_its_own_station_is_fine() -> None:
    assert decode({"ts": NOW, "station": "ph-manila-01"}).problems == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", Reason.EMPTY),
        (b"[]", Reason.EMPTY),
        (b"\xff\xfe{}", Reason.NOT_UTF8),
        (b"{", Reason.BAD_JSON),
        (b"[" * 5000 + b"]" * 5000, Reason.BAD_JSON),
        (b'"hello"', Reason.NOT_OBJECT),
        (b"42", Reason.NOT_OBJECT),
        (b" " * (64 * 1024 + 1), Reason.TOO_LARGE),
    ],
    ids=["empty", "empty-array", "utf16", "truncated", "deep", "string", "number", "65KiB"],
)
def test_whole_message_rejects(payload: bytes, reason: Reason) -> None:
    with pytest.raises(ContractError) as err:
        decode(payload)
    assert err.value.reason == reason
    assert str(err.value).startswith("station ph-manila-01 (classnet/v1/ph-manila-01/obs): ")


@pytest.mark.parametrize(
    "topic",
    [
        "classnet/v1/PH-manila/obs",
        "classnet/v1/ph-/obs",
        "classnet/v1/ph-a/obs",  # slug needs at least 2 characters
        "classnet/v1/ph--manila/obs",  # slug starts with a letter or digit
        "classnet/v1/ph-" + "a" * 48 + "/obs",
        "classnet/v2/ph-manila/obs",
        "classnet/v1/ph-manila/obs/extra",
        "classnet/v1/ph-manila/weather",
        "classnet/v1/ph-manilä/obs",
    ],
)
def test_topics_outside_the_contract_are_rejected(topic: str) -> None:
    with pytest.raises(ContractError) as err:
        parse_topic(topic)
    assert err.value.reason == Reason.BAD_TOPIC


def test_longest_station_id_is_accepted() -> None:
    station = "ph-" + "a" * 47
    assert parse_topic(f"classnet/v1/{station}/status").station == station


def test_firmware_encoder_output_decodes_to_the_same_values() -> None:
    obs = wire.observation(NOW, 7, temp_c=21.5, rh_pct=float("nan"), rain_mm=0.0)
    d = decode(wire.encode([obs]))
    assert d.observations[0].values == {"temp_c": 21.5, "rh_pct": None, "rain_mm": 0.0}
    assert math.isclose(d.observations[0].ts, NOW)
