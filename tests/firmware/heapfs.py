"""The board filesystem of a heap run (tests/firmware/emu/heaprun.py): the device modules as
sources or precompiled, the emulated board, config.json and a full outbox backlog. The board's
own directory is the whole module path, so a precompiled run imports only .mpy files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from firmware import config
from firmware.host import manifest, precompile
from tests.firmware import mpy
from tests.firmware.conftest import write_board

STATION = "fi-heap-run"
READINGS = 100  # every 10 s on the virtual clock (a step per second), after the backlog
BACKLOG = config.DEFAULTS["buffer"]["capacity"]  # a full outbox: 8 days at 5-minute readings
HARNESS = ("emuboard.py", "i2c_devices.py", "crc.py", "memsocket.py", "heaprun.py")


def write_backlog(fs: Path, n: int) -> None:
    """`n` unsent observations in the outbox, in segments as the station writes them."""
    segment = config.DEFAULTS["buffer"]["segment"]
    box = fs / "outbox"
    box.mkdir()
    obs = {
        "ts": 1763884800, "seq": 0, "temp_c": 21.43, "rh_pct": 55.2, "pressure_hpa": 1003.12,
        "wind_speed_ms": 3.21, "wind_gust_ms": 7.4, "wind_dir_deg": 225.0, "rain_mm": 0.2794,
        "light_lux": 12345.6, "battery_v": 4.12, "rssi_dbm": -61, "co2_ppm": None,
    }  # fmt: skip
    for seg in range(0, n, segment):
        lines = []
        for i in range(seg, min(n, seg + segment)):
            obs["ts"], obs["seq"] = 1763884800 + 300 * i, i
            lines.append(json.dumps(obs, separators=(",", ":")))
        (box / f"{seg // segment:08d}.log").write_text("\n".join(lines) + "\n")


def build(fs: Path, precompiled: bool) -> None:
    """A board filesystem in `fs` (created) for heaprun.run / boot."""
    write_board(fs, STATION, 1883, 123, interval_s=10)
    write_backlog(fs, BACKLOG)
    for path, data in manifest.device_files():
        if path == precompile.BOOT_FILE:
            continue  # heaprun starts the station itself
        if precompiled:
            path, data = path[:-3] + ".mpy", precompile.compile_module(data, path)
        (fs / path).parent.mkdir(parents=True, exist_ok=True)
        (fs / path).write_bytes(data)
    for name in HARNESS:
        shutil.copy(mpy.EMU / name, fs / name)


def completed(outcome: str) -> bool:
    """Whether heaprun.outcome() tells a whole run: every reading taken, the outbox empty."""
    fields = dict(part.split("=") for part in outcome.split())
    return fields["readings"] == str(READINGS) and fields["pending"] == "0"


def run_unix(micropython: str, fs: Path, heap_kib: int | None) -> dict[str, int] | None:
    """The run on the unix port in `fs` (from build) with a `heap_kib` heap (None: the port's
    default): its figures (gc.mem_alloc() bytes: loaded, live_peak, step_peak; heap), or None
    when it did not complete (MemoryError)."""
    argv = [micropython, *(["-X", f"heapsize={heap_kib}K"] if heap_kib else [])]
    code = f"import heaprun\nheaprun.run({READINGS})"
    env = {**mpy.env(), "MICROPYPATH": ".frozen:."}  # the board's files only
    out = subprocess.run(
        [*argv, "-c", code], cwd=fs, env=env, capture_output=True, text=True, timeout=300
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("HEAP ")), "")
    if out.returncode != 0 or not line:
        if "MemoryError" in out.stdout + out.stderr:
            return None
        raise AssertionError(f"heap run exited {out.returncode}:\n{out.stdout[-2000:]}{out.stderr}")
    figures, outcome = line[5:].split(" readings=", 1)
    if not completed("readings=" + outcome):
        return None
    return {key: int(value) for key, value in (x.split("=") for x in figures.split())}
