"""The MQTT clients tests use against the real broker: a subscriber that is ready when the broker
has acknowledged its subscription (SUBACK), and a publisher that returns when every message is
acknowledged (PUBACK)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.waiting import wait_until


class Subscriber:
    """Records every message under `topic`, in arrival order, with the time it arrived.

    `clean_session=False` keeps a persistent session (as the gateway does), so messages the broker
    queued while the subscriber was away arrive when it reconnects; it subscribes again on every
    connect, and `ready` is set by each SUBACK."""

    def __init__(
        self,
        port: int,
        topic: str = "classnet/#",
        client_id: str | None = None,
        clean_session: bool = True,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.topic = topic
        self.messages: list[tuple[str, bytes, bool]] = []
        self.arrived: list[float] = []  # time.time() of each message, as the gateway stamps it
        self.ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{time.monotonic_ns()}",
            clean_session=clean_session,
        )
        if user:
            self.client.username_pw_set(user, password)
        # Back soon after a broker restart (the fault and firmware tests restart it).
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.ready.set()
        self.client.on_disconnect = lambda *_: self.ready.clear()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self.ready.wait(timeout):
            self.close()
            raise AssertionError(f"no SUBACK for {topic} within {timeout:.0f} s")

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: object,
                    props: object) -> None:  # fmt: skip
        self.ready.clear()
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        self.arrived.append(time.time())
        self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))

    def payloads(self, kind: str = "obs") -> list[bytes]:
        """The bodies of the messages whose topic ends in `/kind`."""
        return [p for t, p, _ in self.messages if t.endswith(f"/{kind}")]

    def wait(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        wait_until(predicate, timeout, f"messages on {self.topic} (got {len(self.messages)})")

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        self.wait(lambda: len(self.messages) >= count, timeout)

    def wait_ready(self, timeout: float = 15.0) -> None:
        """After a reconnect: wait until the broker has acknowledged the subscription again."""
        wait_until(self.ready.is_set, timeout, f"SUBACK for {self.topic}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def publish(
    port: int,
    messages: Iterable[tuple[str, bytes | str]],
    retain: bool = False,
    qos: int = 1,
    client_id: str | None = None,
    user: str | None = None,
    password: str | None = None,
) -> int:
    """Publish (QoS 1 by default); return, with the count, once the broker has taken every
    message (acknowledged it, at QoS 1)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or f"test-pub-{time.monotonic_ns()}"
    )
    if user:
        client.username_pw_set(user, password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(t, p, qos=qos, retain=retain) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
    return len(infos)
