"""The batch decoder against the contract's own decoder: same observations, same problems."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware import wire
from gateway.decode_batch import decode_messages
from ingest.domain.contract import ContractError, decode_obs

NOW = 1_763_884_800.0 + 86400
TOPIC = "classnet/v1/fi-dec-01/obs"

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
)
observation = st.dictionaries(
    st.sampled_from(["ts", "seq", "station", "bogus", *wire.FIELD_NAMES]),
    values,
    max_size=8,
).map(lambda d: {**d, "ts": d.get("ts", NOW - 60)} if "ts" not in d or d["ts"] is None else d)
timestamps = st.floats(min_value=wire.TS_MIN - 5, max_value=NOW + 1200)


def expected(topic: str, payload: bytes) -> tuple[list[tuple], int]:
    try:
        d = decode_obs(topic, payload, NOW)
    except ContractError:
        return [], 1
    rows = [
        (o.station, round(o.ts * 1000), o.seq, {k: v for k, v in o.values.items() if v is not None})
        for o in d.observations
    ]
    return rows, 0


def actual(topic: str, payload: bytes) -> tuple[list[tuple], int]:
    batch = decode_messages([(topic, payload)], NOW, 0).batch
    rows = []
    for rec in batch.obs.to_dict("records"):
        fields = {k: rec[k] for k in wire.FIELD_NAMES if rec[k] == rec[k]}
        seq = None if rec["seq"] != rec["seq"] else int(rec["seq"])
        rows.append((rec["station"], rec["ts_ms"], seq, fields))
    return rows, len(batch.dead_letters)


@settings(max_examples=400, deadline=None)
@given(st.one_of(observation, st.lists(observation, min_size=0, max_size=4)), timestamps)
def test_fast_path_agrees_with_the_contract_decoder(doc: object, ts: float) -> None:
    if isinstance(doc, dict) and isinstance(doc.get("ts"), float):
        doc["ts"] = ts
    payload = json.dumps(doc).encode()
    assert actual(TOPIC, payload) == expected(TOPIC, payload)


@given(st.binary(max_size=64))
def test_any_bytes_are_decoded_or_dead_lettered(payload: bytes) -> None:
    assert actual(TOPIC, payload) == expected(TOPIC, payload)


def test_clean_batch_of_many_stations_keeps_every_observation() -> None:
    now = time.time()
    msgs = [
        (
            wire.topic(f"fi-dec-{i % 7:02d}", "obs"),
            wire.encode(wire.observation(now - i, seq=i, temp_c=1.5)),
        )
        for i in range(100)
    ]
    decoded = decode_messages(msgs, now, 0)
    assert len(decoded.batch) == 100 and not decoded.problems
    assert decoded.batch.registry["fi-dec-00"]["last_seen_ms"] == round(now * 1000)


def test_one_bad_message_does_not_hold_up_the_others() -> None:
    now = time.time()
    msgs = [
        (TOPIC, wire.encode(wire.observation(now, temp_c=20.0))),
        (TOPIC, b'{"ts": %d, "temp_c": 71.2, "rh_pct": 40}' % int(now - 1)),
        ("classnet/v1/NOT VALID/obs", b"{}"),
        ("classnet/v1/fi-dec-01/status", b'{"state": "sleeping"}'),
    ]
    batch = decode_messages(msgs, now, 1).batch
    assert len(batch) == 2
    assert batch.reject_counts == {
        ("fi-dec-01", "out_of_range"): 1,
        ("unknown", "bad_topic"): 1,
        ("fi-dec-01", "bad_state"): 1,
    }
    assert [d.reason for d in batch.dead_letters] == ["bad_topic", "bad_state"]


def test_a_dead_letter_keeps_the_first_kib() -> None:
    payload = b"x" * 5000
    letter = decode_messages([(TOPIC, payload)], NOW, 0).batch.dead_letters[0]
    assert letter.payload == payload[:1024] and letter.reason == "bad_json"
