"""Secrets never appear in logs or `--help` output of any command.

CLASSNET_MQTT_PASSWORD, CLASSNET_INFLUX_PASSWORD and CLASSNET_INFLUX_TOKEN (and the station's
Wi-Fi and MQTT passwords for `flash`) are set to marker strings; every command runs for real,
with debug logging, against real servers where it talks to one (a Mosquitto that refuses the
password, InfluxDB 1.x that takes it, a v2 URL against a 1.x server that refuses it); all
output, including the gateway's log file, is searched for the markers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware import wire
from gateway.cli import COMPONENT_CLIS, build_parser, main
from ingest.domain.broker_config import password_hash
from tests import servers
from tests.faults.harness import ROOT, report
from tests.waiting import hold, wait_until

pytestmark = pytest.mark.slow

MARKERS = {
    "CLASSNET_MQTT_PASSWORD": "mqtt-MARKER-5e1b",
    "CLASSNET_INFLUX_PASSWORD": "influx-MARKER-77c2",
    "CLASSNET_INFLUX_TOKEN": "token-MARKER-9f0a",
}
FLASH_MARKERS = {"wifi_password": "wifi-MARKER-31d4", "mqtt_password": "station-MARKER-8a6e"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **MARKERS}


def classnet(*args: str, timeout: float = 60, cwd: Path | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "-v", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
        cwd=cwd,
    )
    return f"$ classnet {' '.join(args)} (exit {out.returncode})\n{out.stdout}{out.stderr}"


def _assert_clean(outputs: list[str]) -> None:
    secrets = [*MARKERS.values(), *FLASH_MARKERS.values()]
    for text in outputs:
        for secret in secrets:
            assert secret not in text, f"secret {secret} leaked in:\n{text[:3000]}"
        # Not even a fragment: the markers' distinctive middle part.
        assert "MARKER" not in text, f"a secret's fragment leaked in:\n{text[:3000]}"


def test_no_help_text_shows_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in MARKERS.items():
        monkeypatch.setenv(name, value)
    parser = build_parser()
    commands = sorted(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr,arg-type]
    outputs = []
    for argv in [["--help"], *([c, "--help"] for c in commands)]:
        with pytest.raises(SystemExit):
            main(argv)
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
    with capsys.disabled():
        report(f"secrets: --help of classnet and {len(commands)} commands: {', '.join(commands)}")
    assert len(commands) >= len(COMPONENT_CLIS)
    assert all("usage:" in o for o in outputs)
    _assert_clean(outputs)


def test_no_command_logs_a_secret(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server, influx_db: str
) -> None:
    # A broker that wants a password and refuses ours: the refusal is logged, the password not.
    (tmp_path / "passwd").write_text(f"gw:{password_hash('not-the-marker')}\n")
    strict = servers.start_mosquitto(
        tmp_path / "strict",
        extra_conf=f"allow_anonymous false\npassword_file {tmp_path / 'passwd'}\n",
    )
    influx1 = f"influxdb://reader@127.0.0.1:{influxdb.port}/{influx_db}"
    influx2 = f"influxdb2://127.0.0.1:{influxdb.port}/bucket?org=school"  # 1.x refuses v2
    sqlite = f"sqlite:///{tmp_path / 'obs.db'}"
    jsonl = tmp_path / "obs.jsonl"
    jsonl.write_text(
        "\n".join(
            f'{{"station": "fi-secret-01", "ts": {time.time() - 3600 + i}, "temp_c": 20}}'
            for i in range(5)
        )
        + "\n"
    )
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(
        "{" + ", ".join(f'"{k}": "{v}"' for k, v in FLASH_MARKERS.items()) + "}"
    )
    outputs = []
    try:
        outputs.append(
            _gateway_run(tmp_path, f"mqtt://gw@127.0.0.1:{mosquitto.port}", influx1, mosquitto.port)
        )
        outputs.append(
            _gateway_run(tmp_path / "strict-gw", f"mqtt://gw@127.0.0.1:{strict.port}", sqlite)
        )
        v2_broker = f"mqtt://127.0.0.1:{mosquitto.port}"
        outputs.append(_gateway_run(tmp_path / "v2", v2_broker, influx2, mosquitto.port))
    finally:
        strict.stop()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    outputs += [
        classnet("import", "--store", influx1, str(jsonl)),
        classnet("import", "--store", influx2, str(jsonl)),
        classnet("rejects", "--store", influx1),
        classnet("summary", "--store", influx1, "--start", day, "--end", day),
        classnet("export", "--store", influx1, "--start", day, "--end", day),
        classnet(
            "simulate",
            "--broker",
            f"mqtt://school@127.0.0.1:{mosquitto.port}",
            "--count",
            "2",
            "--duration",
            "5m",
            "--fast",
        ),
        classnet(
            "flash",
            "--dry-run",
            "--station",
            "fi-secret-01",
            "--wifi-ssid",
            "school",
            "--broker-host",
            "127.0.0.1",
            "--mqtt-user",
            "fi-secret-01",
            "--secrets",
            str(secrets_file),
        ),
        classnet("broker-config", "--station", "fi-secret-01", "--out", str(tmp_path / "broker")),
    ]
    report(
        f"secrets: {len(outputs)} command runs, {sum(len(o) for o in outputs):,} characters of "
        f"output and logs searched; no marker found"
    )
    _assert_clean(outputs)
    # The runs did reach the servers (the check is not vacuous).
    joined = "\n".join(outputs)
    assert "connected to mqtt://gw@127.0.0.1" in joined
    assert "refused the connection" in joined
    assert "no v2 write API" in joined


def _gateway_run(work: Path, broker: str, store: str, publish_to: int | None = None) -> str:
    """`classnet -v gateway` for a few seconds with one observation to write, then SIGTERM."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "gateway.log"
    port = servers.free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "gateway.cli", "-v", "gateway", "--broker", broker),
                *("--store", store, "--spool-dir", str(work / "spool")),
                *("--metrics-port", str(port), "--batch-ms", "100"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    try:
        if publish_to is not None:  # once subscribed: a new session gets only what comes after
            wait_until(lambda: "; ready" in log.read_text(errors="replace"), 30, "subscribed")
            _publish_one(publish_to)
        events = ("refused the connection", "for good", "stored", "InfluxDB 1.")
        with contextlib.suppress(AssertionError):  # what was logged is checked by the caller
            wait_until(
                lambda: any(e in log.read_text(errors="replace") for e in events), 30, "events", 0.2
            )
        hold(1.5, "the batch written, the next log lines out")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return f"$ classnet gateway --broker {broker} --store {store}\n" + log.read_text(
        errors="replace"
    )


def _publish_one(port: int) -> None:
    from tests.mqtt_clients import publish

    publish(port, [(wire.topic("fi-secret-01", "obs"), wire.encode(wire.observation(time.time())))])
