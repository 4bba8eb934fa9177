"""`classnet flash`: put the station firmware and its config.json on a board over USB serial,
check every file by hash, reset the board and watch it until its first observation is sent.

Each step raises `FlashError` with a sentence that says what to do; the CLI prints it.
"""

from __future__ import annotations

import base64
import errno
import getpass
import hashlib
import json
import re
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from firmware import config as station_config
from firmware.host import manifest, precompile, station_check
from firmware.host.ports import list_boards
from firmware.host.rawrepl import RawRepl, RemoteError, ReplError

CHUNK = 768  # bytes per write() call on the board: 1 KiB of base64
MICROPYTHON_HELP = (
    "install MicroPython first: for an ESP32, download the firmware from "
    "https://micropython.org/download/ESP32_GENERIC/ and run "
    "`esptool.py --chip esp32 write_flash -z 0x1000 ESP32_GENERIC-*.bin`; for a Pico W, hold "
    "BOOTSEL while plugging it in and copy the .uf2 from "
    "https://micropython.org/download/RPI_PICO_W/ onto the RPI-RP2 drive"
)


class FlashError(Exception):
    """A failure the teacher can fix; the message says how."""


# -- finding and opening the board


def choose_port(port: str) -> str:
    if port != "auto":
        return port
    boards = list_boards()
    if not boards:
        raise FlashError(
            "no board found: plug it in with a USB data cable (many charging cables carry no "
            "data), then run `classnet flash --list`; on Windows, install the CP210x or CH340 "
            "driver if the board does not appear"
        )
    if len(boards) > 1:
        names = ", ".join(f"{b.port} ({b.name})" for b in boards)
        raise FlashError(f"several boards found ({names}): choose one with --port")
    return boards[0].port


def explain_open_error(port: str, exc: OSError) -> FlashError:
    """A sentence for why a serial port did not open."""
    code = exc.errno
    text = str(exc)
    if code == errno.EACCES or "Permission denied" in text:
        return FlashError(
            f"permission denied on {port}: add yourself to the group that owns serial ports "
            "with `sudo usermod -aG dialout $USER` (`uucp` on Arch and Fedora), then log out and "
            "in again"
        )
    if code in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in text or "busy" in text:
        return FlashError(
            f"{port} is busy: another program has it open (Thonny, the Arduino serial monitor, "
            "screen, or `classnet bridge`); close it and try again"
        )
    if code == errno.ENOENT or "No such file" in text or "could not open port" in text:
        return FlashError(f"{port} does not exist (unplugged?); see `classnet flash --list`")
    return FlashError(f"cannot open {port}: {text}")


def open_port(port: str) -> Any:
    import serial

    try:
        return serial.Serial(port, 115200, timeout=0.05, exclusive=True)
    except (serial.SerialException, OSError) as exc:
        raise explain_open_error(port, exc) from None


# -- config.json and secrets


def read_secrets(
    path: Path | None, need_mqtt: bool, ask: Callable[[str], str], need_wifi: bool = True
) -> dict[str, str]:
    """Wi-Fi and MQTT passwords from a file (JSON, or KEY=value lines) or asked without echo."""
    secrets: dict[str, str] = {}
    if path is not None:
        try:
            text = path.read_text()
        except OSError as exc:
            raise FlashError(f"cannot read the secrets file {path}: {exc.strerror}") from None
        try:
            doc = json.loads(text)
            secrets = {str(k): str(v) for k, v in doc.items()}
        except ValueError:
            for line in text.splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    key, value = line.split("=", 1)
                    secrets[key.strip()] = value.strip()
    if need_wifi and "wifi_password" not in secrets:
        secrets["wifi_password"] = ask("Wi-Fi password (not shown): ")
    if need_mqtt and "mqtt_password" not in secrets:
        secrets["mqtt_password"] = ask("MQTT password (not shown): ")
    return secrets


def merge_config(template: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A template (or nothing) with command-line values (dotted keys) on top."""
    doc = json.loads(json.dumps(template))
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = doc
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return doc


def check_config(doc: dict[str, Any], source: str, board: str | None = None) -> None:
    """Every problem of a config without its passwords, all at once, one line each naming
    `source` (the teacher's file); raises FlashError when there is any."""
    problems = station_check.config_problems(doc, board)
    if problems:
        raise FlashError("\n".join(f"{source}: {p}" for p in problems))


def build_config(
    template: dict[str, Any],
    overrides: dict[str, Any],
    secrets: dict[str, str],
    source: str = "config.json",
    board: str | None = None,
) -> dict[str, Any]:
    """The board's config.json: a template (or nothing), command-line values, then secrets;
    checked with `check_config` and the firmware's own validator so mistakes surface here, not
    on the board."""
    doc = merge_config(template, overrides)
    check_config(doc, source, board)
    if doc.get("transport", "wifi") == "wifi":
        password = secrets.get("wifi_password", "")
        why = station_check.password_problem(password)
        if why:
            raise FlashError(why)
        doc.setdefault("wifi", {})["password"] = password
    if secrets.get("mqtt_password"):
        doc.setdefault("broker", {})["password"] = secrets["mqtt_password"]
    try:
        station_config.validate(json.loads(json.dumps(doc)))
    except station_config.ConfigError as exc:
        raise FlashError(str(exc)) from None
    return doc


CA_FILE = "ca.der"  # on the board, next to config.json; named by the config's broker.ca
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def ca_certificate(path: Path) -> bytes:
    """The broker's CA certificate as DER, the one form MicroPython's mbedTLS loads on every
    port, from the PEM file a school gets with its broker (a DER file is taken as it is)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FlashError(f"cannot read the CA certificate {path}: {exc.strerror}") from None
    if b"-----BEGIN" in data:
        blocks = _PEM_CERT.findall(data)
        if len(blocks) != 1:
            raise FlashError(
                f"{path} holds {len(blocks)} certificates: give --ca the one certificate of the "
                "CA that signed the broker's (the station loads exactly one)"
            )
        data = ssl.PEM_cert_to_DER_cert(blocks[0].decode("ascii"))
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=data)
    except ssl.SSLError:
        raise FlashError(f"{path} is not a certificate (PEM or DER)") from None
    return data


def redacted(doc: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    for section in ("wifi", "broker"):
        if isinstance(out.get(section), dict) and out[section].get("password"):
            out[section]["password"] = "***"
    return out


# -- upload


@dataclass
class Progress:
    """A one-line text progress bar (no dependency), redrawn in place."""

    total: int
    out: TextIO | None = None  # default: sys.stderr at the time of writing
    width: int = 30
    done: int = 0

    def advance(self, n: int, label: str) -> None:
        self.done += n
        out = self.out or sys.stderr
        out.write("\r" + render_bar(self.done, self.total, self.width) + f" {label[:40]:40}")
        out.flush()

    def finish(self) -> None:
        (self.out or sys.stderr).write("\n")


def render_bar(done: int, total: int, width: int = 30) -> str:
    """`[#######-------]  45%  12.3/27.0 KB`."""
    frac = 1.0 if total <= 0 else min(1.0, done / total)
    filled = int(frac * width)
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {frac * 100:3.0f}% "
        f"{done / 1000:5.1f}/{total / 1000:.1f} KB"
    )


_HASH_CODE = """
import hashlib, binascii
def _h(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            h.update(b)
    return binascii.hexlify(h.digest()).decode()
"""


def _is_flash_full(err: str) -> bool:
    return "ENOSPC" in err or "28" in err.rsplit("OSError", 1)[-1]


def upload(repl: RawRepl, files: Sequence[tuple[str, bytes]], progress: Progress | None) -> None:
    """Write each file on the board, then compare SHA-256 hashes of every file."""
    try:
        repl.exec("import os, binascii")
        free = repl.exec("s = os.statvfs('.')\nprint(s[0] * s[3])").strip()
    except RemoteError as exc:
        raise FlashError(f"the board's filesystem does not answer: {exc}") from None
    need = sum(len(data) for _, data in files)
    if free and int(free) < need:
        raise FlashError(
            f"flash full: the board has {int(free) // 1024} KB free and the firmware needs "
            f"{need // 1024 + 1} KB; delete old files (e.g. `mpremote rm`) or erase the flash "
            "and reinstall MicroPython"
        )
    for directory in manifest.DIRECTORIES:
        repl.exec(f"try:\n os.mkdir({directory!r})\nexcept OSError:\n pass")
    stale = [other for other in (precompile.counterpart(p) for p, _ in files) if other]
    repl.exec(f"for p in {stale!r}:\n try:\n  os.remove(p)\n except OSError:\n  pass")
    for path, data in files:
        try:
            repl.exec(f"f = open({path!r}, 'wb')\nw = f.write\nd = binascii.a2b_base64")
            for i in range(0, max(len(data), 1), CHUNK * 4):
                block = data[i : i + CHUNK * 4]
                lines = [
                    f"w(d({base64.b64encode(block[j : j + CHUNK]).decode()!r}))"
                    for j in range(0, len(block), CHUNK)
                ]
                if lines:
                    repl.exec("\n".join(lines))
                if progress:
                    progress.advance(len(block), path)
            repl.exec("f.close()")
        except RemoteError as exc:
            if _is_flash_full(str(exc)):
                raise FlashError(
                    f"flash full while writing {path}: free space with `mpremote rm` or erase "
                    "the flash; the station's outbox needs about 450 KB as well"
                ) from None
            raise FlashError(f"writing {path} failed on the board: {exc}") from None
    if progress:
        progress.finish()
    verify(repl, files)


def verify(repl: RawRepl, files: Sequence[tuple[str, bytes]]) -> None:
    repl.exec(_HASH_CODE)
    for path, data in files:
        got = repl.exec(f"print(_h({path!r}))").decode().strip()
        want = hashlib.sha256(data).hexdigest()
        if got != want:
            raise FlashError(
                f"{path} on the board differs from the upload (sha256 {got[:12]} != "
                f"{want[:12]}): a loose cable? run `classnet flash` again"
            )


def board_mpy(repl: RawRepl) -> precompile.BoardMpy | None:
    """The .mpy version the board loads, from its `sys.implementation._mpy` (None: not told)."""
    got = repl.exec("import sys\nprint(getattr(sys.implementation, '_mpy', ''))").decode()
    return precompile.BoardMpy.decode(int(got)) if got.strip().isdigit() else None


# -- after the reset


@dataclass
class Outcome:
    online: bool
    lines: list[str]


def follow(
    port: Any,
    station: str,
    timeout: float,
    echo: Callable[[str], None],
    max_errors: int = 3,
    serial: bool = False,
) -> Outcome:
    """Read the board's output until "station <id> is online" (a USB-serial station: until its
    firmware has started), or explain why not."""
    deadline = time.monotonic() + timeout
    buf = b""
    lines: list[str] = []
    errors: list[str] = []
    online = f"station {station} is online" if not serial else f"station {station}: firmware"
    while time.monotonic() < deadline:
        try:
            chunk = port.read(256)
        except OSError:  # the USB port re-enumerates on some boards after a reset
            time.sleep(0.2)
            continue
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            lines.append(line)
            echo(line)
            if online in line:
                return Outcome(True, lines)
            if line.startswith(("error wifi:", "error broker:")):
                errors.append(line)
                if len(errors) >= max_errors:
                    raise FlashError(explain_board_error(errors[-1]))
            elif line.startswith(("error config:", "error station:", "Traceback")):
                raise FlashError(explain_board_error(line))
    if errors:
        raise FlashError(explain_board_error(errors[-1]))
    raise FlashError(
        f"the board did not report '{online}' within {timeout:.0f} s; its last lines: "
        + " | ".join(lines[-5:])
    )


def explain_board_error(line: str) -> str:
    if line.startswith("error wifi:"):
        return (
            f"the board cannot join Wi-Fi ({line[len('error wifi:') :].strip()}): check the "
            "network name and password; ESP32 and Pico W use 2.4 GHz only; guest networks with a "
            "login page do not work (plug the station into a PC with `classnet bridge` instead)"
        )
    if line.startswith("error broker:") and "TLS certificate check" in line:
        # The station's sentence already says which file to fix; host and port are right.
        return f"the board is on Wi-Fi but {line[len('error broker:') :].strip()}"
    if line.startswith("error broker:"):
        return (
            f"the board is on Wi-Fi but {line[len('error broker:') :].strip()}: check the broker "
            "host and port from a computer on the same network (`mosquitto_sub -h HOST -p PORT "
            "-t '#'`), TLS on or off, and the MQTT user name and password"
        )
    if line.startswith("error config:"):
        return f"the board rejected its config.json: {line[len('error config:') :].strip()}"
    return f"the firmware stopped: {line}"


# -- the whole job


def flash(
    port_name: str,
    cfg: dict[str, Any],
    *,
    timeout: float = 120.0,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    open_fn: Callable[[str], Any] = open_port,
    extra: Sequence[tuple[str, bytes]] = (),
) -> Outcome:
    """Upload the firmware, config.json and `extra` files (path on the board, content)."""
    port = open_fn(port_name)
    try:
        repl = RawRepl(port)
        try:
            repl.enter()
        except ReplError:
            raise FlashError(
                f"the board on {port_name} does not answer as MicroPython; {MICROPYTHON_HELP}"
            ) from None
        files, why_source = precompile.for_board(manifest.device_files(), board_mpy(repl))
        if why_source:
            echo(why_source)
        files.append(("config.json", json.dumps(cfg, indent=1).encode()))
        files.extend(extra)
        bar = Progress(sum(len(d) for _, d in files)) if progress else None
        upload(repl, files, bar)
        echo(f"{len(files)} files written and verified (sha256); resetting the board")
        repl.soft_reset()
        # A USB-serial station cannot be online yet: its bridge needs the port this holds.
        return follow(port, cfg["station"], timeout, echo, serial=cfg.get("transport") == "serial")
    finally:
        port.close()


def ask_secret(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise FlashError(
            "no terminal to ask for passwords: give them in a file with --secrets FILE "
            '(JSON: {"wifi_password": "...", "mqtt_password": "..."})'
        )
    return getpass.getpass(prompt)


def load_template(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise FlashError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise FlashError(
            f"{path} is not JSON ({exc}); check the line and column it names"
        ) from None
    if not isinstance(doc, dict):
        raise FlashError(f"{path} must hold one JSON object")
    return doc
