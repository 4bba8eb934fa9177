"""The station's clock end to end (issue 4): readings taken before the first NTP answer are held
and stamped once the time is known; if it never is, they go without `ts` after the hold limit
and the gateway stamps them on arrival; once known, the clock is set again every resync_s."""

from __future__ import annotations

import itertools
import time

import pytest

from firmware import clock, config
from ingest.domain.contract import decode_obs
from tests.firmware import mpy
from tests.firmware.conftest import NTP_SKEW_S, outbox_lines, write_board
from tests.waiting import wait_until


def received(sub, station: str) -> list[dict]:
    """Every observation in arrival order, decoded as the gateway would have at that moment."""
    out = []
    topic = f"classnet/v1/{station}/obs"
    for (t, body, _), at in zip(sub.messages, sub.arrived, strict=False):
        if t != topic:
            continue
        decoded = decode_obs(topic, body, now=at)
        assert decoded.problems == []
        for o in decoded.observations:
            out.append({"ts": o.ts, "seq": o.seq, "stamped": o.stamped, "arrived": at})
    return out


@pytest.mark.slow
def test_readings_before_the_first_ntp_answer_are_stamped_in_ntp_time_once_it_comes(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-ntp-late"
    sntp.answering = False
    # retry_s: the default minute between NTP attempts would make this a minute-long test
    write_board(
        tmp_path / "fs",
        station,
        mosquitto.port,
        sntp.port,
        ntp={"host": "127.0.0.1", "port": sntp.port, "retry_s": 2},
    )
    sub = subscribe(mosquitto.port, station)
    started = time.time()
    proc = start_station(tmp_path / "fs")
    sub.wait(lambda: sntp.queries >= 2)  # the first attempt went unanswered, the second too
    assert received(sub, station) == [], "nothing leaves before the clock is known"
    sntp.answering = True
    answered = time.time()
    sub.wait(lambda: sum(o["ts"] - NTP_SKEW_S > answered for o in received(sub, station)) >= 3)

    obs = received(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs))), "each reading once, in order"
    assert not any(o["stamped"] for o in obs), "every reading carries the station's own ts"
    # in the NTP server's frame (a day behind this machine), each when it was taken
    host_ts = [o["ts"] - NTP_SKEW_S for o in obs]
    assert started - 1 <= host_ts[0] and host_ts[-1] <= time.time() + 1, (started, host_ts)
    held = [t for t in host_ts if t < answered]
    assert len(held) >= 2, f"only {len(held)} readings before the first answer: {host_ts}"
    gaps = [b - a for a, b in itertools.pairwise(host_ts)]
    assert all(0.5 <= g <= 2.5 for g in gaps), gaps  # 1 s interval, whole-second stamps
    assert "ntp: no time from 127.0.0.1" in proc.output()


@pytest.mark.slow
def test_the_clock_is_set_again_from_ntp_every_resync_interval(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-ntp-resync"
    resync_s = 3
    write_board(
        tmp_path / "fs",
        station,
        mosquitto.port,
        sntp.port,
        ntp={"host": "127.0.0.1", "port": sntp.port, "resync_s": resync_s},
    )
    sub = subscribe(mosquitto.port, station)
    start_station(tmp_path / "fs")
    sub.wait(lambda: len(received(sub, station)) >= 2)
    # The board's counter and NTP now disagree by an hour, as after a long drift: only a new
    # query can tell the station.
    jump_s = 3600
    queries_before = sntp.queries
    sntp.skew_s += jump_s
    moved = time.time()
    new_frame = moved + jump_s + NTP_SKEW_S
    sub.wait(lambda: sum(o["ts"] > new_frame for o in received(sub, station)) >= 2)

    obs = received(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs))), "each reading once, in order"
    host_ts = [o["ts"] - NTP_SKEW_S for o in obs]
    before = [t for t in host_ts if t < moved + jump_s / 2]
    after = [t - jump_s for t in host_ts if t >= moved + jump_s / 2]
    assert before and after, host_ts
    # Taken back into one frame, the readings run on at the 1 s interval: each side was stamped
    # in its own NTP time, and the new one reached the station within resync_s of the move.
    gaps = [b - a for a, b in itertools.pairwise(before + after)]
    assert all(0.5 <= g <= 2.5 for g in gaps), gaps
    assert before[-1] <= moved + resync_s + 1.5, (moved, before)
    assert after[-1] <= time.time() + 1
    assert sntp.queries > queries_before, "the station asked again after resync_s"


@pytest.mark.slow
def test_a_clock_set_back_a_little_never_gives_two_readings_one_stamp(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    """The store keeps one point per station and second: a reading stamped with the previous one's
    second would replace it. A time answer that arrives late (the bridge's on a busy computer, a
    slow NTP reply) sets the clock back a fraction of a second; at a 1 s interval that made two
    readings share a stamp (seen as a duplicate in the USB cable test)."""
    station = "fi-emu-ntp-back"
    write_board(
        tmp_path / "fs",
        station,
        mosquitto.port,
        sntp.port,
        ntp={"host": "127.0.0.1", "port": sntp.port, "resync_s": 1},
    )
    sub = subscribe(mosquitto.port, station)
    start_station(tmp_path / "fs")
    sub.wait(lambda: len(received(sub, station)) >= 2)
    # Answers late by 0.9 s, then on time again, four times: the jitter of a busy computer.
    for step_s in [-0.9, 0.9] * 4:
        queries = sntp.queries
        sntp.skew_s += step_s
        sub.wait(lambda q=queries: sntp.queries > q)
        seen = len(received(sub, station))
        sub.wait(lambda n=seen: len(received(sub, station)) >= n + 2)

    obs = received(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs))), "each reading once, in order"
    stamps = [o["ts"] for o in obs]
    assert len(set(stamps)) == len(stamps), f"two readings share a stamp: {stamps}"
    assert stamps == sorted(stamps), stamps
    # Kept apart by whole seconds, and never moved past the moment it arrived (in the first
    # frame; the rounding to a whole second allows half of one).
    ahead = [o["ts"] - NTP_SKEW_S - o["arrived"] for o in obs]
    assert max(ahead) <= 0.5, ahead


@pytest.mark.slow
def test_a_station_restarted_within_the_second_never_repeats_its_last_stamp(
    tmp_path, mosquitto, sntp, start_station
) -> None:
    """The last stamp is in RAM; after a power cut the newest line in flash stands for it. A
    board back within a second gave its first reading the last one's second, and the store
    kept one of the two (seen once in CI as a reading lost across a restart)."""
    fs = tmp_path / "fs"
    mosquitto.stop()  # everything stays in the outbox, where the stamps can be read
    write_board(fs, "fi-emu-restart", mosquitto.port, sntp.port)
    proc = start_station(fs)
    for _ in range(4):
        seen = len(outbox_lines(fs))
        wait_until(lambda n=seen: len(outbox_lines(fs)) > n, 20, "a new reading", 0.01)
        proc.kill()  # at once: the power cut comes within the second of that reading
        proc = start_station(fs)
    wait_until(lambda: len(outbox_lines(fs)) >= seen + 3, 20, "readings after the restarts")
    stamps = [o["ts"] for o in outbox_lines(fs) if "ts" in o]
    assert len(stamps) == len(set(stamps)), f"two readings share a stamp: {stamps}"


@pytest.mark.slow
def test_without_ntp_readings_go_unstamped_after_the_hold_limit_and_then_without_delay(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-ntp-never"
    sntp.answering = False
    hold_s = 6
    write_board(tmp_path / "fs", station, mosquitto.port, sntp.port, hold={"max_s": hold_s})
    sub = subscribe(mosquitto.port, station)
    started = time.time()
    start_station(tmp_path / "fs")
    sub.wait(lambda: len(received(sub, station)) >= 1)
    first = time.time()
    sub.wait(lambda: len(received(sub, station)) >= hold_s + 6)

    obs = received(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs))), "each reading once, in order"
    assert all(o["stamped"] for o in obs), "no clock, no ts: the gateway stamps them"
    assert sntp.queries >= 1
    # nothing left before the hold limit ...
    assert first - started >= hold_s, (started, first)
    # ... then what was held went at once, and later readings go as they are taken, so the
    # gateway's arrival stamps are late by at most the hold limit, and only for those
    timeline = [(o["seq"], round(o["arrived"] - started, 2)) for o in obs]
    in_hold = [o["arrived"] for o in obs if o["seq"] < hold_s]
    assert in_hold[-1] - in_hold[0] < 2, timeline
    last = obs[-1]
    # held: seq 0 arrives ~hold_s late; not held: seq n arrives n s after seq 0 (not n - hold_s)
    assert last["arrived"] - obs[0]["arrived"] < last["seq"] - hold_s / 2, timeline


def test_a_stamp_after_the_last_one_is_kept_apart_only_from_a_small_step_back() -> None:
    assert clock.after(100, None, 300) == 100  # the first reading
    assert clock.after(400, 100, 300) == 400
    assert clock.after(100, 100, 300) == 101  # set back under a second: the same second
    assert clock.after(-200, 100, 300) == 101  # set back by up to an interval
    assert clock.after(-201, 100, 300) == -201  # further: the earlier clock was wrong
    assert clock.after(40, 100, 1) == 101  # a minute, whatever the interval
    assert clock.after(39, 100, 1) == 39


BAD_CLOCK_CONFIG = {
    "station": "fi-emu-config",
    "transport": "serial",
    "ntp": {"retry_s": 0},
    "hold": {"max_s": "1h"},
}


def test_config_fills_the_clock_defaults_and_names_bad_values() -> None:
    cfg = config.validate({"station": "fi-emu-config", "transport": "serial"})
    assert (cfg["ntp"]["retry_s"], cfg["hold"]) == (60, {"max": 24, "max_s": 3600})
    with pytest.raises(config.ConfigError) as caught:
        config.validate(BAD_CLOCK_CONFIG)
    assert "ntp.retry_s=0 must be a positive whole number" in str(caught.value)
    assert "hold.max_s='1h' must be a positive whole number" in str(caught.value)


def test_config_names_bad_clock_values_under_micropython(micropython: str, tmp_path) -> None:
    code = (
        "from firmware import config\n"
        f"try:\n    config.validate({BAD_CLOCK_CONFIG!r})\n"
        "except config.ConfigError as exc:\n    print(exc)\n"
    )
    out = mpy.run(micropython, code, tmp_path)
    assert "ntp.retry_s=0 must be a positive whole number" in out
    assert "hold.max_s='1h' must be a positive whole number" in out
