"""`classnet simulate` reads `--broker` with the same parser as every other command: mqtts://
with `--broker-ca`, and the password from CLASSNET_MQTT_PASSWORD_FILE (real Mosquitto, TLS, and
the configuration `classnet broker-config` writes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware import wire
from gateway.cli import main
from ingest.domain.broker_config import GATEWAY_USER
from simulators import towns
from tests import servers
from tests.security.network import Client, start_network_broker


def _simulate(broker: str, *extra: str) -> int:
    return main(
        ["simulate", "--broker", broker, *extra, "--towns", "tampere", "--count", "1",
         "--duration", "5m", "--interval", "60", "--fast"]
    )  # fmt: skip


def test_simulate_publishes_over_mqtts_checked_against_broker_ca(
    mosquitto_tls: servers.Server, tls_certs: servers.Certs
) -> None:
    watcher = Client(mosquitto_tls.port, None, None)
    watcher.subscribe(f"{wire.TOPIC_PREFIX}+/obs")
    url = f"mqtts://127.0.0.1:{mosquitto_tls.tls_port}"
    assert _simulate(url, "--broker-ca", str(tls_certs.ca)) == 0
    assert watcher.messages.get(timeout=10)[0].endswith("/obs")
    watcher.close()


def test_simulate_takes_its_password_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = towns.stations(1, ("tampere",))[0].station
    server, pw = start_network_broker(tmp_path, [station])
    try:
        watcher = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
        watcher.subscribe(wire.topic(station, "obs"))
        secret = tmp_path / "password"
        secret.write_text(pw[station] + "\n")
        monkeypatch.delenv("CLASSNET_MQTT_PASSWORD", raising=False)
        monkeypatch.setenv("CLASSNET_MQTT_PASSWORD_FILE", str(secret))
        assert _simulate(f"mqtt://{station}@127.0.0.1:{server.port}") == 0
        assert watcher.messages.get(timeout=10)[0] == wire.topic(station, "obs")
        watcher.close()
    finally:
        server.stop()
