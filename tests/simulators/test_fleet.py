"""The fleet's messages: deterministic, valid under the contract, each fault exactly as named."""

from __future__ import annotations

import itertools
import json

import pytest

from firmware import wire
from ingest.domain.contract import ContractError, decode_obs, decode_status, parse_topic
from simulators import faults, towns
from simulators.fleet import Fleet, Send

START = 1761955200  # 2025-11-01T00:00Z
NOW = START + 10 * 86400  # "now" for the decoder: everything sent lies in its past


def run(
    n: int = 10,
    seconds: int = 3600,
    flags: tuple[tuple[str, str], ...] = (),
    seed: int = 1,
    interval: int = 60,
    window: int = 300,
) -> list[Send]:
    fleet = Fleet(
        towns.stations(n), seed, START, interval, [faults.parse(kind, text) for kind, text in flags]
    )
    sends = fleet.begin()
    for a in range(START, START + seconds, window):
        sends += fleet.window(a, a + window)
    return sends + fleet.end(START + seconds)


def obs_sends(sends: list[Send], station: str | None = None) -> list[Send]:
    return [
        s
        for s in sends
        if s.action == "publish"
        and s.topic.endswith("/obs")
        and (station is None or s.station == station)
    ]


def observations(send: Send) -> list[dict]:
    doc = json.loads(send.payload)
    return doc if isinstance(doc, list) else [doc]


def test_same_seed_same_messages_whatever_the_window_size() -> None:
    a = run(seed=5, window=300)
    b = run(seed=5, window=60)
    assert [(s.topic, s.payload) for s in a] == [(s.topic, s.payload) for s in b]
    c = run(seed=6)
    assert [s.payload for s in obs_sends(a)] != [s.payload for s in obs_sends(c)]


def test_every_station_reads_once_per_interval_spread_over_the_minute() -> None:
    sends = run(n=50, seconds=600)
    per_station = {}
    for s in obs_sends(sends):
        per_station.setdefault(s.station, []).append(observations(s)[0])
    assert len(per_station) == 50
    for readings in per_station.values():
        assert [r["seq"] for r in readings] == list(range(10))
        assert {b["ts"] - a["ts"] for a, b in itertools.pairwise(readings)} == {60}
    assert len({r[0]["ts"] % 60 for r in per_station.values()}) > 20


def test_without_faults_every_message_decodes_with_no_problem() -> None:
    sends = run(n=50, seconds=6 * 3600, interval=600, window=3600)
    for s in sends:
        if s.topic.endswith("/obs"):
            decoded = decode_obs(s.topic, s.payload, now=NOW)
            assert decoded.problems == [], decoded.problems
            assert len(decoded.observations) == 1
        elif s.topic.endswith("/status"):
            _, _, problems = decode_status(s.topic, s.payload)
            assert problems == []
    assert sum(1 for s in sends if s.topic.endswith("/obs")) == 50 * 36


def test_offline_keeps_silent_then_flushes_the_backlog_after_a_birth() -> None:
    clean = obs_sends(run(n=3), "fi-tampere-01")
    sends = run(n=3, flags=(("offline", "fi-tampere-01@10m+20m"),))
    mine = [s for s in sends if s.station == "fi-tampere-01" and START + 600 <= s.t < START + 1800]
    assert mine == []
    back = [s for s in sends if s.station == "fi-tampere-01" and s.t == START + 1800]
    assert [s.topic.rsplit("/", 1)[1] for s in back][:3] == ["meta", "status", "obs"]
    flushed = observations(back[2])
    assert len(flushed) == 20 and back[2].faults == ({"fault": "offline", "backlog": True},)
    # What arrives, live and flushed, is exactly what a healthy station sent.
    got = [o for s in obs_sends(sends, "fi-tampere-01") for o in observations(s)]
    assert sorted(got, key=lambda o: o["ts"]) == [observations(s)[0] for s in clean]
    # Other stations are untouched.
    assert obs_sends(sends, "pt-lisbon-01") == obs_sends(run(n=3), "pt-lisbon-01")


def status_levels(sends: list[Send], station: str) -> list[tuple[int, int | None, int | None]]:
    """(t, outbox, outbox_max) of the station's online statuses, decoded as the gateway does."""
    out = []
    for s in sends:
        if s.station == station and s.topic.endswith("/status") and s.action == "publish":
            state, meta, problems = decode_status(s.topic, s.payload)
            assert problems == []
            if state == "online":
                out.append((s.t, meta.outbox, meta.outbox_max))
    return out


def test_outbox_reports_the_backlog_in_the_birth_and_zero_with_the_next_reading() -> None:
    flags = (("offline", "fi-tampere-01@10m+20m"), ("outbox", "fi-tampere-01=30"))
    sends = run(n=3, flags=flags)
    levels = status_levels(sends, "fi-tampere-01")
    # At the start; in the birth after the outage, the 20 readings kept; drained, said with the
    # next reading.
    assert [(n, c) for _, n, c in levels] == [(0, 30), (20, 30), (0, 30)]
    next_reading = min(s.t for s in obs_sends(sends, "fi-tampere-01") if s.t > START + 1800)
    assert [t for t, _, _ in levels] == [START, START + 1800, next_reading]
    # Readings are what they were without the flag; a station without it reports no level.
    plain = run(n=3, flags=flags[:1])
    assert obs_sends(sends) == obs_sends(plain)
    assert status_levels(sends, "pt-lisbon-01") == [(START, None, None)]


def test_an_outbox_keeps_at_most_its_capacity_and_drops_the_oldest() -> None:
    sends = run(n=1, flags=(("offline", "all@10m+20m"), ("outbox", "all=8")))
    flushed = [o for s in obs_sends(sends) if s.t == START + 1800 for o in observations(s)]
    assert [o["seq"] for o in flushed] == list(range(22, 30))  # the newest 8 of 20
    assert status_levels(sends, "fi-tampere-01")[1] == (START + 1800, 8, 8)


@pytest.mark.parametrize(
    ("text", "why"),
    [("all=0", "CAPACITY must be a whole number of readings"),
     ("all=1.5", "CAPACITY must be a whole number of readings"),
     ("all@1h", "takes no @START")],
)  # fmt: skip
def test_outbox_flag_mistakes(text: str, why: str) -> None:
    with pytest.raises(faults.FaultError, match=why):
        faults.parse("outbox", text)


def test_a_long_outage_flushes_in_arrays_within_the_contract_limits() -> None:
    sends = run(n=1, seconds=12 * 3600, window=3600, flags=(("offline", "all@0+10h"),))
    flush = [s for s in obs_sends(sends) if s.t == START + 36000 and s.payload.startswith(b"[")]
    assert sum(len(observations(s)) for s in flush) == 600
    assert len(flush) >= 2
    for s in flush:
        # 500 readings with every field would be ~120 kB: the 64 KiB limit splits them first.
        assert len(s.payload) <= wire.MAX_MESSAGE_BYTES and len(observations(s)) <= wire.MAX_BATCH
        assert decode_obs(s.topic, s.payload, now=NOW).problems == []


def test_stuck_repeats_the_window_start_value_and_nothing_else() -> None:
    clean = obs_sends(run(n=2), "pt-lisbon-01")
    sends = obs_sends(
        run(n=2, flags=(("stuck", "pt-lisbon-01=pressure_hpa@20m+15m"),)), "pt-lisbon-01"
    )
    stuck_value = observations(clean[20])[0]["pressure_hpa"]
    for i, (c, s) in enumerate(zip(clean, sends, strict=True)):
        a, b = observations(c)[0], observations(s)[0]
        if 20 <= i < 35:
            assert b["pressure_hpa"] == stuck_value
            assert {k: v for k, v in a.items() if k != "pressure_hpa"} == {
                k: v for k, v in b.items() if k != "pressure_hpa"
            }
        else:
            assert a == b
    assert len({observations(c)[0]["pressure_hpa"] for c in clean[20:35]}) > 1


def test_spikes_change_one_field_far_at_the_recorded_readings_only() -> None:
    clean = obs_sends(run(n=5, seconds=7200))
    spiked = obs_sends(run(n=5, seconds=7200, flags=(("spikes", "all=0.1"),)))
    hits = 0
    for c, s in zip(clean, spiked, strict=True):
        a, b = observations(c)[0], observations(s)[0]
        changed = {k for k in a if a[k] != b[k]}
        if s.faults:
            hits += 1
            (mark,) = s.faults
            assert changed == {mark["field"]} and mark["true"] == a[mark["field"]]
            assert abs(b[mark["field"]] - a[mark["field"]]) >= 20
        else:
            assert changed == set()
    assert 0.05 * len(clean) < hits < 0.15 * len(clean)


def test_clock_skew_shifts_ts_by_the_value() -> None:
    clean = obs_sends(run(n=2), "fi-tampere-01")
    skewed = obs_sends(run(n=2, flags=(("clock_skew", "fi-tampere-01=-3600"),)), "fi-tampere-01")
    for c, s in zip(clean, skewed, strict=True):
        a, b = observations(c)[0], observations(s)[0]
        assert b["ts"] == a["ts"] - 3600 and {**b, "ts": a["ts"]} == a


def test_duplicates_repeat_the_message_byte_for_byte() -> None:
    sends = obs_sends(run(n=2, flags=(("duplicates", "fi-tampere-01=0.3"),)))
    dups = [i for i, s in enumerate(sends) if {"fault": "duplicate"} in s.faults]
    assert 5 < len(dups) < 35
    for i in dups:
        assert (sends[i].topic, sends[i].payload) == (sends[i - 1].topic, sends[i - 1].payload)
    assert len(sends) == 120 + len(dups)


def test_malformed_messages_are_rejected_whole_and_the_rest_decode() -> None:
    sends = obs_sends(run(n=2, flags=(("malformed", "fi-tampere-01=0.5"),)))
    bad = [s for s in sends if s.faults]
    assert {f["variant"] for s in bad for f in s.faults} == {
        "truncated",
        "not_utf8",
        "not_object",
        "empty",
    }
    for s in sends:
        if s.faults:
            with pytest.raises(ContractError):
                decode_obs(s.topic, s.payload, now=NOW)
        else:
            assert decode_obs(s.topic, s.payload, now=NOW).problems == []


def test_wrong_topic_messages_fail_the_topic_check_with_a_good_body() -> None:
    sends = [s for s in run(n=2, flags=(("wrong_topic", "pt-lisbon-01=0.5"),)) if s.faults]
    assert {f["variant"] for s in sends for f in s.faults} == {
        "unknown_kind",
        "upper_case_id",
        "extra_level",
    }
    for s in sends:
        assert s.topic.startswith(wire.TOPIC_PREFIX)
        with pytest.raises(ContractError):
            parse_topic(s.topic)
        assert decode_obs(wire.topic("pt-lisbon-01", "obs"), s.payload, now=NOW).problems == []


def test_dropped_will_cuts_the_connection_and_comes_back() -> None:
    fleet = Fleet(
        towns.stations(3), 1, START, 60, [faults.parse("dropped_will", "pt-satao-01@5m+5m")]
    )
    assert list(fleet.ids[k] for k in range(3) if fleet.own_connection[k]) == ["pt-satao-01"]
    sends = fleet.begin() + fleet.window(START, START + 900)
    mine = [s for s in sends if s.station == "pt-satao-01" and s.action != "publish"]
    assert [(s.action, s.t - START) for s in mine] == [("drop", 300), ("connect", 600)]
    silent = [
        s
        for s in sends
        if s.station == "pt-satao-01" and s.action == "publish" and START + 300 <= s.t < START + 600
    ]
    assert silent == []


def test_a_share_of_the_fleet_is_chosen_by_seed() -> None:
    ids = tuple(s.station for s in towns.stations(1000))
    mask = faults.select(faults.parse("spikes", "10%"), ids, 1)
    assert 50 < mask.sum() < 150
    assert (mask == faults.select(faults.parse("spikes", "10%"), ids, 1)).all()


@pytest.mark.parametrize(
    "kind, text",
    [
        ("offline", "fi-x-01"),
        ("spikes", "all=2"),
        ("clock_skew", "all=soon"),
        ("stuck", "all=colour"),
        ("offline", "all@later"),
    ],
)
def test_bad_fault_flags_say_how_to_write_them(kind, text) -> None:
    with pytest.raises(faults.FaultError):
        faults.select(faults.parse(kind, text), ("fi-tampere-01",), 1)


def test_classroom_monitors_send_indoor_fields_only() -> None:
    schools = towns.stations(4)
    fleet = Fleet(schools + towns.classrooms(schools, 2), 1, START, 60)
    sends = fleet.begin()
    for a in range(START, START + 3600, 600):
        sends += fleet.window(a, a + 600)
    rooms = [s for s in sends if s.station.endswith("-room1")]
    meta = [json.loads(s.payload) for s in rooms if s.topic.endswith("/meta")]
    assert len(meta) == 2 and all(m["exposure"] == "indoor" for m in meta)
    observations = [s for s in rooms if s.topic.endswith("/obs")]
    assert len(observations) == 2 * 60
    for send in observations:
        decoded = decode_obs(send.topic, send.payload, NOW)  # valid under the contract
        assert not decoded.problems
        body = json.loads(send.payload)
        assert set(body) == {"ts", "seq", "temp_c", "rh_pct", "co2_ppm", "pm2_5_ugm3", "pm10_ugm3"}
    outdoor = [json.loads(s.payload) for s in sends if s.station == schools[0].station
               and s.topic.endswith("/obs")]  # fmt: skip
    assert "co2_ppm" not in outdoor[0] and "wind_speed_ms" in outdoor[0]
