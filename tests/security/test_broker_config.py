"""`classnet broker-config` against a real Mosquitto: one login per station, each confined to
its own topics; anonymous clients refused; the gateway and dashboard read-only."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cli import main as classnet
from ingest.domain.broker_config import (
    DASHBOARD_USER,
    GATEWAY_USER,
    BrokerOptions,
    password_hash,
    write_broker_config,
)
from tests import servers
from tests.security.network import Client, start_network_broker

STATIONS = ["fi-tampere-hervanta", "ph-manila-01"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[servers.Server, dict[str, str]]]:
    server, passwords = start_network_broker(tmp_path, STATIONS)
    yield server, passwords
    server.stop()


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
    # The gateway tries on the watcher's own connection: a second one under its login would
    # take the watcher's client id (the broker makes the login the id).
    watcher.publish("classnet/v1/ph-manila-01/status", b'{"state": "offline"}')
    intruder = Client(server.port, DASHBOARD_USER, pw[DASHBOARD_USER])
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
        "max_queued_bytes 1073741824",
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


def test_a_station_cannot_fill_the_brokers_memory_while_the_gateway_is_away(
    tmp_path: Path,
) -> None:
    server, pw = start_network_broker(tmp_path, STATIONS, max_queued_mib=1)
    try:
        gateway = Client(
            server.port, GATEWAY_USER, pw[GATEWAY_USER], client_id=GATEWAY_USER, clean_session=False
        )
        gateway.subscribe("classnet/v1/+/obs")
        gateway.close()  # away: the broker queues for its session
        station = Client(server.port, "ph-manila-01", pw["ph-manila-01"])
        big = b"[" + b" " * (60 * 1024) + b"]"
        for _ in range(100):  # 6 MB, the reported attack with 64 KiB messages
            station.publish("classnet/v1/ph-manila-01/obs", big)
        gateway = Client(
            server.port, GATEWAY_USER, pw[GATEWAY_USER], client_id=GATEWAY_USER, clean_session=False
        )
        station.publish("classnet/v1/ph-manila-01/obs", b"{}")  # arrives after the queue
        bodies = iter(lambda: gateway.messages.get(timeout=10)[1], b"{}")
        held = sum(len(body) for body in bodies)
        # 1 MiB: what max_queued_bytes lets one session hold, and no more than one message over.
        assert 0 < held <= (1 << 20) + len(big)
        gateway.close()
        station.close()
    finally:
        server.stop()


def test_with_tls_the_plain_listener_stays_on_localhost_and_paths_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("cert.pem", "key.pem"):
        (tmp_path / name).write_text("")
    tls = BrokerOptions(tls_port=8883, tls_cert=Path("cert.pem"), tls_key=Path("key.pem"))
    write_broker_config(tmp_path / "b", STATIONS, tls)
    lines = (tmp_path / "b" / "mosquitto.conf").read_text().splitlines()
    assert "listener 1883 127.0.0.1" in lines  # passwords in clear only on this machine
    assert "listener 8883" in lines
    assert f"certfile {tmp_path / 'cert.pem'}" in lines
    assert f"keyfile {tmp_path / 'key.pem'}" in lines
    assert lines.count("use_username_as_clientid true") == 2  # a listener setting: on both
    write_broker_config(tmp_path / "c", STATIONS, replace(tls, plain_bind="any"))
    assert "listener 1883" in (tmp_path / "c" / "mosquitto.conf").read_text().splitlines()


def test_a_connected_gateway_that_does_not_ack_holds_bounded_bytes(tmp_path: Path) -> None:
    # A gateway whose store is slow acknowledges nothing for a while: what the broker holds for
    # it in flight and queued stays within max_inflight_bytes + max_queued_bytes.
    # (The broker handles one connection's packets in order: after the SUBACK below it has
    # taken the acknowledgements sent before, so the marker finds room in the queue.)
    server, pw = start_network_broker(tmp_path, STATIONS, max_queued_mib=1)
    try:
        gateway = Client(
            server.port, GATEWAY_USER, pw[GATEWAY_USER], clean_session=False, manual_ack=True
        )
        gateway.subscribe("classnet/v1/+/obs")
        station = Client(server.port, "ph-manila-01", pw["ph-manila-01"])
        big = b"[" + b" " * (60 * 1024) + b"]"
        for _ in range(100):  # 6 MB while nothing is acknowledged
            station.publish("classnet/v1/ph-manila-01/obs", big)
        gateway.ack_all()  # the store is back: what was held comes, then the marker
        gateway.subscribe("classnet/v1/+/obs")  # SUBACK: the broker has taken the acks before
        station.publish("classnet/v1/ph-manila-01/obs", b"{}")
        held = 0
        while (body := gateway.next_acked(timeout=10)) != b"{}":
            held += len(body)
        assert 0 < held <= (1 << 20) + (1 << 18) + 2 * len(big)  # queued + in flight, no more
        gateway.close()
        station.close()
    finally:
        server.stop()


def test_cli_options_for_share_groups_queues_and_the_plain_listener(tmp_path: Path) -> None:
    for name in ("cert.pem", "key.pem"):
        (tmp_path / name).write_text("")
    out = tmp_path / "b"
    rc = classnet(
        ["broker-config", "--station", "ph-manila-01", "--out", str(out),
         "--data-dir", str(tmp_path), "--gateways", "3", "--max-queued-mib", "64",
         "--tls-port", "8883", "--tls-cert", str(tmp_path / "cert.pem"),
         "--tls-key", str(tmp_path / "key.pem"), "--plain-bind", "10.0.0.5"]
    )  # fmt: skip
    assert rc == 0
    passwords = tomllib.loads((out / "credentials.toml").read_text())["passwords"]
    assert {"classnet-gateway", "classnet-gateway-2", "classnet-gateway-3"} <= set(passwords)
    lines = (out / "mosquitto.conf").read_text().splitlines()
    assert "listener 1883 10.0.0.5" in lines
    assert f"max_queued_bytes {64 << 20}" in lines and f"max_inflight_bytes {16 << 20}" in lines
    acl = (out / "acl").read_text()
    assert "user classnet-gateway-3\ntopic read classnet/v1/+/obs" in acl
    assert "pattern" not in acl.replace("No pattern lines", "")
