"""The whole way for a station without Wi-Fi: the firmware under the real MicroPython unix port
with the serial transport, a pty as its USB cable (tests/bridge/harness.py says what that
emulates and what not), the bridge, a real Mosquitto, the real gateway and a SQLite store.

Each test checks the two promises: at the broker every observation arrives once and in order,
with the timestamp it was taken at; in the store nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import time

import pytest

from ingest.domain.contract import decode_obs, decode_status
from tests import servers
from tests.bridge.harness import Cable, direct, prefill, serial_board
from tests.waiting import hold, wait_until

# The bridge's clock runs one day behind this machine's: stamps from it prove the station takes
# its time from the bridge (it has no NTP), not from the computer it happens to run on.
SKEW_S = -86400


def skewed() -> float:
    return time.time() + SKEW_S


def arrived(sub, station: str) -> list[dict]:
    """Observations at the broker, in arrival order, as the gateway decodes them."""
    out = []
    for body in sub.payloads():
        decoded = decode_obs(f"classnet/v1/{station}/obs", body, now=time.time())
        assert decoded.problems == []
        out += [{"ts": o.ts, "seq": o.seq, **o.values} for o in decoded.observations]
    return out


def statuses(sub) -> list[bytes]:
    return [p for t, p, _ in sub.messages if t.endswith("/status")]


def assert_once_in_order(obs: list[dict], stored: list[float]) -> None:
    stamps = [o["ts"] for o in obs]
    seen: dict[float, list[int]] = {}
    for o in obs:
        seen.setdefault(o["ts"], []).append(o["seq"])
    twice = {ts: seqs for ts, seqs in seen.items() if len(seqs) > 1}
    # The same seq twice is a repeat; different seqs are two readings given one stamp.
    assert not twice, f"stamps reaching the broker more than once, with their seqs: {twice}"
    assert stamps == sorted(stamps), "observations out of order"
    assert stored == stamps, "the store differs from what the broker carried"


@pytest.mark.slow
def test_station_on_usb_reaches_the_store_once_in_order_with_the_bridges_time(
    tmp_path, mosquitto, chain, subscribe, run_bridge, start_serial_station
) -> None:
    station = "fi-serial-basic"
    fs = tmp_path / "fs"
    serial_board(fs, station)
    port = tmp_path / "ttyUSB-station"
    sub = subscribe(mosquitto.port, station)
    bridge = run_bridge(port, station, now=skewed)
    board = start_serial_station(fs, direct(port))
    sub.wait(lambda: len(arrived(sub, station)) >= 6)

    obs = arrived(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs)))
    assert all(abs(o["ts"] - skewed()) < 30 for o in obs)
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(obs)]
    assert all(0.5 <= g <= 2.5 for g in gaps), gaps
    assert {o["temp_c"] for o in obs} == {25.08}  # the emulated BME280's datasheet values
    assert "rssi_dbm" not in obs[0]  # no Wi-Fi, no signal strength
    state, meta, problems = decode_status(f"classnet/v1/{station}/status", statuses(sub)[0])
    assert (state, meta.firmware, problems) == ("online", "1.0.0", [])
    assert any(t.endswith("/meta") for t, _, _ in sub.messages)
    assert bridge.counts["corrupt"] == bridge.counts["rejected"] == 0

    board.kill()  # the board disappears: the bridge publishes its will
    sub.wait(lambda: statuses(sub)[-1] == b'{"state":"offline"}')
    obs = arrived(sub, station)
    chain_wait(chain, station, len(obs))
    assert_once_in_order(obs, chain.stamps(station))


def chain_wait(chain, station: str, n: int, timeout: float = 30) -> None:
    # On time-out the caller's assertion names what did arrive.
    with contextlib.suppress(AssertionError):
        wait_until(lambda: len(chain.stamps(station)) >= n, timeout, f"{n} readings stored", 0.2)


@pytest.mark.slow
def test_garbage_debug_prints_and_damaged_frames_lose_and_duplicate_nothing(
    tmp_path, mosquitto, chain, subscribe, run_bridge, start_serial_station
) -> None:
    station = "fi-serial-noise"
    fs = tmp_path / "fs"
    serial_board(fs, station)
    backlog = prefill(fs, 120, int(skewed()) - 7200, 60, 2304)
    port = tmp_path / "ttyUSB-station"
    cable = Cable(port, noise=True, corrupt=frozenset({3, 40}))
    try:
        sub = subscribe(mosquitto.port, station)
        bridge = run_bridge(port, station, now=skewed)
        start_serial_station(fs, cable.board_fd)
        # the backlog, then at least 3 live readings after it
        sub.wait(lambda: len(arrived(sub, station)) >= len(backlog) + 3, timeout=60)
        obs = arrived(sub, station)
        assert [o["ts"] for o in obs[: len(backlog)]] == backlog
        assert cable.damaged == 2
        assert bridge.counts["corrupt"] == 2  # caught by the CRC, never acknowledged
        assert bridge.counts["rejected"] == 0
        chain_wait(chain, station, len(obs))
        assert_once_in_order(obs, chain.stamps(station)[: len(obs)])
    finally:
        cable.close()


@pytest.mark.slow
def test_cable_pulled_mid_backlog_loses_and_duplicates_nothing(
    tmp_path, mosquitto, chain, subscribe, run_bridge, start_serial_station
) -> None:
    """The board keeps running (its own power) while the cable is out: its frames go nowhere,
    their acknowledgements never come, so the readings stay in its flash until it is back."""
    station = "fi-serial-unplug"
    fs = tmp_path / "fs"
    capacity = 4000
    serial_board(fs, station, capacity=capacity)
    backlog = prefill(fs, 3000, int(skewed()) - 3000 * 60, 60, capacity)
    port = tmp_path / "ttyUSB-station"
    cable = Cable(port)
    try:
        sub = subscribe(mosquitto.port, station)
        bridge = run_bridge(port, station, now=skewed)
        start_serial_station(fs, cable.board_fd)
        sub.wait(lambda: len(arrived(sub, station)) >= 500, timeout=60)
        cable.pull()
        sub.wait(lambda: statuses(sub)[-1] == b'{"state":"offline"}')
        during = len(arrived(sub, station))
        assert during < len(backlog), "the backlog finished before the cable was pulled"
        hold(3, "the cable stays out")
        cable.plug()
        sub.wait(lambda: len(arrived(sub, station)) >= len(backlog) + 3, timeout=90)
        assert json.loads(statuses(sub)[-1])["state"] == "online"
        # The outbox level goes through the bridge too: it fell by quarters, and the drained
        # outbox is said once the backlog has all gone.
        sub.wait(lambda: json.loads(statuses(sub)[-1]).get("outbox") == 0)
        levels = [json.loads(p) for p in statuses(sub)]
        levels = [(d["outbox"], d["outbox_max"]) for d in levels if d["state"] == "online"]
        assert levels[0][0] >= len(backlog) and {c for _, c in levels} == {capacity}, levels
        assert len(levels) <= 10, levels  # two births, the quarters down, empty: not per batch
        obs = arrived(sub, station)
        assert [o["ts"] for o in obs[: len(backlog)]] == backlog
        assert bridge.counts["corrupt"] == 0
        chain_wait(chain, station, len(obs))
        assert_once_in_order(obs, chain.stamps(station)[: len(obs)])
    finally:
        cable.close()


@pytest.mark.slow
def test_broker_stopped_for_a_while_loses_nothing_and_stores_nothing_twice(
    tmp_path, mosquitto, chain, subscribe, run_bridge, start_serial_station
) -> None:
    station = "fi-serial-outage"
    fs = tmp_path / "fs"
    serial_board(fs, station)
    port = tmp_path / "ttyUSB-station"
    sub = subscribe(mosquitto.port, station)
    bridge = run_bridge(port, station, now=skewed)
    start_serial_station(fs, direct(port))
    sub.wait(lambda: len(arrived(sub, station)) >= 2)
    mosquitto.stop()
    outage_start = skewed()
    hold(6, "the broker stays down")
    restarted = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
    try:
        sub.wait(lambda: max((o["seq"] for o in arrived(sub, station)), default=0) >= 12, 60)
        assert bridge.counts["unacked"] > 0  # frames it read while the broker was away
        obs = arrived(sub, station)
        first: dict[float, dict] = {}
        for o in obs:
            first.setdefault(o["ts"], o)
        seqs = [o["seq"] for o in first.values()]
        assert seqs == list(range(len(seqs))), "each reading arrives, in order"
        assert any(ts > outage_start + 2 for ts in first)  # taken during the outage, stamped then
        # Stamped when taken, not when sent. A reading can come up to one ack timeout (5 s)
        # late: the station's loop waits that long for acknowledgements that do not come.
        gaps = [b - a for a, b in itertools.pairwise(first)]
        assert all(0.5 <= g <= 6.5 for g in gaps), gaps
        chain_wait(chain, station, len(first))
        stored = chain.stamps(station)
        assert stored[: len(first)] == list(first), "nothing lost, nothing twice in the store"
    finally:
        restarted.stop()


@pytest.mark.slow
def test_a_board_of_another_station_is_refused_and_says_why(
    tmp_path, mosquitto, subscribe, run_bridge, start_serial_station, caplog
) -> None:
    # The bridge holds fi-serial-mine's login; the board plugged in is fi-serial-other.
    fs = tmp_path / "fs"
    serial_board(fs, "fi-serial-other")
    port = tmp_path / "ttyUSB-other"
    sub = subscribe(mosquitto.port, "+")
    caplog.set_level(logging.DEBUG, "classnet.bridge")
    bridge = run_bridge(port, "fi-serial-mine", now=skewed)
    start_serial_station(fs, direct(port))
    # The station logs the bridge's reason (its log is its USB serial, which the bridge reads).
    refusal = "classnet bridge refused: this bridge publishes only for fi-serial-mine"
    wait_until(lambda: refusal in caplog.text, 60, "the station to log the refusal", 0.2)
    assert bridge.counts["refused"] > 0 and bridge.counts["published"] == 0
    assert bridge.bridge.link.session is None  # never connected, under either id
    assert sub.messages == []
