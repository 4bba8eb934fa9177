"""`classnet flash`: pure pieces, and end to end against a real MicroPython raw REPL on a pty."""

from __future__ import annotations

import errno
import io
import json
import os
import ssl
import subprocess
import threading
import tty
from collections.abc import Sequence
from pathlib import Path

import pytest

from firmware.host import flash, manifest, precompile
from firmware.host.ports import friendly_name
from firmware.host.rawrepl import RawRepl, ReplError
from gateway import cli
from tests.firmware import mpy
from tests.waiting import hold


@pytest.mark.parametrize(
    ("vid", "pid", "name"),
    [
        (0x303A, 0x1001, "Espressif ESP32 (native USB)"),
        (0x10C4, 0xEA60, "ESP32 board (CP210x USB-serial)"),
        (0x1A86, 0x7523, "ESP32 board (CH340 USB-serial)"),
        (0x2E8A, 0x0005, "Raspberry Pi Pico / Pico W (MicroPython)"),
        (0x2E8A, 0x000A, "Raspberry Pi RP2040 board"),
        (0x046D, 0xC52B, None),  # a mouse receiver
        (None, None, None),  # a built-in UART
    ],
)
def test_friendly_names_from_usb_ids(vid, pid, name) -> None:
    assert friendly_name(vid, pid) == name


def test_progress_bar() -> None:
    assert flash.render_bar(0, 2000, 10) == "[----------]   0%   0.0/2.0 KB"
    assert flash.render_bar(1000, 2000, 10) == "[#####-----]  50%   1.0/2.0 KB"
    out = io.StringIO()
    bar = flash.Progress(100, out, width=4)
    bar.advance(100, "firmware/wire.py")
    assert "[####] 100%" in out.getvalue()


def test_open_errors_say_what_to_do() -> None:
    denied = flash.explain_open_error("/dev/ttyUSB0", OSError(errno.EACCES, "Permission denied"))
    assert "usermod -aG dialout" in str(denied)
    busy = flash.explain_open_error(
        "/dev/ttyUSB0", OSError(errno.EAGAIN, "Could not exclusively lock port")
    )
    assert "busy" in str(busy) and "Thonny" in str(busy)
    gone = flash.explain_open_error("/dev/ttyUSB9", OSError(errno.ENOENT, "No such file"))
    assert "--list" in str(gone)


def test_a_port_held_by_another_program_is_reported_busy() -> None:
    import serial

    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)
    try:
        with pytest.raises(flash.FlashError, match="busy"):
            flash.open_port(path)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_no_board_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flash, "list_boards", lambda: [])
    with pytest.raises(flash.FlashError, match="USB data cable"):
        flash.choose_port("auto")


def test_secrets_from_a_file_or_asked(tmp_path: Path) -> None:
    f = tmp_path / "secrets.env"
    f.write_text("# school\nwifi_password = pa=ss\n")
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "typed"

    assert flash.read_secrets(f, True, ask) == {"wifi_password": "pa=ss", "mqtt_password": "typed"}
    assert asked == ["MQTT password (not shown): "]


def test_config_is_checked_by_the_firmware_validator_and_printed_redacted() -> None:
    template = {"wifi": {"ssid": "school"}, "broker": {"host": "mqtt.school.fi"}}
    cfg = flash.build_config(
        template,
        {"station": "fi-tampere-hervanta", "broker.username": "st1"},
        {"wifi_password": "school-w1", "mqtt_password": "m1"},
    )
    assert cfg["wifi"] == {"ssid": "school", "password": "school-w1"}
    assert cfg["broker"] == {"host": "mqtt.school.fi", "username": "st1", "password": "m1"}
    shown = json.dumps(flash.redacted(cfg))
    assert "school-w1" not in shown and "m1" not in shown
    with pytest.raises(flash.FlashError, match="station="):
        flash.build_config(template, {"station": "Tampere"}, {})


def test_the_ca_goes_to_the_board_as_one_der_certificate(tls_certs, tmp_path: Path) -> None:
    pem = tls_certs.ca.read_text()
    der = flash.ca_certificate(tls_certs.ca)
    assert der == ssl.PEM_cert_to_DER_cert(pem)
    assert flash.ca_certificate(tls_certs.ca.with_suffix(".pem")) == der
    (tmp_path / "ca.der").write_bytes(der)
    assert flash.ca_certificate(tmp_path / "ca.der") == der, "DER is taken as it is"
    (tmp_path / "bundle.pem").write_text(pem + tls_certs.other_ca.read_text())
    with pytest.raises(flash.FlashError, match=r"bundle\.pem holds 2 certificates"):
        flash.ca_certificate(tmp_path / "bundle.pem")
    with pytest.raises(flash.FlashError, match=r"server\.key holds 0 certificates"):
        flash.ca_certificate(tls_certs.server_key)
    (tmp_path / "notes.txt").write_text("ask the IT office")
    with pytest.raises(flash.FlashError, match=r"notes\.txt is not a certificate"):
        flash.ca_certificate(tmp_path / "notes.txt")
    with pytest.raises(flash.FlashError, match="cannot read the CA certificate"):
        flash.ca_certificate(tmp_path / "missing.pem")


def test_ca_option_turns_tls_on_and_names_the_file_on_the_board(
    tls_certs, tmp_path: Path, capsys
) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps({"wifi_password": "school-wifi"}))
    secrets = str(tmp_path / "secrets.json")
    args = ["flash", "--dry-run", "--station", "fi-x-01", "--wifi-ssid", "school",
            "--broker-host", "mqtt.school.fi", "--secrets", secrets]  # fmt: skip
    assert cli.main([*args, "--ca", str(tls_certs.ca)]) == 0
    broker = json.loads(capsys.readouterr().out)["broker"]
    assert broker == {"host": "mqtt.school.fi", "tls": True, "ca": "ca.der"}
    (tmp_path / "template.json").write_text(json.dumps({"broker": {"tls": True, "ca": "ca.der"}}))
    assert cli.main([*args, "--config", str(tmp_path / "template.json")]) != 0
    assert "sets broker.ca: give the CA certificate with --ca FILE" in capsys.readouterr().err


def test_board_errors_are_explained() -> None:
    wifi = flash.explain_board_error("error wifi: cannot join 'school': wrong Wi-Fi password")
    assert "2.4 GHz" in wifi
    broker = flash.explain_board_error("error broker: cannot reach the broker at h:1883: refused")
    assert "mosquitto_sub" in broker
    cert = flash.explain_board_error(
        "error broker: the TLS certificate check of the broker at h:8883 failed: The certificate "
        "is not correctly signed by the trusted CA; broker.ca (ca.der) must be the CA that ..."
    )
    assert "mosquitto_sub" not in cert and cert.endswith("must be the CA that ...")


class LinesPort:
    def __init__(self, text: bytes) -> None:
        self.data = io.BytesIO(text)

    def read(self, n: int) -> bytes:
        return self.data.read(n)


def test_follow_gives_up_after_repeated_wifi_errors() -> None:
    port = LinesPort(
        b"station x: firmware\r\n" + b"error wifi: cannot join 'a': no network\r\n" * 3
    )
    with pytest.raises(flash.FlashError, match="cannot join Wi-Fi"):
        flash.follow(port, "fi-x-01", 5, echo=lambda line: None)


def test_a_board_without_micropython_is_named() -> None:
    class Silent:
        timeout: float | None = 0.0

        def read(self, n: int = 1) -> bytes:
            hold(0.01, "a silent port: reads time out")
            return b""

        def write(self, data: bytes) -> int:
            return len(data)

        def reset_input_buffer(self) -> None:
            pass

    with pytest.raises(ReplError, match="no raw REPL"):
        RawRepl(Silent()).enter(attempts=1)


def test_the_board_mpy_version_is_decoded() -> None:
    assert str(precompile.BoardMpy.decode(0x2B06)) == "6.3 (xtensawin)"  # ESP32, MicroPython 1.23+
    assert str(precompile.BoardMpy.decode(0xB06)) == "6.3 (x64)"  # the unix port these tests run
    assert str(precompile.BoardMpy.decode(5)) == "5.0"  # MicroPython 1.12 to 1.18, no native code


def test_modules_are_precompiled_only_for_a_board_that_loads_them() -> None:
    files = manifest.device_files()
    sent, why = precompile.for_board(files, precompile.BoardMpy(6, 1, "armv6m"))
    assert why is None
    assert sent[0] == files[0] == ("main.py", files[0][1])  # run at boot: only as source
    assert [p for p, _ in sent[1:]] == [p[:-3] + ".mpy" for p, _ in files[1:]]
    assert all(data[:2] == b"M\x06" for _, data in sent[1:])  # .mpy header: "M", version 6
    sent, why = precompile.for_board(files, precompile.BoardMpy(5, 0, None))
    assert sent == files
    assert why is not None and "loads .mpy version 5.0, mpy-cross writes version 6" in why


class PtyBoard:
    """A MicroPython "board" on a pty: the unix port's REPL on the master side (the tool opens
    the slave like a USB serial device). A soft reset (Ctrl-D) ends the REPL process; the board
    then "boots" main.py from its filesystem, as a real board does, on the same serial line.
    With `reports_mpy`, its REPL gives that as `sys.implementation._mpy` instead of its own."""

    def __init__(self, micropython: str, fs: Path, reports_mpy: int | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.fs = fs
        self.micropython = micropython
        # The board's own files first, then the emulated board layer; not the repository.
        self.env = {**os.environ, "MICROPYPATH": f".frozen:{fs}:{mpy.EMU}"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped = False
        self.boots = 0
        self.repl = [micropython]
        if reports_mpy is not None:
            # `import sys` finds sys.modules first: the tool's query reads this stand-in.
            fake = f"class I:\n _mpy = {reports_mpy}\nclass S:\n implementation = I\n"
            self.repl += ["-i", "-c", fake + "import sys\nsys.modules['sys'] = S"]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        argvs = [self.repl, [self.micropython, "main.py"]]
        while not self.stopped and self.boots < len(argvs):
            self.proc = subprocess.Popen(
                argvs[self.boots],
                cwd=self.fs,
                env=self.env,
                stdin=self.master,
                stdout=self.master,
                stderr=self.master,
            )
            self.boots += 1
            self.proc.wait()

    def stop(self) -> None:
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(5)
        os.close(self.master)
        os.close(self.slave)


def flash_board(
    micropython: str,
    tmp_path: Path,
    broker: int,
    ntp: int,
    capsys,
    reports_mpy: int | None = None,
    options: Sequence[str] = (),
) -> tuple[Path, str, str]:
    """Flash a pty board whose filesystem holds both forms of firmware/wire from an earlier
    upload, each broken; return its filesystem and what `classnet flash` printed. `options`
    are added to the command line."""
    from tests.firmware.conftest import write_board

    station = "fi-tampere-hervanta"
    fs = tmp_path / "board"
    (fs / "firmware").mkdir(parents=True)
    (fs / "firmware" / "wire.py").write_text("raise ImportError('stale source')\n")
    (fs / "firmware" / "wire.mpy").write_bytes(b"stale")
    # The teacher's template (no passwords) and secrets file; emu.json is the emulated hardware.
    write_board(tmp_path / "t", station, broker, ntp)
    template = json.loads((tmp_path / "t" / "config.json").read_text())
    del template["wifi"]["password"]
    (tmp_path / "station.json").write_text(json.dumps(template))
    (tmp_path / "secrets.json").write_text(json.dumps({"wifi_password": "s3cret-wifi"}))
    (fs / "emu.json").write_bytes((tmp_path / "t" / "emu.json").read_bytes())

    board = PtyBoard(micropython, fs, reports_mpy)
    try:
        hold(0.3, "the board boots to its REPL")
        rc = cli.main(
            [
                "flash",
                "--port", board.path,
                "--config", str(tmp_path / "station.json"),
                "--secrets", str(tmp_path / "secrets.json"),
                "--timeout", "60",
                *options,
            ]
        )  # fmt: skip
        out, err = capsys.readouterr()
        assert rc == 0, out + err
        assert f"done: station {station} is online" in out
        assert "100%" in err  # the progress bar
        assert "s3cret-wifi" not in out + err
        on_board = json.loads((fs / "config.json").read_text())
        assert on_board["wifi"]["password"] == "s3cret-wifi"
        assert not (fs / "firmware" / "host").exists()
        assert board.boots == 2  # the REPL, then main.py after the soft reset
    finally:
        board.stop()
    return fs, out, err


@pytest.mark.slow
def test_classnet_flash_uploads_precompiled_modules_and_the_board_comes_online_over_checked_tls(
    micropython, tmp_path, mosquitto_tls, tls_certs, sntp, capsys
) -> None:
    fs, out, _ = flash_board(
        micropython,
        tmp_path,
        mosquitto_tls.port,
        sntp.port,
        capsys,
        options=["--broker-port", str(mosquitto_tls.tls_port), "--ca", str(tls_certs.ca)],
    )
    on_board = json.loads((fs / "config.json").read_text())
    assert on_board["broker"]["ca"] == "ca.der"
    assert (fs / "ca.der").read_bytes() == flash.ca_certificate(tls_certs.ca)
    assert "warning broker" not in out, "the broker was checked against the CA"
    assert "source files" not in out
    assert (fs / "main.py").read_bytes() == (manifest.FIRMWARE_DIR / "main.py").read_bytes()
    for local, remote in manifest.DEVICE_FILES[1:]:
        source = (manifest.FIRMWARE_DIR / local).read_bytes()
        compiled = fs / (remote[:-3] + ".mpy")
        assert compiled.read_bytes() == precompile.compile_module(source, remote)
        assert not (fs / remote).exists()  # the stale wire.py is gone: it would hide wire.mpy


@pytest.mark.slow
def test_a_board_that_cannot_load_our_mpy_gets_the_sources(
    micropython, tmp_path, mosquitto, sntp, capsys
) -> None:
    # .mpy version 5: MicroPython 1.12 to 1.18; mpy-cross writes version 6.
    fs, out, _ = flash_board(
        micropython, tmp_path, mosquitto.port, sntp.port, capsys, reports_mpy=5
    )
    assert out.count("uploading source files (.py)") == 1
    assert "loads .mpy version 5.0" in out
    for local, remote in manifest.DEVICE_FILES:
        assert (fs / remote).read_bytes() == (manifest.FIRMWARE_DIR / local).read_bytes()
    assert not list(fs.rglob("*.mpy"))
