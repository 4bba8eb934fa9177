"""What goes to the board: exactly the device modules, all of which run under MicroPython."""

from __future__ import annotations

from pathlib import Path

from firmware.host import manifest
from tests.firmware import mpy


def device_sources() -> set[str]:
    root = manifest.FIRMWARE_DIR
    return {
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "host" not in p.relative_to(root).parts and "__pycache__" not in p.parts
    }


def test_manifest_lists_every_device_module_and_no_host_module() -> None:
    listed = {local for local, _ in manifest.DEVICE_FILES}
    assert listed == device_sources()
    assert not any(remote.startswith("firmware/host") for _, remote in manifest.DEVICE_FILES)
    for local, _ in manifest.DEVICE_FILES:
        text = (manifest.FIRMWARE_DIR / local).read_text()
        assert "firmware.host" not in text and "from firmware import host" not in text


def test_every_device_module_imports_under_micropython(micropython: str, tmp_path: Path) -> None:
    # board.py needs `machine` and `network` (real hardware) and main.py starts the station.
    modules = [
        "firmware." + local[:-3].replace("/", ".").removesuffix(".__init__")
        for local, _ in manifest.DEVICE_FILES
        if local not in ("board.py", "main.py", "__init__.py")
    ]
    code = "\n".join(f"import {m}" for m in modules) + "\nprint('ok')"
    assert mpy.run(micropython, code, tmp_path).strip() == "ok"
