"""Property-based tests: nothing a station or an attacker sends makes the decoder raise anything
but ContractError, and valid observations survive the round trip unchanged."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware import wire
from ingest.domain.contract import (
    ContractError,
    decode_meta,
    decode_obs,
    decode_status,
    parse_topic,
)

NOW = 1_763_884_800.0
TOPIC = parse_topic("classnet/v1/fi-tampere-hervanta/obs")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from([*wire.FIELDS, "ts", "seq", "station", "x"]), children)
    ),
    max_leaves=30,
)


def _decode_all(payload: bytes) -> None:
    for call in (
        lambda: decode_obs(TOPIC, payload, now=NOW),
        lambda: decode_meta("classnet/v1/fi-tampere-hervanta/meta", payload),
        lambda: decode_status("classnet/v1/fi-tampere-hervanta/status", payload),
    ):
        with contextlib.suppress(ContractError):
            call()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_contract_error(payload: bytes) -> None:
    _decode_all(payload)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_only_raises_contract_error(doc: object) -> None:
    _decode_all(json.dumps(doc).encode())


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=200_000), st.sampled_from([b"[", b'{"a":']))
def test_deep_or_oversized_bodies_only_raise_contract_error(depth: int, opener: bytes) -> None:
    _decode_all(opener * depth)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_any_topic_parses_or_raises_contract_error(topic: str) -> None:
    try:
        parsed = parse_topic(topic)
    except ContractError:
        return
    assert str(parsed) == topic


def _field_value(name: str) -> st.SearchStrategy[float | None]:
    low, high, _ = wire.FIELDS[name]
    return st.none() | st.floats(min_value=low, max_value=high, allow_nan=False)


valid_observation = st.fixed_dictionaries(
    {"ts": st.floats(min_value=wire.TS_MIN, max_value=NOW, allow_nan=False)},
    optional={"seq": st.integers(0, wire.SEQ_MAX)}
    | {name: _field_value(name) for name in wire.FIELDS},
)


@settings(max_examples=300)
@given(st.lists(valid_observation, min_size=1, max_size=wire.MAX_BATCH))
def test_valid_observations_round_trip(batch: list[dict]) -> None:
    decoded = decode_obs(TOPIC, wire.encode(batch), now=NOW)
    assert decoded.problems == []
    for sent, got in zip(batch, decoded.observations, strict=True):
        assert got.ts == sent["ts"]
        assert got.seq == sent.get("seq")
        assert got.values == {k: v for k, v in sent.items() if k in wire.FIELDS}
