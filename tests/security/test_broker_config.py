"""`classnet broker-config` against a real Mosquitto: one login per station, each confined to
its own topics; anonymous clients refused; the gateway and dashboard read-only."""

from __future__ import annotations

import getpass
import os
import queue
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker_config import (
    DASHBOARD_USER,
    GATEWAY_USER,
    BrokerOptions,
    password_hash,
    write_broker_config,
)
from gateway.cli import main as classnet
from tests import servers

STATIONS = ["fi-tampere-hervanta", "ph-manila-01"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[servers.Server, dict[str, str]]]:
    port = servers.free_port()
    out = tmp_path / "broker"
    options = BrokerOptions(
        port=port, bind="127.0.0.1", data_dir=tmp_path / "data", run_as=getpass.getuser()
    )
    (tmp_path / "data").mkdir()
    credentials = write_broker_config(out, STATIONS, options)
    passwords = tomllib.loads(credentials.read_text())["passwords"]
    server = servers.run_mosquitto(out / "mosquitto.conf", port, tmp_path)
    yield server, passwords
    server.stop()


class Client:
    """A paho client that records what it receives and how its connection went."""

    def __init__(self, port: int, user: str | None, password: str | None) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: queue.Queue[str] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{id(self)}")
        if user:
            self.client.username_pw_set(user, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.put(str(rc))
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.result = self.connected.get(timeout=10)

    def subscribe(self, topic: str) -> None:
        done: queue.Queue[bool] = queue.Queue()
        self.client.on_subscribe = lambda *a: done.put(True)
        self.client.subscribe(topic, qos=1)
        done.get(timeout=10)

    def publish(self, topic: str, body: bytes) -> None:
        self.client.publish(topic, body, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_station_cannot_publish_as_another(broker) -> None:
    server, pw = broker
    gateway = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
    gateway.subscribe("classnet/v1/+/obs")
    manila = Client(server.port, "ph-manila-01", pw["ph-manila-01"])
    assert manila.result == "Success"
    manila.publish("classnet/v1/fi-tampere-hervanta/obs", b'{"ts": 1763884800, "temp_c": -40}')
    manila.publish("classnet/v1/ph-manila-01/obs", b'{"ts": 1763884800, "temp_c": 31}')
    # Mosquitto delivers one client's messages in order: once the second arrived, the first
    # would have arrived before it if the ACL had let it through.
    assert gateway.messages.get(timeout=10) == (
        "classnet/v1/ph-manila-01/obs",
        b'{"ts": 1763884800, "temp_c": 31}',
    )
    assert gateway.messages.empty()
    manila.close()
    gateway.close()


def test_anonymous_and_wrong_password_are_refused(broker) -> None:
    server, _ = broker
    assert Client(server.port, None, None).result == "Not authorized"
    assert Client(server.port, "ph-manila-01", "guess").result == "Not authorized"


def test_gateway_and_dashboard_cannot_publish(broker) -> None:
    server, pw = broker
    watcher = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
    watcher.subscribe("classnet/v1/+/status")
    for user in (GATEWAY_USER, DASHBOARD_USER):
        intruder = Client(server.port, user, pw[user])
        intruder.publish("classnet/v1/ph-manila-01/status", b'{"state": "offline"}')
        intruder.close()
    station = Client(server.port, "ph-manila-01", pw["ph-manila-01"])
    station.publish("classnet/v1/ph-manila-01/status", b'{"state": "online"}')
    assert watcher.messages.get(timeout=10)[1] == b'{"state": "online"}'
    assert watcher.messages.empty()


def test_gateway_may_read_through_a_shared_subscription(broker) -> None:
    server, pw = broker
    gateway = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
    gateway.subscribe("$share/classnet/classnet/v1/+/obs")
    station = Client(server.port, "fi-tampere-hervanta", pw["fi-tampere-hervanta"])
    station.publish("classnet/v1/fi-tampere-hervanta/obs", b'{"ts": 1763884800}')
    assert gateway.messages.get(timeout=10)[0] == "classnet/v1/fi-tampere-hervanta/obs"


def test_broker_takes_the_network_settings(tmp_path: Path) -> None:
    write_broker_config(tmp_path, STATIONS, BrokerOptions(data_dir=tmp_path))
    conf = (tmp_path / "mosquitto.conf").read_text()
    for line in (
        "allow_anonymous false",
        "max_queued_messages 1000000",
        "max_packet_size 66560",
        "persistence true",
        "persistent_client_expiration 14d",
    ):
        assert line in conf.splitlines()


def test_passwords_are_private_and_kept_when_run_again(tmp_path: Path) -> None:
    first = write_broker_config(tmp_path, ["ph-manila-01"], BrokerOptions())
    before = tomllib.loads(first.read_text())["passwords"]
    write_broker_config(tmp_path, ["ph-manila-01", "sg-raffles"], BrokerOptions())
    after = tomllib.loads(first.read_text())["passwords"]
    assert after["ph-manila-01"] == before["ph-manila-01"]
    assert "sg-raffles" in after
    assert stat.S_IMODE(os.stat(tmp_path / "credentials.toml").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "passwd").st_mode) == 0o640  # hashes, for the broker


def test_password_hash_is_mosquittos_pbkdf2_format() -> None:
    # Reproduces the line `mosquitto_passwd` 2.0 writes for this salt, with 1000 iterations:
    # $7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password, salt)>.
    line = password_hash("secret123", salt=bytes(range(12)))
    assert line.startswith("$7$1000$AAECAwQFBgcICQoL$")
    assert len(line.rsplit("$", 1)[1]) == 88  # 64 bytes of SHA-512 in base64


def test_cli_writes_config_and_never_prints_secrets(tmp_path: Path, capsys) -> None:
    rc = classnet(
        ["broker-config", "--station", "ph-manila-01", "--out", str(tmp_path / "b"),
         "--data-dir", str(tmp_path)]
    )  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    passwords = tomllib.loads((tmp_path / "b" / "credentials.toml").read_text())["passwords"]
    assert all(pw not in printed for pw in passwords.values())
    assert "credentials.toml" in printed
