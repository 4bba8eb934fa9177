"""Readiness tells the truth: the gateway is ready (`wait_ready()`, `/healthz` 200,
`classnet_broker_connected 1`) once the broker has answered its SUBSCRIBE with a SUBACK granting
QoS 1, not when it has merely connected: before the SUBACK the broker may not route a single
observation to it, and at QoS 0 nothing it receives is redelivered after a crash."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.service import Gateway, Settings
from ingest import open_store
from ingest.domain.broker import BrokerURL
from tests import servers
from tests.gateway.test_chain import END, START, obs_messages
from tests.mqtt_clients import publish
from tests.waiting import wait_until

CONNACK_BYTES = 4  # MQTT 3.1.1 §3.2: 0x20, remaining length 2, flags, return code


class HoldingRelay:
    """A TCP relay in front of the real broker that passes the broker's CONNACK and then holds
    back everything else the broker sends (the SUBACK first) until `release()`: a broker that
    is slow to answer, as one far away or busy is. What the client sends passes straight on."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.released = threading.Event()
        self.connack_passed = threading.Event()
        self.subscribe_seen = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return  # closed
        upstream = socket.create_connection(("127.0.0.1", self.broker_port))
        self._sockets += [client, upstream]
        threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump_down, args=(upstream, client), daemon=True).start()

    def _pump_up(self, src: socket.socket, dst: socket.socket) -> None:
        while data := self._recv(src):
            # The client's first packet after the CONNACK, by its fixed header (§3.8.1: 0x82)
            if self.connack_passed.is_set() and data[0] == 0x82:
                self.subscribe_seen.set()
            self._send(dst, data)

    def _pump_down(self, src: socket.socket, dst: socket.socket) -> None:
        passed = 0
        while data := self._recv(src):
            if passed < CONNACK_BYTES:
                head, data = data[: CONNACK_BYTES - passed], data[CONNACK_BYTES - passed :]
                passed += len(head)
                if passed == CONNACK_BYTES:  # before sending: the SUBSCRIBE may come back at once
                    self.connack_passed.set()
                self._send(dst, head)
            if data:
                self.released.wait()
                self._send(dst, data)

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):  # closed at the end of the test
            sock.sendall(data)

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        for s in self._sockets:
            s.close()


@pytest.fixture
def relay(mosquitto: servers.Server) -> Iterator[HoldingRelay]:
    r = HoldingRelay(mosquitto.port)
    yield r
    r.close()


def gateway_on(port: int, tmp_path: Path) -> Gateway:
    settings = Settings(
        broker=BrokerURL("127.0.0.1", port), client_id="gw-ready", spool_dir=tmp_path / "spool"
    )
    return Gateway(settings, open_store(f"sqlite:///{tmp_path / 'obs.db'}"))


def test_connected_is_not_ready_until_the_suback_arrives(
    mosquitto: servers.Server,
    relay: HoldingRelay,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = gateway_on(relay.port, tmp_path)
    with caplog.at_level(logging.INFO, logger="classnet.gateway"):
        gateway.start()
        try:
            # The CONNACK is through and the SUBSCRIBE is out; the SUBACK is held at the relay.
            wait_until(lambda: "connected to" in caplog.text, what="the CONNACK")
            assert relay.subscribe_seen.wait(10)
            ok, text = gateway.health()
            assert not ok and text == f"subscribing at broker mqtt://127.0.0.1:{relay.port}"
            assert gateway.metrics.connected._value.get() == 0
            assert not gateway.wait_ready(0.2)

            relay.release()
            assert gateway.wait_ready(10)
            assert gateway.health() == (True, "ok; spool 0 batches")
            assert gateway.metrics.connected._value.get() == 1
            # Ready means routed: what is published now reaches the store, no pause needed.
            publish(mosquitto.port, obs_messages(5))
            wait_until(lambda: len(gateway.store.read(START, END)) == 5, what="5 stored")
        finally:
            gateway.stop()


def test_a_broker_that_grants_only_qos_0_leaves_the_gateway_unready_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = servers.start_mosquitto(tmp_path / "mosquitto", extra_conf="max_qos 0\n")
    gateway = gateway_on(broker.port, tmp_path)
    try:
        with caplog.at_level(logging.ERROR, logger="classnet.gateway"):
            gateway.start()
            wait_until(lambda: "granted QoS 0" in caplog.text, what="the error")
            assert not gateway.wait_ready(0.2)
        ok, text = gateway.health()
        assert not ok
        expected = (
            f"broker mqtt://127.0.0.1:{broker.port} granted QoS 0 for classnet/v1/+/obs, "
            "classnet/v1/+/status, classnet/v1/+/meta: what the gateway receives would not be "
            "redelivered after a crash; allow QoS 1 (Mosquitto: max_qos)"
        )
        assert text == expected
        assert expected in caplog.text
    finally:
        gateway.stop(timeout=5)
        broker.stop()


def test_a_resumed_session_is_ready_at_the_connack(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    """The broker kept the session's subscriptions, and on reconnection it sends the backlog it
    queued before it answers the new SUBSCRIBE: ready must not wait for megabytes."""
    first = gateway_on(mosquitto.port, tmp_path)
    first.start()
    assert first.wait_ready(10)
    first.stop()
    relay = HoldingRelay(mosquitto.port)
    gateway = gateway_on(relay.port, tmp_path)  # the same client id: the session resumes
    gateway.start()
    try:
        assert gateway.wait_ready(10)
        assert relay.subscribe_seen.wait(10) and not relay.released.is_set()  # SUBACK held
        assert gateway.health() == (True, "ok; spool 0 batches")
    finally:
        relay.close()
        gateway.stop(timeout=5)
