"""The outbox level in the station's status, and siting in its meta, under the real MicroPython
unix port with the emulated board and a real Mosquitto."""

from __future__ import annotations

import pytest

from ingest.domain.contract import decode_meta, decode_status
from ingest.domain.siting import Siting
from tests import servers
from tests.firmware.conftest import outbox_lines, write_board
from tests.waiting import wait_until

SITING = {"surface": "grass", "heat_source_distance_m": 40, "radiation_shield": True}


def statuses(sub, station: str) -> list[tuple[int | None, int | None]]:
    """(outbox, outbox_max) of every online status the station published, in order."""
    out = []
    for body in sub.payloads("status"):
        state, meta, problems = decode_status(f"classnet/v1/{station}/status", body)
        assert problems == []
        if state == "online":
            out.append((meta.outbox, meta.outbox_max))
    return out


@pytest.mark.slow
def test_a_station_kept_from_the_broker_reports_its_outbox_filling_then_draining(
    tmp_path, mosquitto, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-outbox"
    fs = tmp_path / "fs"
    # 12 readings of capacity, sent 2 a message: quarters at 3, 6 and 9 waiting.
    write_board(
        fs, station, mosquitto.port, sntp.port,
        buffer={"capacity": 12, "segment": 4, "batch": 2},
        meta={"name": "Test school", "exposure": "outdoor", "siting": SITING},
    )  # fmt: skip
    sub = subscribe(mosquitto.port, station)
    mosquitto.stop()
    proc = start_station(fs, heap="160K")
    wait_until(lambda: len(outbox_lines(fs)) >= 10, 30, "10 readings in the outbox", 0.2)
    restarted = servers.start_mosquitto(mosquitto.data_dir, port=mosquitto.port)
    try:
        sub.wait_ready()
        sub.wait(lambda: (0, 12) in statuses(sub, station), timeout=60)
        levels = statuses(sub, station)
        waiting = [level for level, _ in levels]
        assert {capacity for _, capacity in levels} == {12}
        # The birth after the outage: at least the 10 readings kept while the broker was down.
        assert waiting[0] >= 10, levels
        # Then once per quarter crossed on the way down and once when empty, not per message
        # (the backlog leaves 2 a message): e.g. 14, 10, 8, 4, 0.
        assert waiting == sorted(waiting, reverse=True) and waiting[-1] == 0, levels
        quarters = [min(4, 4 * n // 12) for n in waiting[:-1]]
        assert len(set(quarters)) == len(quarters) and 0 not in quarters[1:], levels
        assert "error broker:" in proc.output()

        (meta_body, *_) = sub.payloads("meta")
        meta, problems = decode_meta(f"classnet/v1/{station}/meta", meta_body)
        assert problems == []
        assert meta.siting == Siting(
            surface="grass", heat_source_distance_m=40.0, radiation_shield=True
        )
        assert all(b"siting" not in body for body in sub.payloads("status"))
    finally:
        restarted.stop()
