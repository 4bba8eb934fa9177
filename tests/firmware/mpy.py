"""Run code under the real MicroPython unix port with the repository on its module path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EMU = Path(__file__).resolve().parent / "emu"


def env(*extra: Path) -> dict[str, str]:
    # MICROPYPATH replaces the default path: keep the frozen modules, then the emulated board
    # and the repository (so `from firmware import wire` works as it does on a board).
    path = [".frozen", *(str(p) for p in extra), str(EMU), str(REPO)]
    return {**os.environ, "MICROPYPATH": os.pathsep.join(path)}


def run(
    micropython: str,
    code: str,
    cwd: Path,
    timeout: float = 60,
    heap: str | None = None,
    path: tuple[Path, ...] = (),
) -> str:
    """Run `code`; `path`: directories searched before the emulated board and the repository."""
    argv = [micropython, *(["-X", f"heapsize={heap}"] if heap else []), "-c", code]
    out = subprocess.run(
        argv, cwd=cwd, env=env(*path), capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise AssertionError(f"micropython exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out.stdout
