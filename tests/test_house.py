"""How the tests are written, checked: every pause goes through `tests/waiting.py`, so no test
waits for a broker, a subscription or a store by guessing how long it takes (tests wait for the
condition itself, or say why they hold)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# The firmware's emulated board runs under MicroPython, whose time.sleep is the board's own.
EXEMPT = {TESTS / "waiting.py"}
EMULATED_BOARD = TESTS / "firmware" / "emu"
SLEEP = re.compile(r"\btime\.sleep\(|^\s*from time import .*\bsleep\b")


def test_every_pause_goes_through_the_waiting_helpers() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path not in EXEMPT and EMULATED_BOARD not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SLEEP.search(line)
    ]
    assert not offenders, "use tests.waiting.wait_until (or hold, saying why):\n" + "\n".join(
        offenders
    )
