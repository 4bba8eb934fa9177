"""A broker configured exactly as `classnet broker-config` writes it, and a recording client."""

from __future__ import annotations

import getpass
import queue
import tomllib
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.domain.broker_config import BrokerOptions, write_broker_config
from tests import servers


def start_network_broker(
    tmp_path: Path, stations: list[str], gateways: int = 1, max_queued_mib: int = 1024
) -> tuple[servers.Server, dict[str, str]]:
    """Mosquitto with the generated mosquitto.conf, passwd and acl; returns it and the passwords."""
    port = servers.free_port()
    data = tmp_path / "broker-data"
    data.mkdir()
    options = BrokerOptions(
        port=port,
        bind="127.0.0.1",
        data_dir=data,
        run_as=getpass.getuser(),
        gateways=gateways,
        max_queued_mib=max_queued_mib,
    )
    credentials = write_broker_config(tmp_path / "broker", stations, options)
    passwords = tomllib.loads(credentials.read_text())["passwords"]
    return servers.run_mosquitto(tmp_path / "broker" / "mosquitto.conf", port, data), passwords


class Client:
    """A paho client that records what it receives and how its connection went."""

    def __init__(
        self,
        port: int,
        user: str | None,
        password: str | None,
        client_id: str | None = None,
        clean_session: bool = True,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: queue.Queue[str] = queue.Queue()
        self.disconnects = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{user}-{id(self)}",
            clean_session=clean_session,
            manual_ack=manual_ack,
        )
        self.manual_ack = manual_ack
        self._unacked: list[int] = []
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.on_disconnect = self._on_disconnect
        if user:
            self.client.username_pw_set(user, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.put(str(rc))
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.result = self.connected.get(timeout=10)

    def subscribe(self, topic: str) -> None:
        done: queue.Queue[bool] = queue.Queue()
        self.client.on_subscribe = lambda *a: done.put(True)
        self.client.subscribe(topic, qos=1)
        done.get(timeout=10)

    def publish(self, topic: str, body: bytes, retain: bool = False) -> None:
        self.client.publish(topic, body, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_disconnect(self, *args: object) -> None:
        self.disconnects += 1

    def _on_message(self, client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        self.messages.put((m.topic, m.payload))
        if self.manual_ack:
            self._unacked.append(m.mid)
            if getattr(self, "_acking", False):
                client.ack(m.mid, 1)

    def ack_all(self) -> None:
        """Acknowledge what arrived, and from now on each message as it arrives."""
        self._acking = True
        for mid in self._unacked:
            self.client.ack(mid, 1)

    def next_acked(self, timeout: float) -> bytes:
        return bytes(self.messages.get(timeout=timeout)[1])
