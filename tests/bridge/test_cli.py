"""`classnet bridge` as a teacher runs it: the command line, the password from the environment,
SIGTERM publishing the station offline; and `classnet flash` for a USB-serial station."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from firmware import config
from firmware.host import flash
from gateway.cli import build_parser
from tests.bridge.harness import direct, serial_board
from tests.firmware import mpy


def test_bridge_is_a_classnet_command_and_takes_no_password() -> None:
    args = build_parser().parse_args(["bridge", "--broker", "mqtt://fi-a-01@h:1883"])
    assert args.port == "auto" and args.func.__module__ == "gateway.bridge.bridge_cmd"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bridge", "--password", "x"])


def test_a_serial_config_needs_no_wifi_broker_or_wifi_password() -> None:
    cfg = config.validate({"station": "fi-usb-01", "transport": "serial"})
    assert cfg["ntp"]["host"] is None  # its time comes from the bridge
    asked: list[str] = []
    secrets = flash.read_secrets(None, False, asked.append, need_wifi=False)
    doc = flash.build_config({"station": "fi-usb-01", "transport": "serial"}, {}, secrets)
    assert asked == [] and "wifi" not in doc


@pytest.mark.slow
def test_classnet_bridge_runs_and_says_goodbye_for_the_station(
    tmp_path, mosquitto, subscribe, start_serial_station
) -> None:
    station = "fi-serial-cli"
    fs = tmp_path / "fs"
    serial_board(fs, station)
    port = tmp_path / "ttyUSB-cli"
    sub = subscribe(mosquitto.port, station)
    log = tmp_path / "bridge.log"
    # A password the anonymous test broker ignores: it must come from the environment.
    env = {**mpy.env(), "CLASSNET_MQTT_PASSWORD": "s3cret", "PYTHONPATH": str(mpy.REPO)}
    argv = [sys.executable, "-m", "gateway.cli", "bridge", "--port", str(port)]
    argv += ["--broker", f"mqtt://{station}@127.0.0.1:{mosquitto.port}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        start_serial_station(fs, direct(port))
        sub.wait(lambda: len(sub.payloads()) >= 2)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    sub.wait(lambda: sub.messages[-1][1] == b'{"state":"offline"}')
    text = log.read_text()
    assert "s3cret" not in text
    assert f"station {station} is online" in text and "bridge stopped" in text
    assert not any(b'"seq"' in line.encode() for line in text.splitlines())  # no payload dumps
    first = json.loads(sub.payloads()[0])
    assert (first[0] if isinstance(first, list) else first)["seq"] == 0


def test_the_bridge_needs_the_stations_login(capsys) -> None:
    from gateway.cli import EXIT_USER_ERROR, main

    assert main(["bridge", "--broker", "mqtt://127.0.0.1:1883"]) == EXIT_USER_ERROR
    assert "give the station's login, mqtt://STATION@host:1883" in capsys.readouterr().err
