"""The broker side: `--broker` URLs, the gateway's MQTT client and what it subscribes to.

The session is persistent (clean_session=False) and the client id stable, so the broker keeps
QoS 1 messages while the gateway is down and hands them to the same gateway when it returns.
Acknowledgement is manual: `Gateway` acks a message only once its batch is safe.

Receiving side of flow control: with MQTT 3.1.1 a client cannot limit what the broker sends it
(paho's max_inflight_messages_set and max_queued_messages_set are for the client's own
*publishes*), so the broker's `max_inflight_messages 0` is what lets a whole batch of unacked
messages be in flight at once; Mosquitto's default of 20 would stall every batch at 20 messages.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from firmware import wire

KEEPALIVE_S = 60
FLUSH_FILTER = "classnet/flush"  # subscribed by no one: see flush()


def ack_all(client: mqtt.Client, mids: Sequence[int]) -> None:
    """PUBACK (QoS 1) each message in `mids` with one socket write.

    paho's `client.ack()` queues a 4-byte packet per message, wakes its network thread, and that
    thread sends each with its own syscall: ~12 µs of interpreter time per message, about a
    tenth of the gateway's whole budget per message at 10,000 messages/s (bench/gateway_chain.py).
    The PUBACKs of a batch as one queued packet are the same bytes on the wire (MQTT 3.1.1
    §3.4.1: 0x40, remaining length 2, the packet identifier). `_packet_queue` is paho's own
    queue that `ack()` uses; a paho without it gets one `ack()` per message."""
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        for mid in mids:
            client.ack(mid, 1)
        return
    if len(mids):
        header = np.uint32(mqtt.PUBACK << 24 | 2 << 16)  # 0x40 0x02, then the identifier
        packets = (np.asarray(mids, dtype=np.uint32) | header).astype(">u4").tobytes()
        queue(mqtt.PUBACK, packets, 0, 0)


def flush(client: mqtt.Client, timeout: float) -> bool:
    """Return once the broker has handled everything sent on this connection so far (the acks
    above all), or False after `timeout` s. Acks written just before a DISCONNECT can be lost:
    Mosquitto 2.0 was seen to close the connection with PUBACKs still unread in its socket
    (tests/gateway/test_ack.py), and then it redelivers those messages. An UNSUBSCRIBE from a
    filter nobody subscribes changes nothing, and the broker answers it with an UNSUBACK after
    handling every packet sent before it (MQTT 3.1.1 §3.10.4, §4.6)."""
    done = threading.Event()
    previous = client.on_unsubscribe
    client.on_unsubscribe = lambda *args: done.set()
    try:
        rc, _mid = client.unsubscribe(FLUSH_FILTER)
        return rc == mqtt.MQTT_ERR_SUCCESS and done.wait(timeout)
    finally:
        client.on_unsubscribe = previous


def refused(topics: Sequence[str], granted: Sequence[Any]) -> str | None:
    """What is wrong with a SUBACK's grants for `topics` (paho's reason codes: the granted QoS,
    or 0x80 for a refusal), as the rest of a sentence about the broker; None when each topic
    has QoS 1."""
    failed = [t for t, code in zip(topics, granted, strict=True) if code.is_failure]
    if failed:
        return (
            f"refused the subscription to {', '.join(failed)}: allow the gateway's login to "
            "read them (Mosquitto: acl_file)"
        )
    qos0 = [t for t, code in zip(topics, granted, strict=True) if code.value < 1]
    if qos0:
        return (
            f"granted QoS 0 for {', '.join(qos0)}: what the gateway receives would not be "
            "redelivered after a crash; allow QoS 1 (Mosquitto: max_qos)"
        )
    return None


def stable_client_id(*parts: str) -> str:
    """The same command line gives the same id, so a restart resumes the broker's session."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    return f"classnet-gw-{digest}"


def subscriptions(share_group: str | None) -> list[tuple[str, int]]:
    """Observations are shared between the gateways of a group (`$share/NAME/…`); retained status
    and meta are not, because a shared subscription receives no retained messages (MQTT 5 §4.8.2)
    and every gateway's registry updates are idempotent anyway."""
    prefix = f"$share/{share_group}/" if share_group else ""
    return [
        (f"{prefix}{wire.TOPIC_PREFIX}+/obs", 1),
        (f"{wire.TOPIC_PREFIX}+/status", 1),
        (f"{wire.TOPIC_PREFIX}+/meta", 1),
    ]
