"""Peak heap of the station firmware under the real MicroPython unix port.

Runs the whole station (all emulated sensors, a 600-observation backlog drained in 48-line
batches to a real Mosquitto, NTP, five live readings) and reports:
  * peak: the most live data (gc.mem_alloc() right after gc.collect()) at the moments a batch
    is sent (lines and the message body both alive) or a reading is taken;
  * smallest heap: the smallest `-X heapsize` (in KiB) with which the same run completes.
The unix port is 64-bit: its object headers and pointers are twice the size of an ESP32's, so
the ESP32 (32-bit) figures are lower than these; compare with ~100 KB of free heap on an ESP32
without PSRAM. Usage: python bench/firmware_heap.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import servers
from tests.firmware import mpy
from tests.firmware.conftest import SntpServer, write_board

SCRIPT = """
import gc
import emuboard
from firmware import station
peak = [0]
def sample():
    gc.collect()
    peak[0] = max(peak[0], gc.mem_alloc())
send, take = station.MqttUplink.send_obs, station.Station.take_reading
def send_obs(self, body):
    sample()
    return send(self, body)
def take_reading(self):
    sample()
    return take(self)
station.MqttUplink.send_obs = send_obs
station.Station.take_reading = take_reading
station.main(emuboard.Board(), max_readings=5)
gc.collect()
free = gc.mem_free()
print("HEAP peak=%d settled=%d total=%d" % (peak[0], gc.mem_alloc(), gc.mem_alloc() + free))
"""


def prefill(fs: Path, n: int) -> None:
    box = fs / "outbox"
    box.mkdir()
    obs = {
        "ts": 1763884800, "seq": 0, "temp_c": 21.43, "rh_pct": 55.2, "pressure_hpa": 1003.12,
        "wind_speed_ms": 3.21, "wind_gust_ms": 7.4, "wind_dir_deg": 225.0, "rain_mm": 0.2794,
        "light_lux": 12345.6, "battery_v": 4.12, "rssi_dbm": -61, "co2_ppm": None,
    }  # fmt: skip
    for seg in range(0, n, 144):
        lines = []
        for i in range(seg, min(n, seg + 144)):
            obs["ts"], obs["seq"] = 1763884800 + 300 * i, i
            lines.append(json.dumps(obs, separators=(",", ":")))
        (box / f"{seg // 144:08d}.log").write_text("\n".join(lines) + "\n")


def run(micropython: str, heap_kib: int | None, broker: int, ntp: int) -> str | None:
    with tempfile.TemporaryDirectory() as d:
        fs = Path(d)
        write_board(fs, "fi-bench-heap", broker, ntp, interval_s=2)
        prefill(fs, 600)
        argv = [micropython, *(["-X", f"heapsize={heap_kib}K"] if heap_kib else []), "-c", SCRIPT]
        out = subprocess.run(
            argv, cwd=fs, env=mpy.env(), capture_output=True, text=True, timeout=120
        )
        for line in out.stdout.splitlines():
            if line.startswith("HEAP ") and out.returncode == 0 and "error" not in out.stdout:
                return line
        return None


def main() -> int:
    micropython = servers.require_binary("micropython")
    with tempfile.TemporaryDirectory() as d:
        broker = servers.start_mosquitto(Path(d))
        ntp = SntpServer()
        try:
            full = run(micropython, None, broker.port, ntp.port)
            print(f"default heap: {full}")
            low, high = 48, 256  # KiB: smallest known failing / working
            if run(micropython, high, broker.port, ntp.port) is None:
                print("does not run in 256 KiB")
                return 1
            while high - low > 4:
                mid = (low + high) // 2
                if run(micropython, mid, broker.port, ntp.port):
                    high = mid
                else:
                    low = mid
            print(f"smallest heap the run completes in: {high} KiB (unix port, 64-bit)")
        finally:
            ntp.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
