"""The firmware under the real MicroPython unix port, an emulated board and a real Mosquitto."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from firmware.sensors import bme280
from ingest.domain.contract import decode_obs, decode_status
from tests.firmware.conftest import NTP_SKEW_S, outbox_lines, write_board
from tests.firmware.test_sensors import ADC_T, DATASHEET_T, HUM
from tests.waiting import hold, wait_until


def observations(sub, station: str) -> list[dict]:
    out = []
    for body in sub.payloads():
        decoded = decode_obs(f"classnet/v1/{station}/obs", body)
        assert decoded.problems == []
        for o in decoded.observations:
            out.append({"ts": o.ts, "seq": o.seq, "stamped": o.stamped, **o.values})
    return out


@pytest.mark.slow
def test_station_publishes_contract_observations_with_datasheet_bme280_values(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-publish"
    write_board(tmp_path / "fs", station, mosquitto.port, sntp.port)
    sub = subscribe(mosquitto.port, station)
    # A capped heap keeps the firmware honest about memory (bench/firmware_heap.py measures it:
    # a 600-line backlog run completes in 142 KiB on this 64-bit port; an ESP32 is 32-bit).
    proc = start_station(tmp_path / "fs", heap="160K")
    sub.wait(lambda: len(observations(sub, station)) >= 6)
    obs = observations(sub, station)

    # BMP280/BME280 datasheet example (tests/firmware/test_sensors.py): 25.08 °C, 100653.27 Pa
    assert {o["temp_c"] for o in obs} == {25.08}
    assert {o["pressure_hpa"] for o in obs} == {1006.53}
    tf = bme280.t_fine(ADC_T, DATASHEET_T)
    assert {o["rh_pct"] for o in obs} == {round(bme280.humidity_pct(27000, tf, HUM), 1)}
    assert {o["wind_dir_deg"] for o in obs} == {225.0}
    assert {o["light_lux"] for o in obs} == {1000.0}  # 1200 counts / 1.2
    assert all(o["co2_ppm"] is None for o in obs)  # SCD4x configured but absent: null
    assert all(o["rssi_dbm"] == -61 for o in obs)
    # 12 Hz from the emulated anemometer, 0.667 m/s per Hz; 1 s buckets and 1 s readings do not
    # align, so single readings scatter, their mean does not (the first has no bucket yet).
    later = [o["wind_speed_ms"] for o in obs[1:]]
    assert sum(later) / len(later) == pytest.approx(12 * 0.667, rel=0.25)
    assert all(o["wind_gust_ms"] >= o["wind_speed_ms"] for o in obs)
    assert sum(o["rain_mm"] for o in obs) > 0
    # time from NTP (a server one day behind this machine), one reading per second
    assert all(abs(o["ts"] - (time.time() + NTP_SKEW_S)) < 30 for o in obs)
    assert not any(o["stamped"] for o in obs)
    seqs = [o["seq"] for o in obs]
    assert seqs == list(range(len(seqs)))

    status = [(p, r) for t, p, r in sub.messages if t.endswith("/status")]
    state, meta, problems = decode_status(f"classnet/v1/{station}/status", status[0][0])
    assert (state, meta.firmware, meta.exposure, problems) == ("online", "1.0.0", "outdoor", [])
    assert f"station {station} is online" in proc.output()

    proc.kill()  # no DISCONNECT: the broker publishes the last will
    sub.wait(lambda: any(p == b'{"state":"offline"}' for _, p, _ in sub.messages))


@pytest.mark.slow
def test_broker_outage_loses_nothing_and_keeps_order_and_timestamps(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    from tests import servers

    station = "fi-emu-outage"
    write_board(tmp_path / "fs", station, mosquitto.port, sntp.port)
    sub = subscribe(mosquitto.port, station)
    proc = start_station(tmp_path / "fs")
    sub.wait(lambda: len(observations(sub, station)) >= 2)
    mosquitto.stop()
    outage_start = time.time()
    hold(6, "the broker stays down")
    restarted = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
    try:
        # readings taken during the outage arrive, then the station carries on live
        sub.wait(lambda: max((o["seq"] for o in observations(sub, station)), default=0) >= 12)
        obs = observations(sub, station)
        seqs = [o["seq"] for o in obs]
        assert seqs == list(range(len(seqs))), "each reading once, in order"
        ts = [o["ts"] for o in obs]
        assert ts == sorted(ts)
        gaps = [b - a for a, b in itertools.pairwise(ts)]
        assert all(0.5 <= g <= 2.5 for g in gaps), gaps  # stamped when taken, not when sent
        assert any(o["ts"] - NTP_SKEW_S > outage_start + 2 for o in obs)
        assert any(len(json.loads(b)) > 1 for b in sub.payloads() if b.startswith(b"["))
        assert "error broker:" in proc.output()
    finally:
        restarted.stop()


@pytest.mark.slow
def test_killed_station_restarted_on_the_same_flash_loses_nothing(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    from tests import servers

    station = "fi-emu-powercut"
    fs = tmp_path / "fs"
    write_board(fs, station, mosquitto.port, sntp.port)
    sub = subscribe(mosquitto.port, station)
    mosquitto.stop()
    proc = start_station(fs)
    wait_until(lambda: len(outbox_lines(fs)) >= 5, 20, "5 readings in the outbox", 0.2)
    proc.kill()  # power cut
    buffered = outbox_lines(fs)
    assert len(buffered) >= 5
    restarted = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
    try:
        sub.wait_ready()
        start_station(fs)
        got: dict[float, dict] = {}

        def all_arrived() -> bool:
            got.update({o["ts"]: o for o in observations(sub, station)})
            return all(b["ts"] in got for b in buffered)

        try:
            sub.wait(all_arrived)
        except AssertionError:
            missing = [b["ts"] for b in buffered if b["ts"] not in got]
            raise AssertionError(
                f"missing {missing} of {len(buffered)}; got {sorted(got)}"
            ) from None
        for b in buffered:
            assert got[b["ts"]]["seq"] == b["seq"]
            assert got[b["ts"]]["temp_c"] == 25.08
        stamps = [o["ts"] for o in observations(sub, station)]
        assert len(stamps) == len(set(stamps)), "nothing sent twice"
    finally:
        restarted.stop()
