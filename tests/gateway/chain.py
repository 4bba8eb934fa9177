"""Helpers for driving the real chain in tests: a gateway in this process, a paho publisher."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.service import Gateway, Settings
from ingest.base import Store
from ingest.domain.broker import BrokerURL


def start_gateway(
    port: int, store: Store, spool_dir: Path, client_id: str = "gw-test", **options: int
) -> Gateway:
    settings = Settings(
        broker=BrokerURL("127.0.0.1", port),
        client_id=client_id,
        spool_dir=spool_dir,
        **options,  # type: ignore[arg-type]
    )
    gateway = Gateway(settings, store)
    gateway.start()
    assert gateway.wait_ready(10), "gateway did not subscribe at the test broker"
    return gateway


def publish(
    port: int, messages: Iterable[tuple[str, bytes]], retain: bool = False, qos: int = 1
) -> int:
    """Publish (QoS 1 by default) and return once the broker has taken every message."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}")
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


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
