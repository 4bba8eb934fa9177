"""Publishing a fleet's messages to a real broker: a few shared connections, QoS 1.

One MQTT connection per simulated station is what real stations have, but 10,000 connections
(10,000 paho threads, sockets and keepalives) cost more than the simulation itself. So stations
share a small pool of connections (station k uses connection k mod N); the broker sees the same
topics and payloads either way. What a shared connection cannot have is a per-station last will:
a will belongs to a connection. Stations that need one get their own connection: with
`--dropped-will` (the broker must really fire the will), or all of them with `--own-connections`
(a demo of a few dozen stations). Pooled stations announce `{"state":"offline"}` themselves on a
clean stop, as a real station shutting down does.
"""

from __future__ import annotations

import collections
import json
import os
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from firmware import wire
from ingest.domain.broker import BrokerURL, connect_failure, make_client
from simulators.fleet import Send

# Unacknowledged publishes allowed before `send` waits for the broker: keeps memory bounded in a
# backfill, where messages are produced far faster than any broker takes them.
MAX_PENDING = 2000


class BrokerError(RuntimeError):
    """The broker cannot be reached or refused us; the message says which and how to fix it."""


def _client(url: BrokerURL, client_id: str, will_station: str | None) -> mqtt.Client:
    client = make_client(url, client_id, subscriber=False)  # login, password, TLS as parsed
    client.max_inflight_messages_set(100)
    if will_station is not None:
        client.will_set(
            wire.topic(will_station, "status"),
            json.dumps({"state": "offline"}),
            qos=1,
            retain=True,
        )
    return client


class Publisher:
    """Sends `Send`s: publishes on the station's connection, drops and reopens own connections."""

    def __init__(
        self,
        broker: BrokerURL,
        station_ids: tuple[str, ...],
        own: set[str],
        pool_size: int = 4,
        client_prefix: str = "classnet-sim",
    ) -> None:
        self._broker = broker
        if broker.user is not None:
            # A broker that binds client ids to logins (classnet broker-config) gives a login
            # one connection: a second under the same login would replace the first.
            if own:
                raise BrokerError(
                    f"{broker}: a connection per station (--own-connections, --dropped-will) "
                    "needs a login per station; use a broker without logins for those"
                )
            pool_size = 1
        pid = os.getpid()
        pooled = [s for s in station_ids if s not in own]
        self._pool = [
            _client(broker, f"{client_prefix}-{pid}-pool{i}", None)
            for i in range(min(max(1, pool_size), len(pooled)))
        ]
        self._own = {s: _client(broker, f"{client_prefix}-{s}", s) for s in sorted(own)}
        self._route: dict[str, mqtt.Client] = {}
        for i, station in enumerate(pooled):
            self._route[station] = self._pool[i % len(self._pool)]
        self._route.update(self._own)
        self._pending: collections.deque[mqtt.MQTTMessageInfo] = collections.deque()
        self.published = 0

    def _open(self, client: mqtt.Client) -> None:
        connected = threading.Event()
        refused: list[str] = []

        def on_connect(
            c: mqtt.Client, u: object, f: object, rc: mqtt.ReasonCode, p: object
        ) -> None:
            if rc.is_failure:
                refused.append(str(rc))
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(self._broker.host, self._broker.port, keepalive=30)
        except ssl.SSLError as exc:
            raise BrokerError(connect_failure(self._broker, exc)) from None
        except OSError as exc:
            raise BrokerError(
                f"cannot reach broker {self._broker} ({exc.strerror or exc});"
                " is it running? (--broker mqtt://host:port)"
            ) from None
        client.loop_start()
        if not connected.wait(15) or refused:
            client.loop_stop()
            why = refused[0] if refused else "no CONNACK within 15 s"
            raise BrokerError(f"broker {self._broker} refused us: {why}")

    def connect(self) -> None:
        for client in [*self._pool, *self._own.values()]:
            self._open(client)

    def send(self, send: Send) -> None:
        client = self._route[send.station]
        if send.action == "drop":
            self._settle()
            # Stop paho's loop, then close its socket under it: no DISCONNECT packet goes out, so
            # the broker treats it as a lost connection and publishes the will.
            client.loop_stop()
            sock = client.socket()
            if sock is not None:
                sock.close()
            return
        if send.action == "connect":
            client.reconnect()
            self._open_again(client)
            return
        info = client.publish(send.topic, send.payload, qos=1, retain=send.retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise BrokerError(f"publish to {send.topic} failed: {mqtt.error_string(info.rc)}")
        self.published += 1
        self._pending.append(info)
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft().wait_for_publish(60)

    def _open_again(self, client: mqtt.Client) -> None:
        connected = threading.Event()
        client.on_connect = lambda c, u, f, rc, p: connected.set()
        client.loop_start()
        if not connected.wait(15):
            raise BrokerError("station connection did not come back within 15 s")

    def _settle(self, timeout_s: float = 60.0) -> None:
        """Wait until the broker has acknowledged everything sent so far."""
        while self._pending:
            info = self._pending.popleft()
            info.wait_for_publish(timeout_s)
            if not info.is_published():
                raise BrokerError(f"broker did not acknowledge a message within {timeout_s:g} s")

    def close(self) -> None:
        self._settle()
        for client in [*self._pool, *self._own.values()]:
            client.disconnect()
            client.loop_stop()
