"""The firmware stays within the heap an ESP32 without PSRAM gives it: the heap run of
bench/firmware_heap.py (tests/firmware/emu/heaprun.py) under the unix port with a fixed heap."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.firmware import heapfs

# 144 KiB of 64-bit heap. The run (a full 2304-line backlog drained, then 100 readings)
# completed in 108 KiB with the modules as sources and 116 KiB precompiled when this was last
# measured (`python bench/firmware_heap.py`, 2026-11-23, after backlog batches were sent in
# pieces: a 5 KB body buffer had failed on a fragmented heap at 144 KiB while 124 KiB passed).
# The same run on the 32-bit WebAssembly port needs at most 0.74 of the 64-bit heap, although
# that port collects garbage only between steps. So 144 KiB here is at most about 107 KiB on an
# ESP32, below the 112 KiB one without PSRAM gives (the bench's docstring says where that
# figure comes from).
HEAP_KIB = 144


@pytest.mark.parametrize("precompiled", [False, True], ids=["py", "mpy"])
def test_the_firmware_run_completes_within_the_heap_budget(
    micropython: str, tmp_path: Path, precompiled: bool
) -> None:
    fs = tmp_path / "board"
    heapfs.build(fs, precompiled=precompiled)
    figures = heapfs.run_unix(micropython, fs, HEAP_KIB)
    assert figures is not None, (
        f"the station ran out of heap in {HEAP_KIB} KiB (MemoryError); measure with "
        "`python bench/firmware_heap.py` and find what grew"
    )


def test_the_budget_binds(micropython: str, tmp_path: Path) -> None:
    # Half the budget is far too little: the heap size given is the one the run gets.
    fs = tmp_path / "board"
    heapfs.build(fs, precompiled=False)
    assert heapfs.run_unix(micropython, fs, HEAP_KIB // 2) is None
