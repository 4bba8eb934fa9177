"""The gateway's PUBACKs for a batch go out as one write (gateway.broker.ack_all): a real
Mosquitto takes them as acknowledgements, so a resumed session gets nothing redelivered, and
without them it gets everything again."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway import broker
from ingest import open_store
from tests import servers
from tests.gateway.chain import start_gateway
from tests.gateway.test_chain import END, START, obs_messages
from tests.mqtt_clients import publish
from tests.waiting import wait_until

TOPIC = "classnet/v1/fi-ack-01/obs"
MARKER = b"marker"


def session(port: int, received: list[mqtt.MQTTMessage], client_id: str) -> mqtt.Client:
    """A persistent session with manual acks, as the gateway's, subscribed to TOPIC; returned
    once the broker has confirmed the subscription (SUBACK)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
    )
    subscribed = threading.Event()
    client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, msg: received.append(msg)
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_until(subscribed.is_set, what=f"the SUBACK for {client_id}")
    return client


def close(client: mqtt.Client) -> None:
    assert broker.flush(client, 10), "the broker did not answer"  # the acks are in
    client.disconnect()
    client.loop_stop()


def redelivered(port: int, client_id: str) -> list[bytes]:
    """What the broker hands a resumed session again. It re-sends a session's unacknowledged
    messages on reconnection, before anything published afterwards on the same topic (MQTT 3.1.1
    §4.6), so a marker published then arrives after all of them."""
    received: list[mqtt.MQTTMessage] = []
    client = session(port, received, client_id)
    try:
        publish(port, [(TOPIC, MARKER)])
        wait_until(lambda: any(m.payload == MARKER for m in received), what="the marker")
    finally:
        close(client)
    return [m.payload for m in received if m.payload != MARKER]


@pytest.mark.parametrize("acked", [True, False], ids=["acked", "not-acked"])
def test_a_batch_of_acks_in_one_write_is_taken_by_the_broker(
    mosquitto: servers.Server, acked: bool
) -> None:
    received: list[mqtt.MQTTMessage] = []
    close(session(mosquitto.port, received, "ack-test"))  # the session exists before the messages
    n = 3000  # packet identifiers wrap past 65535 only on a long run; these span 1..3000
    publish(mosquitto.port, [(TOPIC, b'{"ts":%d}' % i) for i in range(n)])
    client = session(mosquitto.port, received, "ack-test")
    wait_until(lambda: len(received) == n, what=f"{n} messages")
    if acked:
        broker.ack_all(client, [m.mid for m in received])
    close(client)
    assert len(redelivered(mosquitto.port, "ack-test")) == (0 if acked else n)


def test_a_qos_0_message_is_stored_and_not_acked(
    mosquitto: servers.Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A QoS 0 publish (a teacher's `mosquitto_pub` without -q) reaches the gateway at QoS 0,
    with no packet identifier: there is nothing to acknowledge. A PUBACK for identifier 0 is a
    protocol error (MQTT 3.1.1 §2.3.1) for which the broker drops the connection, and with it
    the acks of the rest of the batch."""
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    messages = obs_messages(21)
    with caplog.at_level(logging.INFO, logger="classnet.gateway"):
        gateway = start_gateway(mosquitto.port, store, tmp_path / "spool", client_id="gw-ack")
        try:
            publish(mosquitto.port, messages[:1], qos=0)
            publish(mosquitto.port, messages[1:])
            wait_until(lambda: len(store.read(START, END)) == 21, what="21 stored")
        finally:
            gateway.stop()
    assert "lost broker" not in caplog.text
    assert redelivered(mosquitto.port, "gw-ack") == []
