"""Hostile and broken MQTT messages for the fuzz run, with valid observations mixed in.

Every message goes to a topic the gateway subscribes to (`classnet/v1/+/obs|status|meta`), so
every one of them must be received and accounted for. Topics are valid MQTT (UTF-8, no wildcards,
no control characters): a broker disconnects a client that publishes anything else, so such
topics never reach a gateway and cannot be counted by it.

Valid observations go to `kr-valid-NN` stations with unique times; hostile ones to other
stations, so "every valid observation landed" can be checked exactly.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from firmware import wire
from ingest.domain.contract import (
    ContractError,
    decode_meta,
    decode_obs,
    decode_status,
    parse_topic,
)

VALID_STATIONS = 50
HOSTILE_STATIONS = 60
# The share of each kind of message; the rest of 1.0 is random JSON documents.
MIX = {
    "valid": 0.10,
    "valid_array": 0.01,
    "random_bytes": 0.15,
    "deep_nesting": 0.02,
    "huge_array": 0.01,
    "nan_infinity": 0.10,
    "wrong_types": 0.15,
    "out_of_range": 0.08,
    "oversized": 0.001,
    "unicode_ids": 0.08,
    "status_meta": 0.06,
}
_UNICODE = ["ä", "ö", "ñ", "ß", "東京", "서울", "Ω", "🌧", "\u200b", "ＦＩ", "ı", "ﬁ", "\ufeff", "é"]


@dataclass
class Fuzz:
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # generator category -> messages
    valid: set[tuple[str, int]] = field(default_factory=set)  # (station, ts_ms) that must land
    received: Counter[str] = field(default_factory=Counter)  # topic kind -> messages


def _valid_obs(rng: random.Random, ts: float) -> dict[str, Any]:
    doc: dict[str, Any] = {"ts": ts, "seq": rng.randrange(0, 2**31)}
    for name in rng.sample(wire.FIELD_NAMES, rng.randint(1, 6)):
        low, high, _ = wire.FIELDS[name]
        doc[name] = round(rng.uniform(low, high), 2)
    doc.setdefault("temp_c", round(rng.uniform(-20, 35), 1))
    return doc


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random()
    if depth > 4 or pick < 0.35:
        return rng.choice(
            [
                None,
                True,
                False,
                rng.randint(-(10**20), 10**20),
                rng.uniform(-1e300, 1e300),
                math.nan,
                math.inf,
                -math.inf,
                "".join(rng.choice(_UNICODE + list('ab"\\/ 1')) for _ in range(rng.randint(0, 8))),
                10**400,
            ]
        )
    if pick < 0.65:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    keys = ["ts", "seq", "station", *rng.sample(wire.FIELD_NAMES, 3), "x", "Ω", ""]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def _dumps(doc: Any) -> bytes:
    # allow_nan writes NaN / Infinity tokens, which are not JSON but which encoders emit
    return json.dumps(doc, allow_nan=True, ensure_ascii=False).encode()


def _bad_value(rng: random.Random) -> Any:
    return rng.choice(
        ["21.4", "hot", "", [], [21.4], {"v": 1}, True, False, 10**400, "NaN", "∞", -(10**30)]
    )


def generate(total: int, seed: int, now: float) -> Fuzz:
    rng = random.Random(seed)
    fuzz = Fuzz()
    ts_next = [now - 86400 * 3 + s * 0.001 for s in range(VALID_STATIONS)]

    def hostile_topic(kind: str = "obs") -> str:
        return wire.topic(f"de-hostile-{rng.randrange(HOSTILE_STATIONS):02d}", kind)

    def valid_ts(station: int) -> float:
        ts_next[station] += 1.0
        return ts_next[station]

    def add(kind: str, topic: str, body: bytes) -> None:
        fuzz.messages.append((topic, body))
        fuzz.kinds[kind] += 1

    counts = {k: round(total * share) for k, share in MIX.items()}
    counts["random_json"] = total - sum(counts.values())
    plan = [k for k, n in counts.items() for _ in range(n)]
    rng.shuffle(plan)
    for kind in plan:
        if kind == "valid":
            s = rng.randrange(VALID_STATIONS)
            ts = valid_ts(s)
            station = f"kr-valid-{s:02d}"
            add(kind, wire.topic(station, "obs"), _dumps(_valid_obs(rng, ts)))
            fuzz.valid.add((station, round(ts * 1000)))
        elif kind == "valid_array":
            s = rng.randrange(VALID_STATIONS)
            station = f"kr-valid-{s:02d}"
            docs = [_valid_obs(rng, valid_ts(s)) for _ in range(rng.randint(2, 40))]
            add(kind, wire.topic(station, "obs"), _dumps(docs))
            fuzz.valid.update((station, round(d["ts"] * 1000)) for d in docs)
        elif kind == "random_bytes":
            size = rng.choice([0, 1, 2, rng.randint(3, 64), rng.randint(64, 2048)])
            body = rng.randbytes(size)
            if rng.random() < 0.3:  # bytes that start like JSON get further into the parser
                body = rng.choice([b"{", b"[", b'{"ts":', b'[{"ts": 1.7e9, "temp_c": ']) + body
            add(kind, hostile_topic(rng.choice(["obs", "obs", "obs", "status", "meta"])), body)
        elif kind == "deep_nesting":
            depth = rng.choice([100, 1000, 5000, 12000])
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('{"ts":[', "]}")])
            close = closer * depth if rng.random() < 0.7 else ""
            add(kind, hostile_topic(), (opener * depth + "1" + close).encode())
        elif kind == "huge_array":
            n = rng.choice([501, 1000, 5000, 500])
            element = rng.choice(["{}", "1", "null", '"x"', '{"ts": 1}'])
            add(kind, hostile_topic(), ("[" + ",".join([element] * n) + "]").encode())
        elif kind == "nan_infinity":
            doc: Any = _valid_obs(rng, now - rng.uniform(60, 86400))
            for name in rng.sample(wire.FIELD_NAMES, rng.randint(1, 3)):
                doc[name] = rng.choice([math.nan, math.inf, -math.inf])
            if rng.random() < 0.2:
                doc["ts"] = rng.choice([math.nan, math.inf])
            add(kind, hostile_topic(), _dumps(doc))
        elif kind == "wrong_types":
            doc = _valid_obs(rng, now - rng.uniform(60, 86400))
            target = rng.choice(["ts", "seq", "field", "field", "whole"])
            if target == "ts":
                doc["ts"] = rng.choice(["2024-01-01T00:00:00Z", True, [1.7e9], None, 10**400])
            elif target == "seq":
                doc["seq"] = rng.choice([-1, 1.5, "7", 2**40, True])
            elif target == "field":
                doc[rng.choice(wire.FIELD_NAMES)] = _bad_value(rng)
            else:
                doc = rng.choice([["a", 1, None], "just a string", 42, True, None])
            add(kind, hostile_topic(), _dumps(doc))
        elif kind == "out_of_range":
            doc = _valid_obs(rng, now - rng.uniform(60, 86400))
            name = rng.choice(wire.FIELD_NAMES)
            low, high, _ = wire.FIELDS[name]
            doc[name] = rng.choice([low - 1 - rng.random() * 1000, high + 1 + rng.random() * 1e6])
            if rng.random() < 0.2:
                doc["ts"] = rng.choice([1e9, now + 7200, 0, -5])
            add(kind, hostile_topic(), _dumps(doc))
        elif kind == "oversized":
            pad = "x" * rng.randint(wire.MAX_MESSAGE_BYTES, 3 * wire.MAX_MESSAGE_BYTES)
            add(kind, hostile_topic(), _dumps({"ts": now - 60, "temp_c": 1.0, "pad": pad}))
        elif kind == "unicode_ids":
            u = "".join(rng.choice(_UNICODE) for _ in range(rng.randint(1, 3)))
            variant = rng.randrange(5)
            if variant == 0:  # unicode in the topic's station id
                topic = f"{wire.TOPIC_PREFIX}fi-t{u}mpere/{rng.choice(wire.KINDS)}"
                body = _dumps(_valid_obs(rng, now - 60))
            elif variant == 1:  # upper case, too long, or empty station ids
                station = rng.choice(["FI-TAMPERE-01", "f" * 300, "", "fi-", "fi_x-1", "-x-y"])
                topic = f"{wire.TOPIC_PREFIX}{station}/obs"
                body = _dumps(_valid_obs(rng, now - 60))
            elif variant == 2:  # the body names another station, in unicode
                topic = hostile_topic()
                body = _dumps({**_valid_obs(rng, now - 60), "station": f"de-{u}"})
            elif variant == 3:  # unicode field names
                topic = hostile_topic()
                body = _dumps({**_valid_obs(rng, now - 60), f"temp{u}": 20.0})
            else:  # unicode in metadata
                topic = hostile_topic("meta")
                body = _dumps({"name": u * rng.choice([1, 100]), "timezone": f"Europe/{u}"})
            add(kind, topic, body)
        elif kind == "status_meta":
            if rng.random() < 0.5:
                state = rng.choice(["online", "offline", "rebooting", None, 1, "ONLINE"])
                doc = {"state": state, "firmware": rng.choice(["1.0", 1.0, "x" * 80])}
                add(kind, hostile_topic("status"), _dumps(rng.choice([doc, [doc], "online"])))
            else:
                doc = {
                    "name": rng.choice(["School", "", 7, "x" * 300]),
                    "lat": rng.choice([61.4, 91, "north", math.nan]),
                    "lon": rng.choice([23.8, -181, None]),
                    "timezone": rng.choice(["Europe/Berlin", "Mars/Olympus", "", 3]),
                    "country": rng.choice(["DE", "FI", "de"]),
                    "sensors": rng.choice([["bme280"], "bme280", [1, 2]]),
                    "exposure": rng.choice(["outdoor", "indoor", "cave"]),
                }
                add(kind, hostile_topic("meta"), _dumps(doc))
        else:
            add("random_json", hostile_topic(), _dumps(_random_json(rng)))
    for topic, _ in fuzz.messages:
        fuzz.received[topic.rsplit("/", 1)[-1]] += 1
    return fuzz


def expected_rejects(messages: list[tuple[str, bytes]], now: float) -> tuple[Counter[str], int]:
    """What the contract (ingest/domain/contract.py, the one definition of valid) says about each
    message, counted by reason: a whole message rejected counts once, each dropped field or array
    element once. Decoded here one message at a time, independently of the gateway's batch path.
    Also: how many distinct (topic, body) pairs are rejected whole (each is a dead letter)."""
    counts: Counter[str] = Counter()
    whole: set[tuple[str, bytes]] = set()
    for topic_text, payload in messages:
        try:
            topic = parse_topic(topic_text)
            if topic.kind == "obs":
                problems = decode_obs(topic, payload, now).problems
            elif topic.kind == "meta":
                problems = decode_meta(topic, payload)[1]
            else:
                problems = decode_status(topic, payload)[2]
        except ContractError as exc:
            counts[str(exc.reason)] += 1
            whole.add((topic_text, payload))
            continue
        counts.update(str(p.reason) for p in problems)
    return counts, len(whole)
