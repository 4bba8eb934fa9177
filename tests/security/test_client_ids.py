"""Attacks on sessions through client ids, against a real Mosquitto with the configuration
`classnet broker-config` writes: a station login asking for the gateway's id, another station's id
or a share-group member's id gets its own login's id instead, and the victim keeps its session."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware import wire
from gateway.broker import stable_client_id
from gateway.service import Gateway, Settings
from ingest import open_store
from ingest.domain.broker import BrokerURL
from ingest.domain.broker_config import COORDINATOR_USER, DASHBOARD_USER, GATEWAY_USER
from tests import servers
from tests.security.network import Client, start_network_broker
from tests.waiting import wait_until

VICTIM, ATTACKER, OTHER = "fi-tampere-hervanta", "ph-manila-01", "sg-raffles"
MEMBER_2 = f"{GATEWAY_USER}-2"
T0 = time.time() - 600


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[servers.Server, dict[str, str]]]:
    server, passwords = start_network_broker(tmp_path, [VICTIM, ATTACKER, OTHER], gateways=2)
    yield server, passwords
    server.stop()


def _obs(i: int) -> bytes:
    return wire.encode(wire.observation(T0 + i, seq=i, temp_c=20.0))


def test_a_station_cannot_take_the_gateways_session(
    network, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, pw = network
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    login = BrokerURL("127.0.0.1", server.port, user=GATEWAY_USER, password=pw[GATEWAY_USER])
    settings = Settings(
        broker=login,
        client_id=stable_client_id(str(login), "", url),  # the id `classnet gateway` derives
        spool_dir=tmp_path / "spool",
        batch_ms=100,
    )
    gateway = Gateway(settings, open_store(url))
    reader = open_store(url)
    caplog.set_level(logging.INFO, logger="classnet.gateway")
    gateway.start()
    victim = Client(server.port, VICTIM, pw[VICTIM])
    try:
        assert gateway.wait_ready(10)
        # Subscribed once the retained metadata reached the registry.
        victim.publish(wire.topic(VICTIM, "meta"), b'{"name": "Hervanta"}', retain=True)
        wait_until(lambda: VICTIM in reader.stations().index, what="the gateway's subscription")
        n, takeovers = 100, 0
        for i in range(n):
            victim.publish(wire.topic(VICTIM, "obs"), _obs(i))
            if i % 15 == 0:  # the reported attack: reconnect with the gateway's id, clean session
                for stolen in (settings.client_id, GATEWAY_USER):
                    attacker = Client(server.port, ATTACKER, pw[ATTACKER], client_id=stolen)
                    assert attacker.result == "Success"  # connected, but under its own id
                    attacker.close()
                    takeovers += 1
        start = datetime.now(UTC) - timedelta(hours=1)
        end = datetime.now(UTC) + timedelta(minutes=5)
        wait_until(lambda: len(reader.read(start, end)) >= n, what=f"{n} observations stored")
        assert len(reader.read(start, end)) == n
        assert takeovers == 14
        assert "lost broker" not in caplog.text
    finally:
        victim.close()
        gateway.stop()
        reader.close()


def test_a_station_cannot_kick_another_station(network) -> None:
    server, pw = network
    watcher = Client(server.port, DASHBOARD_USER, pw[DASHBOARD_USER])
    watcher.subscribe(f"{wire.TOPIC_PREFIX}+/status")
    status = wire.topic(VICTIM, "status")
    victim = Client(
        server.port, VICTIM, pw[VICTIM], client_id=VICTIM, will=(status, b'{"state":"offline"}')
    )
    victim.publish(status, b'{"state":"online"}', retain=True)
    assert watcher.messages.get(timeout=10) == (status, b'{"state":"online"}')
    for stolen in (VICTIM, MEMBER_2):
        attacker = Client(server.port, ATTACKER, pw[ATTACKER], client_id=stolen)
        assert attacker.result == "Success"
        attacker.close()
    # Had the broker closed the victim's connection, its will would have reached the watcher
    # before this (one broker thread, one watcher: delivery in the order the broker saw them).
    victim.publish(status, b'{"state":"online","n":2}', retain=True)
    assert watcher.messages.get(timeout=10) == (status, b'{"state":"online","n":2}')
    assert victim.disconnects == 0
    victim.close()
    watcher.close()


def test_a_share_group_member_keeps_its_session(network) -> None:
    server, pw = network
    share = f"$share/classnet/{wire.TOPIC_PREFIX}+/obs"
    member = Client(server.port, MEMBER_2, pw[MEMBER_2], client_id=MEMBER_2, clean_session=False)
    member.subscribe(share)
    station = Client(server.port, OTHER, pw[OTHER])
    n = 30
    for i in range(n):
        station.publish(wire.topic(OTHER, "obs"), _obs(i))
        if i % 10 == 0:  # a station, and the group's other gateway, ask for member 2's id
            for user in (ATTACKER, GATEWAY_USER):
                attacker = Client(server.port, user, pw[user], client_id=MEMBER_2)
                assert attacker.result == "Success"
                attacker.close()
    received = [member.messages.get(timeout=10) for _ in range(n)]
    assert [body for _, body in received] == [_obs(i) for i in range(n)]
    assert member.disconnects == 0
    member.close()
    station.close()


def test_service_logins_publish_nowhere_but_their_role(network) -> None:
    server, pw = network
    watcher = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
    for kind in ("obs", "status", "meta"):
        watcher.subscribe(f"{wire.TOPIC_PREFIX}+/{kind}")
    # One connection per login (a second one would take the first's id): the watcher tries too.
    intruders = [
        Client(server.port, u, pw[u]) for u in (MEMBER_2, DASHBOARD_USER, COORDINATOR_USER)
    ]
    for user, intruder in zip(
        (GATEWAY_USER, MEMBER_2, DASHBOARD_USER, COORDINATOR_USER),
        [watcher, *intruders],
        strict=True,
    ):
        for kind in ("obs", "status", "meta"):
            intruder.publish(f"{wire.TOPIC_PREFIX}{user}/{kind}", b'{"ts": 1763884800}')
        intruder.publish(wire.topic(VICTIM, "obs"), b'{"ts": 1763884800}')
    # The coordinator's role: correcting a station's metadata. It arrives; nothing above did.
    coordinator = intruders[-1]
    coordinator.publish(wire.topic(VICTIM, "meta"), b'{"name": "Hervanta"}')
    assert watcher.messages.get(timeout=10) == (wire.topic(VICTIM, "meta"), b'{"name": "Hervanta"}')
    assert watcher.messages.empty()
    for client in (watcher, *intruders):
        assert client.disconnects == 0
        client.close()
