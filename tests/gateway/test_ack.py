"""The gateway's PUBACKs for a batch go out as one write (gateway.broker.ack_all): a real
Mosquitto takes them as acknowledgements, so a resumed session gets nothing redelivered, and
without them it gets everything again."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway import broker
from tests import servers
from tests.gateway.chain import publish, wait_until

TOPIC = "classnet/v1/fi-ack-01/obs"


def session(port: int, received: list[mqtt.MQTTMessage]) -> mqtt.Client:
    """A persistent session with manual acks, as the gateway's, subscribed to TOPIC."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="ack-test", clean_session=False, manual_ack=True
    )
    client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
    client.on_message = lambda _c, _u, msg: received.append(msg)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def close(client: mqtt.Client) -> None:
    time.sleep(0.3)  # the acks (or their absence) reach the broker before DISCONNECT
    client.disconnect()
    client.loop_stop()


@pytest.mark.parametrize("acked", [True, False], ids=["acked", "not-acked"])
def test_a_batch_of_acks_in_one_write_is_taken_by_the_broker(
    mosquitto: servers.Server, acked: bool
) -> None:
    received: list[mqtt.MQTTMessage] = []
    close(session(mosquitto.port, received))  # the session exists before the messages
    n = 3000  # packet identifiers wrap past 65535 only on a long run; these span 1..3000
    publish(mosquitto.port, [(TOPIC, b'{"ts":%d}' % i) for i in range(n)])
    client = session(mosquitto.port, received)
    wait_until(lambda: len(received) == n, what=f"{n} messages")
    if acked:
        broker.ack_all(client, [m.mid for m in received])
    close(client)

    again: list[mqtt.MQTTMessage] = []
    client = session(mosquitto.port, again)
    time.sleep(1.0)
    close(client)
    assert len(again) == (0 if acked else n)
