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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from firmware import wire

KEEPALIVE_S = 60
FLUSH_FILTER = "classnet/flush"  # subscribed by no one: see flush()
READ_BYTES = 1 << 16  # one recv() for a few hundred observations in a backlog
PACKETS_PER_READ = 1000  # then paho's loop sends queued acks and keeps the connection alive


class ReadAhead:
    """The connection's socket, read in `READ_BYTES` chunks. paho asks for each packet in three
    reads (its type byte, its length, the rest), each a syscall; this serves them from one read.
    `pending()` counts what is held here (and in a TLS socket's own buffer): paho's loop skips
    select's wait when it is non-zero, as it does for TLS, so nothing held here waits for the
    kernel to say the socket is readable."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._held = b""
        self._at = 0

    def recv(self, bufsize: int) -> bytes:
        if self._at >= len(self._held):
            self._held = self._sock.recv(max(bufsize, READ_BYTES))  # b"" when the peer closed
            self._at = 0
        chunk = self._held[self._at : self._at + bufsize]
        self._at += len(chunk)
        return chunk

    def held(self) -> int:
        return len(self._held) - self._at

    def pending(self) -> int:
        tls = getattr(self._sock, "pending", None)
        return self.held() + (tls() if tls else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)  # fileno, send, close, setblocking, ...


def parse_publish(header: int, packet: bytes | bytearray) -> tuple[str, bytes, int, int] | None:
    """(topic, payload, qos, packet id) of an MQTT 3.1.1 PUBLISH (§3.3): `header` is the fixed
    header's first byte, `packet` what follows the remaining length. None when it is malformed:
    shorter than its own lengths say, an empty topic, or QoS 3. The packet id of QoS 0 is 0.
    A topic that is not UTF-8 keeps its bytes as U+FFFD, for the decoder to reject by name.

    >>> parse_publish(0x32, bytes([0, 3]) + b"a/b" + bytes([0, 7]) + b"{}")
    ('a/b', b'{}', 1, 7)
    """
    qos = (header >> 1) & 3
    if len(packet) < 2 or qos == 3:
        return None
    body = 2 + ((packet[0] << 8) | packet[1])
    topic = packet[2:body]
    if not topic or len(packet) < body + (2 if qos else 0):
        return None
    mid = 0
    if qos:
        mid = (packet[body] << 8) | packet[body + 1]
        body += 2
    return bytes(topic).decode("utf-8", "replace"), bytes(packet[body:]), qos, mid


class IntakeClient(mqtt.Client):
    """The gateway's paho client: paho's connection, session, keepalive, acks and reconnects, with
    the receiving of observations made cheap, for a gateway takes them by the hundred thousand.

    Per message, paho's own path was most of the gateway's CPU (bench/gateway_chain.py): a
    select() and three recv()s (its loop takes one packet per turn when nothing of its own is
    in flight, as for a subscriber), then a PUBLISH decoded into an MQTTMessage with its
    MQTTMessageInfo and Condition, and its topic matched against per-topic callbacks. Here:
    - the socket is read ahead (`ReadAhead`), and every packet already read is handled, up to
      `PACKETS_PER_READ`, before paho's loop turns again (to send acks, keep the connection);
    - with manual acks, a QoS 0 or 1 PUBLISH goes straight to `on_incoming(topic, payload, qos,
      mid)` after `parse_publish`; anything else (and every PUBLISH while `on_incoming` is None)
      is paho's.
    `_create_socket` and `_handle_publish` are where paho 2.x (pinned below 3) opens a
    connection (TCP or TLS) and handles a PUBLISH; `tests/gateway/test_intake.py` checks this
    client against paho's own PUBLISH handling on a real broker."""

    on_incoming: Callable[[str, bytes, int, int], None] | None = None

    def _create_socket(self) -> Any:
        return ReadAhead(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        sock = self._sock
        for _ in range(PACKETS_PER_READ):
            if rc != mqtt.MQTT_ERR_SUCCESS or self._sock is not sock:
                break
            if not isinstance(sock, ReadAhead) or not sock.held():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        header = self._in_packet["command"]
        # QoS 2 (paho's PUBREC dance) and automatic acks are paho's to do.
        if self.on_incoming is None or not self._manual_ack or header & 0x06 == 0x04:
            return super()._handle_publish()
        parsed = parse_publish(header, self._in_packet["packet"])
        if parsed is None:
            return mqtt.MQTT_ERR_PROTOCOL
        self.on_incoming(*parsed)
        return mqtt.MQTT_ERR_SUCCESS


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
